"""Query evaluation in killable worker processes, so a timeout really stops a query.

pyoxigraph evaluates in Rust and cannot be interrupted from Python. Each query is sent
to a worker process that holds its own copy of the store; when the time limit passes the
worker is killed (SIGKILL) and a fresh one replaces it, while other workers keep answering.
Workers are fresh interpreters (``python -m exomirkg.sparql.engine``), not forks: forking a
threaded web server process is unsafe, and multiprocessing's spawn/forkserver re-import the
caller's ``__main__``. They load the store themselves and talk over two pipes. (A one-pattern
lookup, which cannot run away, is answered in the web process instead: ``guard.is_lookup``.)

The hop to a worker is on every query's path, so it is kept short: jobs and answers cross the
pipes as ``marshal``-ed tuples (no pickled classes) in one framed write each, the answer's
body beside its tuple, not in it (so it is never copied through ``marshal``), and the
answer is awaited with a ``poll`` object made once per worker. Much of the hop's cost is
waking a sleeping process (~70-85 µs each way on a 2-core VM), so with ``spin`` on
(``QUERY_SPIN``, the server's default) both sides briefly poll instead of sleeping: the web
thread for :data:`ANSWER_SPIN` s while a short query runs, a worker for :data:`JOB_SPIN` s
after answering (yielding its CPU to any other runnable task meanwhile), then they sleep as
before. They poll only while the runnable tasks fit the CPUs (:func:`_cpu_to_spare`): on a
busy machine polling takes CPU from the processes with work to do (always polling cost a third of
the throughput at 8 clients on 2 cores). So gated, it lifted a ``subClassOf*`` path at 1
client from 0.80 to 0.89-0.95x the bare Flask app's throughput for ~0.4 ms of CPU per
query, and cost nothing at 8 clients, where the gate keeps it off (server/README.md,
*Polling on again*). The worker's side gives most of it.
(Pinning a worker to its caller's CPU was also tried: no reliable gain, so it is not done.)

The server's event loop calls :meth:`QueryEngine.run` too (queries sent by GET or POST),
with a :class:`Parker`: every wait (for an idle worker, its start, the answer, the rest of a
large answer) then parks the request instead of blocking, and the loop serves other
connections.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from exomirkg.sparql.results import UNCAPPED
from exomirkg.sparql.sandbox import rss_bytes as sandbox_rss

__all__ = ["EngineBusy", "EngineCrashed", "EngineMemory", "EngineTimeout", "Outcome",
           "Parker", "QueryEngine", "QueryRunner", "StoreSource", "UNCAPPED", "Waiter"]

log = logging.getLogger(__name__)

#: Seconds the web thread polls busily for an answer before sleeping (short queries).
ANSWER_SPIN = 0.0003
#: Seconds a worker polls (yielding its CPU) for the next job after answering.
JOB_SPIN = 0.002
_yield_cpu = getattr(os, "sched_yield", lambda: None)
#: CPUs this process may run on.
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
#: (pid, descriptor) of /proc/loadavg, opened once per process.
_loadavg: tuple[int, int] | None = None
#: Seconds between two looks at a running query's resident memory.
MEMORY_WATCH = 0.05
#: Seconds to wait for the exit status of a worker whose pipe closed (to say how it ended).
EXIT_WAIT = 1.0
#: Python frames the parser may use in a query process (rdflib recurses per nesting level;
#: 20,000 frames read 450 levels, far past ``guard.MAX_DEPTH``, within the C stack).
_WORKER_RECURSION = 20_000


@dataclass(frozen=True)
class StoreSource:
    """Where a worker gets its data: a TriG file (in memory) or an on-disk store folder."""

    trig: Path | None = None
    store_path: Path | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    #: Poll briefly instead of sleeping between jobs and answers (see the module docstring).
    spin: bool = False
    #: Bytes one query may allocate beyond the loaded store (0: no limit).
    memory: int = 0


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
    """A worker's answer.

    ``kind`` is "ok"; "syntax" (unreadable query, 400); "refused" (the guard's parse said no,
    ``status`` tells 400 or 403); "query" (evaluation failed because of the query, 400);
    "memory" (past the memory limit, 503); or "error" (the engine failed, 500).
    """

    kind: str
    body: bytes = b""
    message: str = ""
    rows: int = 0
    truncated: bool = False
    status: int = 0


def _send_outcome(fd: int, outcome: Outcome) -> None:
    _write_frame(fd, marshal.dumps((outcome.kind, outcome.message, outcome.rows,
                                    outcome.truncated, outcome.status)), outcome.body)


#: A frame's head: the lengths of its marshalled part and of its body.
_FRAME = struct.Struct("!II")


def _write_frame(fd: int, meta: bytes, body: bytes = b"") -> None:
    """One message on a pipe, in one ``writev`` unless the pipe is full."""
    parts = [memoryview(_FRAME.pack(len(meta), len(body)) + meta), memoryview(body)]
    while parts:
        written = os.writev(fd, parts)
        while parts and written >= parts[0].nbytes:
            written -= parts.pop(0).nbytes
        if parts:
            parts[0] = parts[0][written:]


def _read_frame(fd: int, until_readable: Callable[[], object] | None = None
                ) -> tuple[bytes, bytes]:
    """One message from a pipe: (marshalled part, body).

    :param until_readable: called before each read after the first, for a caller that
        must not block in a read (it returns once the pipe has bytes, or has closed).
    :raises EOFError: the other end closed the pipe (the process ended).
    """
    chunk = os.read(fd, 65536)
    while len(chunk) < _FRAME.size:
        if until_readable is not None:
            until_readable()
        more = os.read(fd, _FRAME.size - len(chunk))
        if not more:
            raise EOFError
        chunk += more
    meta_size, body_size = _FRAME.unpack_from(chunk)
    total = _FRAME.size + meta_size + body_size
    start = _FRAME.size + meta_size
    if len(chunk) == total:
        return chunk[_FRAME.size:start], chunk[start:]
    # A large answer: read the rest straight into one buffer.
    buffer = bytearray(total)
    view = memoryview(buffer)
    view[:len(chunk)] = chunk
    got = len(chunk)
    while got < total:
        if until_readable is not None:
            until_readable()
        count = os.readv(fd, [view[got:]])
        if not count:
            raise EOFError
        got += count
    return bytes(view[_FRAME.size:start]), bytes(view[start:])


@runtime_checkable
class QueryRunner(Protocol):
    """What the web layer needs of an engine: the embedded pool and the external backend.

    ``run`` raises :class:`EngineBusy`, :class:`EngineTimeout`, :class:`EngineMemory` or
    :class:`EngineCrashed`; an answer, or the query's own fault, is an :class:`Outcome`.
    Given a :class:`Parker`, it waits through it instead of blocking (the event loop gives
    one to the embedded pool only: an external engine is always called from a thread).
    """

    size: int
    timeout: float

    def start(self) -> None: ...

    def close(self) -> None: ...

    def run(self, job: Job, timeout: float | None = None, *,
            deadline: float | None = None, parker: Parker | None = None) -> Outcome: ...


class Waiter:
    """A caller waiting for an idle query process; :meth:`QueryEngine._give` hands it one.

    This one blocks its thread. The server's event loop waits without blocking instead
    (a subclass, from :meth:`Parker.waiter`).
    """

    def __init__(self) -> None:
        #: The query process handed over (set under the engine's lock); None until then.
        self.worker: _Worker | None = None
        self._given = threading.Event()

    def hold(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a query process (:attr:`worker`)."""
        self._given.wait(timeout)

    def wake(self) -> None:
        """:attr:`worker` was set: end :meth:`hold` (called from any thread)."""
        self._given.set()


