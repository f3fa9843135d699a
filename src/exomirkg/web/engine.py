"""Query evaluation in killable worker processes, so a timeout really stops a query.

pyoxigraph evaluates in Rust and cannot be interrupted from Python. Each query is sent
to a worker process that holds its own copy of the store; when the time limit passes the
worker is killed (SIGKILL) and a fresh one replaces it, while other workers keep answering.
Workers are fresh interpreters (``python -m exomirkg.web.engine``), not forks: forking a
threaded web server process is unsafe, and multiprocessing's spawn/forkserver re-import the
caller's ``__main__``. They load the store themselves and talk over two pipes. (A one-pattern
lookup, which cannot run away, is answered in the web process instead: ``guard.is_lookup``.)

The hop to a worker is on every query's path, so it is kept short: jobs and answers cross the
pipes as ``marshal``-ed tuples (no pickled classes), and the answer is awaited with a
``poll`` object made once per worker. Most of the hop's cost is waking a sleeping process
(~70-85 µs each way on a 2-core VM), so with ``spin`` on (the default) both sides briefly
poll instead of sleeping: the web thread for :data:`ANSWER_SPIN` s while a short query
runs, a worker for :data:`JOB_SPIN` s after answering (yielding its CPU to any other
runnable task meanwhile), then they sleep as before. In interleaved runs this cut a label
lookup's round trip from ~1.75x to ~1.4-1.6x an empty Flask request; the cost is at most
that CPU time per query (``QUERY_SPIN=false`` turns it off).
(Pinning a worker to its caller's CPU was also tried: no reliable gain, so it is not done.)
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import queue
import select
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

#: Seconds the web thread polls busily for an answer before sleeping (short queries).
ANSWER_SPIN = 0.0003
#: Seconds a worker polls (yielding its CPU) for the next job after answering.
JOB_SPIN = 0.002
_yield_cpu = getattr(os, "sched_yield", lambda: None)


@dataclass(frozen=True)
class StoreSource:
    """Where a worker gets its data: a TriG file (in memory) or an on-disk store folder."""

    trig: Path | None = None
    store_path: Path | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    #: Poll briefly instead of sleeping between jobs and answers (see the module docstring).
    spin: bool = True


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


def _job_bytes(job: Job) -> bytes:
    return marshal.dumps((job.query, job.media, job.row_cap, job.union, job.default_graphs,
                          job.named_graphs, job.base_iri))


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: ``kind`` is "ok", "syntax" (bad query) or "error"."""

    kind: str
    body: bytes = b""
    message: str = ""
    rows: int = 0
    truncated: bool = False


def _outcome_bytes(outcome: Outcome) -> bytes:
    return marshal.dumps((outcome.kind, outcome.body, outcome.message, outcome.rows,
                          outcome.truncated))


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
    answers.send_bytes(b"ready")
    incoming = select.poll()
    incoming.register(jobs.fileno(), select.POLLIN)
    while True:
        try:
            raw = jobs.recv_bytes()
        except (EOFError, OSError):
            return
        job = Job(*marshal.loads(raw))
        answers.send_bytes(_outcome_bytes(evaluate(store, job, source.prefixes)))
        if source.spin:
            _spin_until_ready(incoming, JOB_SPIN, yield_cpu=True)


def _spin_until_ready(poller: Any, seconds: float, *, yield_cpu: bool) -> bool:
    """Poll without sleeping for up to ``seconds``; whether the descriptor became ready."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if poller.poll(0):
            return True
        if yield_cpu:
            _yield_cpu()
    return False


class _Worker:
    def __init__(self, source: StoreSource) -> None:
        job_read, job_write = os.pipe()
        answer_read, answer_write = os.pipe()
        spec = json.dumps({
            "trig": str(source.trig) if source.trig else None,
            "store_path": str(source.store_path) if source.store_path else None,
            "prefixes": source.prefixes,
            "spin": source.spin,
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
        self.poller = select.poll()
        self.poller.register(answer_read, select.POLLIN)
        self.spin = source.spin
        self.ready = False

    def send(self, job: Job) -> None:
        self.conn_out.send_bytes(_job_bytes(job))

    def wait(self, timeout: float) -> bool:
        """Whether an answer (or the worker's end) arrived within ``timeout`` seconds."""
        if self.spin and timeout > ANSWER_SPIN:
            if _spin_until_ready(self.poller, ANSWER_SPIN, yield_cpu=False):
                return True
            timeout -= ANSWER_SPIN
        return bool(self.poller.poll(max(0.0, timeout) * 1000))

    def receive(self) -> Outcome:
        return Outcome(*marshal.loads(self.conn.recv_bytes()))

    def wait_ready(self, timeout: float) -> bool:
        if not self.ready and self.conn.poll(timeout):
            self.ready = self.conn.recv_bytes() == b"ready"
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
            if not worker.wait(limit):
                self.kills += 1
                log.warning("query exceeded %.1f s; killing worker %s", limit, worker.process.pid)
                raise EngineTimeout
            outcome = worker.receive()
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
    # Run the loop from the importable module (one copy of its classes and settings),
    # not from this __main__ copy.
    from exomirkg.web import engine as _engine

    _spec = json.loads(sys.argv[3])
    _engine._worker_main(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        _engine.StoreSource(
            trig=Path(_spec["trig"]) if _spec["trig"] else None,
            store_path=Path(_spec["store_path"]) if _spec["store_path"] else None,
            prefixes=_spec["prefixes"],
            spin=bool(_spec.get("spin", True)),
        ),
    )
