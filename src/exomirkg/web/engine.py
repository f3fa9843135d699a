"""Query evaluation in killable worker processes, so a timeout really stops a query.

pyoxigraph evaluates in Rust and cannot be interrupted from Python. Each query is sent
to a worker process that holds its own copy of the store; when the time limit passes the
worker is killed (SIGKILL) and a fresh one replaces it, while other workers keep answering.
Workers are fresh interpreters (``python -m exomirkg.web.engine``), not forks: forking a
threaded web server process is unsafe, and multiprocessing's spawn/forkserver re-import the
caller's ``__main__``. They load the store themselves and talk over two pipes.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["EngineBusy", "EngineTimeout", "Outcome", "QueryEngine", "StoreSource"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSource:
    """Where a worker gets its data: a TriG file (in memory) or an on-disk store folder."""

    trig: Path | None = None
    store_path: Path | None = None
    prefixes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One query and how to answer it; sent to a worker."""

    query: str
    media: str
    row_cap: int
    union: bool
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    #: Resolves relative IRIs in the query (the endpoint's URL, as the protocol suggests).
    base_iri: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: ``kind`` is "ok", "syntax" (bad query) or "error"."""

    kind: str
    body: bytes = b""
    message: str = ""
    rows: int = 0
    truncated: bool = False


class EngineTimeout(Exception):
    """The query ran past the time limit; its worker was killed."""


class EngineBusy(Exception):
    """Every worker stayed busy for the whole time limit."""


def _open_store(source: StoreSource):
    import pyoxigraph

    if source.store_path is not None:
        return pyoxigraph.Store.read_only(str(source.store_path))
    store = pyoxigraph.Store()
    if source.trig is not None:
        store.bulk_load(path=str(source.trig), format=pyoxigraph.RdfFormat.TRIG)
    return store


def _graphs(names: tuple[str, ...] | None):
    import pyoxigraph

    return None if names is None else [pyoxigraph.NamedNode(n) for n in names]


def evaluate(store: Any, job: Job, prefixes: dict[str, str]) -> Outcome:
    """Run one job against a store and serialise the answer (worker side)."""
    import pyoxigraph

    from exomirkg.web import results

    kwargs: dict[str, Any] = {"base_iri": job.base_iri}
    if job.default_graphs is not None or job.named_graphs is not None:
        # Protocol parameters win over FROM; a side not given is empty (SPARQL Protocol 2.1.4).
        kwargs["default_graph"] = _graphs(job.default_graphs or ())
        kwargs["named_graphs"] = _graphs(job.named_graphs or ())
    elif job.union:
        kwargs["use_default_graph_as_union"] = True
    try:
        answer = store.query(job.query, **kwargs)
        if isinstance(answer, pyoxigraph.QueryBoolean):
            written = results.write_boolean(bool(answer), job.media)
        elif isinstance(answer, pyoxigraph.QuerySolutions):
            names = [v.value for v in answer.variables]
            written = results.write_solutions(names, answer, job.media, job.row_cap)
        else:
            written = results.write_graph(answer, job.media, job.row_cap, prefixes)
    except SyntaxError as error:
        return Outcome("syntax", message=str(error))
    except (OSError, ValueError, RuntimeError, TypeError) as error:
        return Outcome("error", message=f"{type(error).__name__}: {error}")
    return Outcome("ok", body=written.body, rows=written.rows, truncated=written.truncated)


def _die_with_parent() -> None:
    """Exit when the parent process goes away, even mid-query.

    pyoxigraph releases the GIL while it evaluates, so this thread runs during a long query.
    (PR_SET_PDEATHSIG would fire when the spawning *thread* ends, i.e. after one request.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _worker_main(jobs: Connection, answers: Connection, source: StoreSource) -> None:
    """Worker loop: load the store once, then answer jobs until the pipe closes."""
    _die_with_parent()
    store = _open_store(source)
    answers.send("ready")
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        answers.send(evaluate(store, job, source.prefixes))


class _Worker:
    def __init__(self, source: StoreSource) -> None:
        job_read, job_write = os.pipe()
        answer_read, answer_write = os.pipe()
        spec = json.dumps({
            "trig": str(source.trig) if source.trig else None,
            "store_path": str(source.store_path) if source.store_path else None,
            "prefixes": source.prefixes,
        })
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "exomirkg.web.engine", str(job_read), str(answer_write),
             spec],
            pass_fds=(job_read, answer_write), stdin=subprocess.DEVNULL,
        )
        os.close(job_read)
        os.close(answer_write)
        self.conn_out = Connection(job_write, readable=False)
        self.conn = Connection(answer_read, writable=False)
        self.ready = False

    def send(self, job: Job) -> None:
        self.conn_out.send(job)

    def wait_ready(self, timeout: float) -> bool:
        if not self.ready and self.conn.poll(timeout):
            self.ready = self.conn.recv() == "ready"
        return self.ready

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.conn.close()
        self.conn_out.close()


def _stop_all(workers: list[_Worker]) -> None:
    for worker in list(workers):
        try:
            worker.kill()
        except (OSError, ValueError):  # already gone
            pass


class QueryEngine:
    """A fixed pool of query worker processes with a per-query time limit."""

    def __init__(self, source: StoreSource, *, size: int = 2, timeout: float = 30.0) -> None:
        """Prepare the pool; workers start on first use.

        :param source: where workers load the data from.
        :param size: number of worker processes (queries evaluated at once).
        :param timeout: seconds a query may run before its worker is killed.
        """
        self.source = source
        self.size = max(1, size)
        self.timeout = timeout
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = False
        self.kills = 0
        weakref.finalize(self, _stop_all, self._workers)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.source)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)

    def start(self) -> None:
        """Start the worker processes (idempotent)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def close(self) -> None:
        """Stop every worker."""
        _stop_all(self._workers)
        self._workers.clear()

    def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Evaluate ``job`` in a worker.

        :raises EngineBusy: no worker became free within the time limit.
        :raises EngineTimeout: the query ran out of time; its worker was killed and replaced.
        """
        limit = self.timeout if timeout is None else timeout
        self.start()
        try:
            worker = self._idle.get(timeout=limit)
        except queue.Empty:
            raise EngineBusy from None
        healthy = False
        try:
            # A fresh worker loads the store first; that time is not the query's.
            if not worker.wait_ready(max(limit, 60.0)):
                raise RuntimeError("query worker did not start")
            worker.send(job)
            if not worker.conn.poll(limit):
                self.kills += 1
                log.warning("query exceeded %.1f s; killing worker %s", limit, worker.process.pid)
                raise EngineTimeout
            outcome = worker.conn.recv()
            healthy = True
            return outcome
        except (EOFError, OSError, BrokenPipeError) as error:
            raise RuntimeError(f"query worker died: {error}") from None
        finally:
            if healthy:
                self._idle.put(worker)
            else:
                self._retire(worker)
                self._idle.put(self._spawn())


if __name__ == "__main__":
    # Run the loop from the importable module, so pickled classes are
    # exomirkg.web.engine.Outcome (what the parent expects), not __main__.Outcome.
    from exomirkg.web import engine as _engine

    _spec = json.loads(sys.argv[3])
    _engine._worker_main(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        _engine.StoreSource(
            trig=Path(_spec["trig"]) if _spec["trig"] else None,
            store_path=Path(_spec["store_path"]) if _spec["store_path"] else None,
            prefixes=_spec["prefixes"],
        ),
    )