class Parker(Protocol):
    """How a caller that must not block waits: the server's event loop (web/front.py) parks
    the request it is answering and serves other connections until the wait is over."""

    def readable(self, fd: int, timeout: float | None) -> bool:
        """Whether ``fd`` became readable (or closed) within ``timeout`` seconds (None: no
        limit)."""
        ...

    def waiter(self) -> Waiter:
        """A :class:`Waiter` for an idle query process."""
        ...


class EngineTimeout(Exception):
    """The query ran past the time limit; its worker was killed."""


class EngineBusy(Exception):
    """No query process is free and the queue of waiting queries is full (or timed out)."""


class EngineMemory(Exception):
    """The query needed more memory than the limit; its worker was killed."""


class EngineCrashed(Exception):
    """The query process died while evaluating (a crash, not a limit); it was replaced."""


def _open_store(source: StoreSource):
    import pyoxigraph

    if source.store_path is not None:
        return pyoxigraph.Store.read_only(str(source.store_path))
    store = pyoxigraph.Store()
    if source.trig is not None:
        store.bulk_load(path=str(source.trig), format=pyoxigraph.RdfFormat.TRIG)
    return store


def _open_store_apart(source: StoreSource) -> Any:
    """:func:`_open_store` in a thread of its own, so that what loading leaves in the heap
    does not slow the queries evaluated after it in the main thread.

    glibc gives a new thread its own malloc arena. Loaded in the main thread, the store lay
    among the chunks the load had freed, and every allocation of a query searched through them:
    ``_int_malloc`` took 6.5% of the server's CPU samples under an OPTIONAL load at 8 clients
    (the bare Flask app, which evaluates in request threads: 1.3%); loaded apart, 0.8%
    (``perf``).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-load") as loader:
        return loader.submit(_open_store, source).result()


def _graphs(names: tuple[str, ...] | None):
    import pyoxigraph

    return None if names is None else [pyoxigraph.NamedNode(n) for n in names]


def evaluate(store: Any, job: Job, prefixes: dict[str, str]) -> Outcome:
    """Run one job against a store and serialise the answer (worker side)."""
    import pyoxigraph

    from exomirkg.sparql import results

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
            written = results.write_solutions(None, answer, job.media, job.row_cap)
        else:
            written = results.write_graph(answer, job.media, job.row_cap, prefixes)
    except SyntaxError as error:
        return Outcome("syntax", message=str(error))
    except MemoryError:
        return Outcome("memory")
    except (ValueError, RuntimeError, TypeError) as error:
        # On a read-only store an evaluation error comes from the query (a bad IRI, a
        # function given the wrong kind of term...): the client's to fix.
        return Outcome("query", message=f"{type(error).__name__}: {error}")
    except OSError as error:
        return Outcome("error", message=f"{type(error).__name__}: {error}")
    return Outcome("ok", body=written.body, rows=written.rows, truncated=written.truncated)


#: Set in a query process once its seccomp filter is in place.
_NETWORK_DENIED = False


def _verified_evaluate(store: Any, job: Job, prefixes: dict[str, str]) -> Outcome:
    """The guard's parse, then evaluation: what a query process does with each job.

    The parse runs on a text that may name SERVICE (:func:`guard.may_name_service`), the
    one thing it decides for pyoxigraph (which reads and refuses every other text itself, in
    its own words). rdflib parses in pure Python: 1.3-6.5 ms for the benchmark's queries,
    several times pyoxigraph's evaluation of a lookup, paid by every text a client had not
    sent before (``python benchmarks/server.py --unique``: 0.27-0.78x the bare app). The
    external engine keeps the parse for every text (an engine's own syntax, such as
    Virtuoso's DEFINE pragmas, is refused there).
    """
    from exomirkg.sparql.guard import QueryRefused, may_name_service, verify

    try:
        if may_name_service(job.query):
            verify(job.query)
    except QueryRefused as refused:
        if refused.status == 400 and _NETWORK_DENIED:
            return _explain_unreadable(job, refused)
        return Outcome("refused", message=refused.message, status=refused.status)
    except MemoryError:
        return Outcome("memory")
    return evaluate(store, job, prefixes)


def _explain_unreadable(job: Job, refused: Exception) -> Outcome:
    """Say why a query the guard could not read is wrong, in pyoxigraph's words if it can.

    pyoxigraph's parser reports line:column; it parses here against an empty store, in a
    process that cannot reach the network, and nothing is evaluated (answers are lazy).
    A query pyoxigraph reads but the guard cannot is refused all the same.
    """
    import pyoxigraph

    try:
        pyoxigraph.Store().query(job.query, base_iri=job.base_iri)
    except SyntaxError as error:
        return Outcome("syntax", message=str(error))
    except Exception:  # noqa: BLE001 - any other failure: the guard's message stands
        pass
    return Outcome("refused", status=400, message=(
        f"{refused}; the endpoint checks every query with a SPARQL 1.1 parser before running "
        "it, and this one could not be read"))


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


def _worker_main(jobs: int, answers: int, source: StoreSource) -> None:
    """Worker loop: wall itself in, load the store once, then answer jobs until EOF."""
    from exomirkg.sparql import guard, sandbox

    # Before any thread starts (a seccomp filter covers the threads started after it).
    global _NETWORK_DENIED
    _NETWORK_DENIED = sandbox.deny_network()
    if not _NETWORK_DENIED:
        log.warning("no seccomp filter for this architecture: query processes may open "
                    "sockets; the guard's parse is the only wall against SERVICE")
    sys.setrecursionlimit(_WORKER_RECURSION)
    _die_with_parent()
    store = _open_store_apart(source)
    guard.verify("ASK {}")  # import the parser now, not on the first job
    if source.memory:
        sandbox.limit_memory(2 * source.memory)
    _write_frame(answers, b"ready")
    incoming = select.poll()
    incoming.register(jobs, select.POLLIN)
    while True:
        try:
            raw, _ = _read_frame(jobs)
        except (EOFError, OSError):
            return
        job = Job(*marshal.loads(raw))
        _send_outcome(answers, _verified_evaluate(store, job, source.prefixes))
        if source.spin and _cpu_to_spare():
            _spin_until_ready(incoming, JOB_SPIN, yield_cpu=True)


def _cpu_to_spare() -> bool:
    """Whether the caller may poll: every runnable task has a CPU, so polling takes no task's.

    No more runnable tasks than CPUs, both sides of the hop among them (the caller, and the
    other side, which the caller's write has woken), from the fourth field of
    ``/proc/loadavg``, read with one ``pread`` (~1.5 µs); without that file, no. So on 2
    cores one client's hop polls on both sides, and 8 clients' never. Until 5 Dec 2026 it
    took fewer tasks than CPUs, which on 2 cores held only now and then: ``subClassOf*`` at
    1 client, ours ÷ bare per round, 0.76-0.99 (median 0.84) so, 0.84-1.35 (median 0.97)
    now, 12 alternating rounds each; at 8 clients 0.84-0.88 either way.
    """
    global _loadavg
    try:
        if _loadavg is None or _loadavg[0] != os.getpid():
            _loadavg = (os.getpid(), os.open("/proc/loadavg", os.O_RDONLY))
        running = int(os.pread(_loadavg[1], 128, 0).split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return False
    return running <= _CPUS


def _spin_until_ready(poller: Any, seconds: float, *, yield_cpu: bool) -> bool:
    """Poll without sleeping for up to ``seconds``; whether the descriptor became ready."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if poller.poll(0):
            return True
        if yield_cpu:
            _yield_cpu()
    return False


#: Bytes an answer pipe holds (Linux's default is 64 KiB, its unprivileged maximum 1 MiB).
ANSWER_PIPE = 1 << 20


def _widen(fd: int) -> None:
    """Let a pipe hold a large answer at once: a 600 kB answer then crosses in one write
    instead of ten rounds of the worker blocking and the web thread waking (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), ANSWER_PIPE)
    except (ImportError, OSError):  # another OS, or over /proc/sys/fs/pipe-max-size
        pass


class _Worker:
    def __init__(self, source: StoreSource) -> None:
        job_read, job_write = os.pipe()
        answer_read, answer_write = os.pipe()
        _widen(answer_write)
        spec = json.dumps({
            "trig": str(source.trig) if source.trig else None,
            "store_path": str(source.store_path) if source.store_path else None,
            "prefixes": source.prefixes,
            "spin": source.spin,
            "memory": source.memory,
        })
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "exomirkg.sparql.engine", str(job_read), str(answer_write),
             spec],
            pass_fds=(job_read, answer_write), stdin=subprocess.DEVNULL,
        )
        os.close(job_read)
        os.close(answer_write)
        self.job_fd = job_write
        self.answer_fd = answer_read
        self.poller = select.poll()
        self.poller.register(answer_read, select.POLLIN)
        self.spin = source.spin
        self.memory = source.memory
        self.ready = False
        #: Started with the pool (not a replacement): its loading time is not a query's.
        self.first = False
        #: Resident memory once the store is loaded; a query may add ``memory`` to it.
        self.baseline = 0
        #: The most resident memory seen while a query ran (reported for the memory limit).
        self.peak = 0

    def send(self, job: Job) -> None:
        _write_frame(self.job_fd, _job_bytes(job))

    def _readable(self, timeout: float | None, parker: Parker | None) -> bool:
        """Whether the answer pipe has bytes (or closed) within ``timeout`` seconds."""
        if parker is not None:
            return parker.readable(self.answer_fd, timeout)
        return bool(self.poller.poll(None if timeout is None else max(0.0, timeout) * 1000))

    def wait(self, timeout: float, parker: Parker | None = None) -> bool:
        """Whether an answer (or the worker's end) arrived within ``timeout`` seconds.

        :raises EngineMemory: the worker's resident memory passed its limit (it is killed).
        """
        if self.spin and timeout > ANSWER_SPIN and _cpu_to_spare():
            if _spin_until_ready(self.poller, ANSWER_SPIN, yield_cpu=False):
                return True
            timeout -= ANSWER_SPIN
        if not self.memory:
            return self._readable(max(0.0, timeout), parker)
        # Look at the worker's memory between short waits: the rlimit inside the worker
        # is the hard stop, this is the one that says why.
        end = time.monotonic() + timeout
        limit = self.baseline + self.memory
        while True:
            left = end - time.monotonic()
            if self._readable(max(0.0, min(left, MEMORY_WATCH)), parker):
                return True
            if left <= MEMORY_WATCH:
                return False
            resident = sandbox_rss(self.process.pid)
            self.peak = max(self.peak, resident)
            if resident > limit:
                raise EngineMemory

    def receive(self, parker: Parker | None = None) -> Outcome:
        until_readable = None
        if parker is not None:
            # A large answer comes in several reads: between them the caller parks, the
            # pipe's end (the worker's exit) included.
            def until_readable() -> None:
                if not self.poller.poll(0):
                    parker.readable(self.answer_fd, None)
        meta, body = _read_frame(self.answer_fd, until_readable)
        kind, message, rows, truncated, status = marshal.loads(meta)
        return Outcome(kind, body, message, rows, truncated, status)

    def wait_ready(self, timeout: float, parker: Parker | None = None) -> bool:
        if not self.ready and self._readable(max(0.0, timeout), parker):
            try:
                self.ready = _read_frame(self.answer_fd)[0] == b"ready"
            except (EOFError, OSError):  # it died while starting
                return False
            self.baseline = sandbox_rss(self.process.pid)
        return self.ready

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        for fd in (self.answer_fd, self.job_fd):
            try:
                os.close(fd)
            except OSError:  # closed already (a second kill)
                pass


def _stop_all(workers: list[_Worker]) -> None:
    for worker in list(workers):
        try:
            worker.kill()
        except (OSError, ValueError):  # already gone
            pass


class QueryEngine:
    """A fixed pool of query worker processes with admission control and per-query limits.

    A query takes an idle worker at once, or waits in a short queue (``queue`` places) for
    one; past that it is refused at once (:class:`EngineBusy`), so long queries can hold at
    most ``size + queue`` of the web server's threads and the rest stay free for lookups,
    pages and /health. The time limit counts from the query's arrival: wait + run. Waiting
    callers are served in turn, whether they are threads or requests the event loop parked
    (:class:`Parker`).
    """

    def __init__(self, source: StoreSource, *, size: int = 2, timeout: float = 30.0,
                 queue: int | None = None) -> None:
        """Prepare the pool; workers start on first use.

        :param source: where workers load the data from (and their memory limit).
        :param size: number of worker processes (queries evaluated at once).
        :param timeout: seconds a query may wait and run before it is stopped.
        :param queue: queries that may wait for a worker; default ``size``.
        """
        self.source = source
        self.size = max(1, size)
        self.timeout = timeout
        self.queue = self.size if queue is None else max(0, queue)
        #: Idle workers, the one used last at the end (its memory is the warmest).
        self._idle: list[_Worker] = []
        #: Callers waiting for a worker, first come first served.
        self._waiters: deque[Waiter] = deque()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = False
        self.kills = 0
        #: Peak resident bytes of the last worker stopped for memory (for reports).
        self.last_memory_peak = 0
        weakref.finalize(self, _stop_all, self._workers)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.source)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        try:
            worker.kill()
        except (OSError, ValueError, subprocess.TimeoutExpired):  # already gone
            pass
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)

    def _replace(self, worker: _Worker) -> None:
        self._retire(worker)
        self._give(self._spawn())

    def _give(self, worker: _Worker) -> None:
        """Hand an idle worker to the first caller waiting, or keep it for the next."""
        with self._lock:
            if not self._waiters:
                self._idle.append(worker)
                return
            waiter = self._waiters.popleft()
            waiter.worker = worker
        waiter.wake()

    def start(self) -> None:
        """Start the worker processes (idempotent)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        for _ in range(self.size):
            worker = self._spawn()
            worker.first = True
            self._give(worker)

    def close(self) -> None:
        """Stop every worker."""
        _stop_all(self._workers)
        self._workers.clear()

    def _take(self, deadline: float, parker: Parker | None) -> _Worker:
        """An idle, living worker; waits in the queue if there is a place, else refuses."""
        while True:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
                if worker is None:
                    if len(self._waiters) >= self.queue:
                        raise EngineBusy
                    waiter = parker.waiter() if parker is not None else Waiter()
                    self._waiters.append(waiter)
            if worker is None:
                waiter.hold(max(0.0, deadline - time.monotonic()))
                with self._lock:
                    # Set under this lock when handed over: None means still in the queue.
                    worker = waiter.worker
                    if worker is None:
                        self._waiters.remove(waiter)
                        raise EngineBusy
            if worker.alive():
                return worker
            # Died while idle (killed from outside, out of memory...): never hand it out.
            log.warning("query worker %s died while idle; replacing it", worker.process.pid)
            self._replace(worker)

    def run(self, job: Job, timeout: float | None = None, *,
            deadline: float | None = None, parker: Parker | None = None) -> Outcome:
        """Evaluate ``job`` in a worker.

        :param timeout: seconds for this query (default: the pool's), counted from now.
        :param deadline: ``time.monotonic()`` by which the query must be done (overrides
            ``timeout``; the web layer passes the request's arrival + limit).
        :param parker: how to wait without blocking (the server's event loop); None: this
            thread blocks.
        :raises EngineBusy: no worker is free and the queue is full, or none became free in time.
        :raises EngineTimeout: the query ran out of time; its worker was killed and replaced.
        :raises EngineMemory: the query passed the memory limit; its worker was replaced.
        :raises EngineCrashed: the worker died while evaluating; it was replaced.
        """
        if deadline is None:
            deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self.start()
        worker = self._take(deadline, parker)
        healthy = False
        try:
            # A replacement worker may still be loading the store: that wait is part of the
            # query's time. The pool's first workers get a minute to start, not counted.
            started = time.monotonic()
            ready_by = started + 60.0 if worker.first else deadline
            if not worker.wait_ready(max(0.0, ready_by - started), parker):
                if worker.alive():
                    healthy = True  # still loading: keep it, the query never started
                    raise EngineBusy
                raise EngineCrashed("query worker did not start")
            if worker.first:
                deadline += time.monotonic() - started
            worker.send(job)
            worker.peak = 0
            if not worker.wait(max(0.0, deadline - time.monotonic()), parker):
                self.kills += 1
                log.warning("query ran out of time; killing worker %s", worker.process.pid)
                raise EngineTimeout
            outcome = worker.receive(parker)
            if outcome.kind == "memory":
                raise EngineMemory
            healthy = True
            return outcome
        except EngineMemory:
            self.kills += 1
            self.last_memory_peak = worker.peak
            log.warning("query passed the memory limit (%d MB resident); killing worker %s",
                        worker.peak // 2**20, worker.process.pid)
            raise
        except (EOFError, OSError) as error:
            try:
                # Its pipes close as it exits, a moment before its exit status is there.
                code = worker.process.wait(EXIT_WAIT)
            except subprocess.TimeoutExpired:  # alive: a pipe broke another way
                code = None
            if code is not None and code == -signal.SIGABRT and worker.memory:
                # Rust aborts when an allocation fails under the worker's RLIMIT_AS.
                self.last_memory_peak = worker.peak
                raise EngineMemory from None
            raise EngineCrashed(_death(code, error)) from None
        finally:
            if healthy:
                self._give(worker)
            else:
                self._replace(worker)


def _death(code: int | None, error: BaseException) -> str:
    """Say how a worker ended: by which signal, with which exit code, or what broke."""
    if code is None:
        return f"the connection to it broke ({type(error).__name__})"
    if code < 0:
        try:
            return f"it was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"it was killed by signal {-code}"
    return f"it exited with code {code}"


if __name__ == "__main__":
    # Run the loop from the importable module (one copy of its classes and settings),
    # not from this __main__ copy.
    from exomirkg.sparql import engine as _engine

    _spec = json.loads(sys.argv[3])
    _engine._worker_main(
        int(sys.argv[1]),
        int(sys.argv[2]),
        _engine.StoreSource(
            trig=Path(_spec["trig"]) if _spec["trig"] else None,
            store_path=Path(_spec["store_path"]) if _spec["store_path"] else None,
            prefixes=_spec["prefixes"],
            spin=bool(_spec.get("spin", False)),
            memory=int(_spec.get("memory") or 0),
        ),
    )
