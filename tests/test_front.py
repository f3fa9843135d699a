"""The server's front (web/front.py): queries sent by GET answered by gunicorn's event loop
itself (lookups and kept answers at once, the rest parked while a query process evaluates
them), the rest of an answer a client does not take yet sent by a thread, heads that
announce no body, and the end of a request's head found in the pieces it comes in.

The servers here are real (`exomirkg serve`, one gunicorn worker) and the clients raw sockets
or requests; each test is bounded in time and targets 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import requests
from greenlet import greenlet
from helpers import cli_server, query_processes, wait_healthy

from exomirkg.build import BuildResult
from exomirkg.sparql.engine import ANSWER_PIPE, EngineBusy, QueryEngine, StoreSource, Waiter
from exomirkg.web import hotpath
from exomirkg.web.front import (
    HeadScan,
    NotInline,
    _blank_line,
    _LoopWaiter,
    _Park,
    _TimedSocket,
    request_complete,
)

LOOKUP = ('PREFIX ekg: <https://w3id.org/exomirkg/> '
          'SELECT ?f WHERE { ?f a ekg:Finding }')
#: A lookup with a few hundred rows (every class): an answer of tens of kB.
WIDE = ("SELECT ?s ?p WHERE { ?s ?p <http://www.w3.org/2002/07/owl#Class> }")
#: Runs until the time limit stops it (a three-way cross product of the graph).
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
#: No lookup: a query process evaluates it, unless the answer cache holds its answer.
JOIN = ("SELECT ?f ?d WHERE { ?f a <https://w3id.org/exomirkg/Finding> ; "
        "<https://w3id.org/exomirkg/concernsDrug> ?d } ORDER BY ?f ?d")
#: Every triple without a blank node (each process labels those its own way), in order: no
#: lookup, and an answer of megabytes, more than a query process's pipe holds
#: (engine.ANSWER_PIPE): it crosses in many reads.
EVERYTHING = ("SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) } "
              "ORDER BY ?s ?p ?o")


@contextmanager
def _server(build_dir: Path, *args: str) -> Iterator[tuple[str, int]]:
    with cli_server("--out", str(build_dir), "--workers", "1", "--query-workers", "1",
                    *args) as (base, process):
        wait_healthy(base, process)
        yield base, int(base.rsplit(":", 1)[1])


def _get(port: int, query: str, *, version: str = "HTTP/1.1") -> bytes:
    return (f"GET /sparql?{urlencode({'query': query})} {version}\r\nHost: 127.0.0.1\r\n"
            f"Accept: {JSON}\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """The next HTTP/1.1 response with a Content-Length: (status line, headers, body).

    Read byte by byte up to the body, so that nothing of the responses after it is taken.
    """
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, f"connection closed mid-head: {head!r}"
        head += byte
    status, *lines = head[:-4].split(b"\r\n")
    headers = {k.decode().lower(): v.decode().strip()
               for k, _, v in (line.partition(b":") for line in lines)}
    body = b""
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(int(headers["content-length"]) - len(body))
        assert chunk, "connection closed mid-body"
        body += chunk
    return status, headers, body


def _by_thread(base: str, query: str) -> requests.Response:
    """``query``'s answer from a request thread: a form POSTed in chunks, which the event
    loop leaves to a thread (its length is not known before it is read)."""
    return requests.post(f"{base}/sparql", data=iter([urlencode({"query": query}).encode()]),
                         headers={"Accept": JSON, "Content-Type": FORM}, timeout=60)


@contextmanager
def _runaway_holds_the_thread(base: str) -> Iterator[None]:
    """For the block's length, a runaway query holds the server's only request thread (until
    the time limit; :func:`_by_thread`): what the block asks must be answered without
    waiting for it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        runaway = pool.submit(_by_thread, base, RUNAWAY)
        # Until the runaway holds the thread: a query that needs a thread waits behind it.
        threading.Event().wait(0.5)
        assert not runaway.done()
        yield
        assert not runaway.done(), "the block's requests must not have waited for the thread"
        assert runaway.result().status_code == 503


class _Inline:
    """A socket the event loop is answering on (``_TimedSocket.inline``)."""

    inline = True


def _call(app, query: str, sock: object, method: str = "GET") -> bytes:
    """The app's WSGI answer to ``query`` at /sparql, asked over ``sock``."""
    target = "/sparql?" + urlencode({"query": query})
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/sparql", "SERVER_NAME": "x",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_ACCEPT": JSON,
               "QUERY_STRING": target.partition("?")[2], "RAW_URI": target,
               "gunicorn.socket": sock, "wsgi.input": None}
    return b"".join(app.wsgi_app(environ, lambda status, headers: None))


def _same_answer(inline: requests.Response, threaded: requests.Response) -> None:
    """The same status, body and headers (the date and the server's clock aside)."""
    assert inline.status_code == threaded.status_code == 200
    assert inline.content == threaded.content
    skip = {"Date"}
    assert ({k: v for k, v in inline.headers.items() if k not in skip}
            == {k: v for k, v in threaded.headers.items() if k not in skip})


@pytest.mark.slow
def test_a_lookup_is_answered_while_the_only_request_thread_is_busy(
        build_dir: Path, built: BuildResult) -> None:
    """One request thread, held by a runaway query until the time limit: a lookup is still
    answered at once (by the event loop), the same answer a thread gives it afterwards."""
    with _server(build_dir, "--threads", "1", "--timeout", "6") as (base, _):
        with _runaway_holds_the_thread(base):
            inline = requests.get(f"{base}/sparql", params={"query": LOOKUP},
                                  headers={"Accept": JSON}, timeout=30)
        rows = inline.json()["results"]["bindings"]
        assert int(inline.headers["X-Exomirkg-Rows"]) == len(rows) > 100
        # A thread gives the very same answer.
        _same_answer(inline, _by_thread(base, LOOKUP))


@pytest.mark.slow
def test_a_kept_answer_is_given_while_the_only_request_thread_is_busy(
        build_dir: Path, built: BuildResult) -> None:
    """A query that needs a query process, asked once (its answer cache keeps it), is given
    again by the event loop while a runaway holds the only thread and the only query
    process: the same bytes."""
    with _server(build_dir, "--threads", "1", "--timeout", "6") as (base, _):
        first = requests.get(f"{base}/sparql", params={"query": JOIN},
                             headers={"Accept": JSON}, timeout=30)
        assert first.status_code == 200 and first.json()["results"]["bindings"]
        with _runaway_holds_the_thread(base):
            again = requests.get(f"{base}/sparql", params={"query": JOIN},
                                 headers={"Accept": JSON}, timeout=30)
        _same_answer(again, first)


@pytest.mark.slow
def test_what_the_event_loop_declines_a_thread_answers(build_dir: Path,
                                                        built: BuildResult) -> None:
    """A lookup whose request the app refuses (a graph name that is no IRI) goes to a thread,
    which words the refusal; the connection then serves the next lookup."""
    with _server(build_dir) as (_, port), \
            socket.create_connection(("127.0.0.1", port), 30) as sock:
        bad = urlencode({"query": LOOKUP, "default-graph-uri": "not an iri"})
        sock.sendall(f"GET /sparql?{bad} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status, _, body = _read_response(sock)
        assert status.startswith(b"HTTP/1.1 400") and b"not an absolute IRI" in body
        sock.sendall(_get(port, LOOKUP))
        status, headers, body = _read_response(sock)
        assert status.startswith(b"HTTP/1.1 200")
        assert int(headers["x-exomirkg-rows"]) == len(json.loads(body)["results"]["bindings"])


@pytest.mark.slow
def test_a_query_the_event_loop_parks_holds_no_thread_and_stops_at_its_limit(
        build_dir: Path, built: BuildResult) -> None:
    """One request thread, two query processes: a runaway sent by GET waits for its query
    process in the event loop, not in the thread, so /health (which a thread answers) and
    another query (the other process) by GET, by a POSTed form and by a POSTed query are
    answered meanwhile, with the bytes and headers a thread gives it; the runaway is
    stopped at its time limit."""
    with _server(build_dir, "--threads", "1", "--query-workers", "2", "--timeout", "5",
                 "--answer-cache", "0") as (base, _):
        with ThreadPoolExecutor(max_workers=1) as pool:
            start = time.monotonic()
            runaway = pool.submit(requests.get, f"{base}/sparql", params={"query": RUNAWAY},
                                  timeout=60)
            threading.Event().wait(0.5)
            assert requests.get(f"{base}/health", timeout=3).status_code == 200
            inline = [
                requests.get(f"{base}/sparql", params={"query": JOIN},
                             headers={"Accept": JSON}, timeout=3),
                requests.post(f"{base}/sparql", data={"query": JOIN},
                              headers={"Accept": JSON}, timeout=3),
                requests.post(f"{base}/sparql", data=JOIN.encode(), timeout=3,
                              headers={"Accept": JSON, "Content-Type": DIRECT}),
            ]
            assert not runaway.done()
            stopped = runaway.result()
            elapsed = time.monotonic() - start
        assert stopped.status_code == 503 and "5 s time limit" in stopped.text
        assert 4.5 < elapsed < 5 + 3, elapsed
        threaded = _by_thread(base, JOIN)
        for answer in inline:
            _same_answer(answer, threaded)


@pytest.mark.slow
def test_parked_queries_wait_in_turn_and_past_the_queue_are_refused_at_once(
        build_dir: Path, built: BuildResult) -> None:
    """One query process and one place in its queue, all asked by GET: a second runaway
    waits for the process (parked in the event loop), a third query is refused at once,
    and the waiting one's time limit counts from its arrival."""
    def ask(query: str) -> tuple[int, str, float]:
        start = time.monotonic()
        answer = requests.get(f"{base}/sparql", params={"query": query}, timeout=60)
        return answer.status_code, answer.text, time.monotonic() - start

    with _server(build_dir, "--query-queue", "1", "--timeout", "4",
                 "--answer-cache", "0") as (base, _):
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(ask, RUNAWAY)
            threading.Event().wait(0.5)
            second = pool.submit(ask, RUNAWAY)
            threading.Event().wait(0.5)
            status, text, elapsed = ask(JOIN)
            assert status == 503 and "queue for them is full" in text and elapsed < 1.5
            (status1, text1, elapsed1), (status2, _, elapsed2) = first.result(), second.result()
    assert status1 == 503 and "time limit" in text1, text1
    assert status2 == 503 and 2.5 < elapsed2 < 4 + 2, elapsed2  # waited, not refused
    assert elapsed1 < 4 + 2


@pytest.mark.slow
def test_an_answer_larger_than_the_pipe_crosses_it_while_other_queries_are_answered(
        build_dir: Path, built: BuildResult) -> None:
    """Three queries by GET whose answers are larger than a query process's pipe holds:
    each crosses it in many reads, its request parked between them, and is the answer a
    thread gives (POST); lookups asked meanwhile are answered."""
    with _server(build_dir, "--query-workers", "2", "--answer-cache", "0") as (base, _):
        with ThreadPoolExecutor(max_workers=3) as pool:
            big = [pool.submit(requests.get, f"{base}/sparql", params={"query": EVERYTHING},
                               headers={"Accept": JSON}, timeout=60) for _ in range(3)]
            lookups = [requests.get(f"{base}/sparql", params={"query": LOOKUP},
                                    headers={"Accept": JSON}, timeout=30).status_code
                       for _ in range(5)]
            inline = [future.result() for future in big]
        threaded = _by_thread(base, EVERYTHING)
    assert len(threaded.content) > 2 * ANSWER_PIPE
    for answer in inline:
        _same_answer(answer, threaded)
    assert lookups == [200] * 5


@pytest.mark.slow
def test_a_query_process_killed_under_a_parked_query(build_dir: Path,
                                                     built: BuildResult) -> None:
    """kill -9 of the query process evaluating a runaway sent by GET: its parked request
    is answered 500, saying so, and the next query by GET is answered by the replacement."""
    with cli_server("--out", str(build_dir), "--workers", "1", "--query-workers", "1",
                    "--timeout", "30", "--answer-cache", "0") as (base, process):
        wait_healthy(base, process)
        with ThreadPoolExecutor(max_workers=1) as pool:
            start = time.monotonic()
            runaway = pool.submit(requests.get, f"{base}/sparql", params={"query": RUNAWAY},
                                  timeout=60)
            threading.Event().wait(1.0)
            (pid,) = query_processes(os.getsid(process.pid))
            os.kill(pid, signal.SIGKILL)
            crashed = runaway.result()
        assert crashed.status_code == 500 and "killed by SIGKILL" in crashed.text, crashed.text
        assert time.monotonic() - start < 10
        again = requests.get(f"{base}/sparql", params={"query": JOIN},
                             headers={"Accept": JSON}, timeout=60)
        assert again.status_code == 200 and again.json()["results"]["bindings"]


def _post(query: str, *, content_type: str = FORM, extra: str = "") -> bytes:
    body = (urlencode({"query": query}) if content_type == FORM else query).encode()
    return (f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {JSON}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
            ).encode() + body


@pytest.mark.slow
def test_posts_in_pieces_pipelined_or_with_two_lengths_are_answered_in_order(
        build_dir: Path, built: BuildResult) -> None:
    """POSTs on one connection: a body sent in two pieces (the loop waits for the whole of
    it), two requests in one send (pipelined: a thread answers them in order), a lookup and
    a query that needs a query process, each answered as a thread answers it; and a body
    whose length two headers give, which the loop does not take (chunked framing wins, and
    that body never ends: 408)."""
    with _server(build_dir, "--answer-cache", "0") as (base, port), \
            socket.create_connection(("127.0.0.1", port), 30) as sock:
        expected = {query: _by_thread(base, query).content for query in (LOOKUP, JOIN)}
        request = _post(JOIN)
        sock.sendall(request[:-10])
        threading.Event().wait(0.2)
        sock.sendall(request[-10:])
        status, _, body = _read_response(sock)
        assert status.startswith(b"HTTP/1.1 200") and body == expected[JOIN]
        sock.sendall(_post(LOOKUP) + _post(JOIN, content_type=DIRECT))
        for query in (LOOKUP, JOIN):
            status, _, body = _read_response(sock)
            assert status.startswith(b"HTTP/1.1 200") and body == expected[query]
    with _server(build_dir, "--read-timeout", "2") as (_, port), \
            socket.create_connection(("127.0.0.1", port), 30) as sock:
        # Chunked framing wins over the length (RFC 9112 6.3): the body never ends.
        sock.sendall(_post(JOIN, extra="Transfer-Encoding: chunked\r\n"))
        status, _, _ = _read_response(sock)
        assert status.startswith(b"HTTP/1.1 408")


@pytest.mark.slow
def test_a_client_that_does_not_read_holds_up_no_other_lookup(build_dir: Path,
                                                              built: BuildResult) -> None:
    """A client asks for wide lookups one after another and reads nothing, until the answers
    are more than the kernel's buffers hold: the event loop sends what they take and leaves
    the rest to the one request thread, and answers another client's lookups meanwhile (a
    loop blocked on the first client would answer nothing). The first client then reads
    every answer whole, in order, and its connection serves one more lookup."""
    with _server(build_dir, "--threads", "1") as (base, port):
        expected = requests.post(f"{base}/sparql", data={"query": WIDE},
                                 headers={"Accept": JSON}, timeout=30).content
        buffers = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(30)
        with slow:
            slow.connect(("127.0.0.1", port))
            asked = 0
            buffers += slow.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            while asked * len(expected) <= buffers:
                slow.sendall(_get(port, WIDE))
                asked += 1
                threading.Event().wait(0.02)  # one request at a time: each one is a lookup
            for _ in range(5):
                other = requests.get(f"{base}/sparql", params={"query": LOOKUP},
                                     headers={"Accept": JSON}, timeout=5)
                assert other.status_code == 200
            for _ in range(asked):
                status, _, body = _read_response(slow)
                assert status.startswith(b"HTTP/1.1 200") and body == expected
            slow.sendall(_get(port, LOOKUP))
            assert _read_response(slow)[0].startswith(b"HTTP/1.1 200")


@pytest.mark.slow
def test_an_http10_lookup_gets_its_whole_answer_then_the_close(build_dir: Path,
                                                              built: BuildResult) -> None:
    with _server(build_dir) as (base, port), \
            socket.create_connection(("127.0.0.1", port), 30) as sock:
        sock.sendall(_get(port, WIDE, version="HTTP/1.0"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200") and b"Connection: close" in head
        expected = requests.post(f"{base}/sparql", data={"query": WIDE},
                                 headers={"Accept": JSON}, timeout=30).content
        assert body == expected


def test_the_app_declines_past_the_inline_row_bound(app, monkeypatch) -> None:
    """Asked by the event loop (the socket says ``inline``), the hot path answers a lookup
    within :data:`~exomirkg.web.hotpath.INLINE_ROWS` and declines a wider one or a POST."""
    monkeypatch.setattr(hotpath, "INLINE_ROWS", 100)

    def call(query: str, method: str = "GET") -> bytes:
        return _call(app, query, _Inline(), method)

    few = 'SELECT ?s { ?s <http://www.w3.org/2000/01/rdf-schema#label> "cisplatin"@en }'
    assert len(json.loads(call(few))["results"]["bindings"]) == 1
    with pytest.raises(NotInline):
        call(WIDE)  # some hundreds of rows
    with pytest.raises(NotInline):
        call(RUNAWAY)  # no lookup: it needs a query process
    with pytest.raises(NotInline):
        call(few, "POST")
    with pytest.raises(NotInline):
        call(few, "OPTIONS")


def test_without_a_parker_the_event_loop_gives_only_kept_answers(make_app) -> None:
    """Asked by an event loop that cannot park (the socket has no ``parker``), the app
    declines a query that needs a query process until the answer cache holds its answer (a
    thread evaluated it); with no cache it declines it every time."""
    for cache in (0, 64):
        app = make_app(QUERY_WORKERS=1, ANSWER_CACHE=cache)
        with pytest.raises(NotInline):
            _call(app, JOIN, _Inline())  # nothing kept yet: a thread must evaluate it
        threaded = _call(app, JOIN, object())
        assert json.loads(threaded)["results"]["bindings"]
        if cache:
            assert _call(app, JOIN, _Inline()) == threaded
        else:
            with pytest.raises(NotInline):
                _call(app, JOIN, _Inline())


def test_inline_target_takes_a_short_query_to_sparql_only() -> None:
    """What the event loop reads of a request is bounded: a GET's target, or a POST's
    target and body, of 2 kB at most (a longer text waits for a thread)."""
    encoded = urlencode({"query": LOOKUP}).encode()
    assert hotpath.inline_target(b"/sparql", len(encoded))
    assert hotpath.inline_target(b"/sparql?format=json", 2048)
    assert not hotpath.inline_target(b"/sparql", 2049)
    assert not hotpath.inline_target(b"/queries", 10)
    assert hotpath.inline_target(b"/sparql?" + encoded)
    assert hotpath.inline_target(b"/sparql?" + urlencode({"query": RUNAWAY}).encode())
    assert hotpath.inline_target(b"/sparql?" + encoded + b"&" + encoded)  # the app declines
    assert not hotpath.inline_target(b"/queries?" + encoded)
    assert not hotpath.inline_target(b"/sparql")  # the Service Description: Flask's
    assert not hotpath.inline_target(b"/sparql?" + urlencode({"query": LOOKUP + " " * 3000})
                                     .encode())


@pytest.mark.parametrize(("head", "held"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", True),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.1 304 NOT MODIFIED\r\nETag: x\r\n\r\n", False),
    (b"HTTP/1.1 204 NO CONTENT\r\n\r\n", False),
])
def test_a_head_waits_for_its_body_unless_it_announces_none(head: bytes, held: bool) -> None:
    left, right = socket.socketpair()
    timed = _TimedSocket(left.family, left.type, left.proto, fileno=left.detach())
    with timed, right:
        right.setblocking(False)
        timed.hold_head = True
        timed.sendall(head)
        if held:
            with pytest.raises(BlockingIOError):
                right.recv(100)
            timed.sendall(b"hello")
            assert right.recv(100) == head + b"hello"
        else:
            assert right.recv(100) == head


def test_the_head_s_end_is_where_the_pattern_finds_it_whatever_the_pieces() -> None:
    """Read in pieces, the blank line after the head is found where ``\\r?\\n\\r?\\n`` finds it
    in the whole (seeded buffers of CR, LF and two other bytes, cut at random places)."""
    rng = random.Random(5)
    pattern = re.compile(rb"\r?\n\r?\n")
    for _ in range(3000):
        data = bytes(rng.choice(b"\r\na:") for _ in range(rng.randint(0, 12)))
        cuts = sorted(rng.sample(range(len(data) + 1), rng.randint(1, len(data) + 1)))
        scan, found = HeadScan(), False
        for cut in [*cuts, len(data)]:
            if _blank_line(data[:cut], scan):
                found = True
                break
        whole = pattern.search(data)
        assert found == (whole is not None), data
        if whole is not None:
            assert (scan.start, scan.end) == whole.span(), data


class _CountedBuffer(bytearray):
    """A request buffer that adds up how many bytes its searches go over and its slices copy."""

    searched = copied = 0

    def find(self, sub, start=0, *args):  # type: ignore[override]
        _CountedBuffer.searched += len(self) - start
        return super().find(sub, start, *args)

    def __getitem__(self, key):  # type: ignore[override]
        part = super().__getitem__(key)
        _CountedBuffer.copied += len(part) if isinstance(key, slice) else 0
        return part


def test_a_request_trickled_in_small_pieces_is_read_once_not_again_per_piece() -> None:
    """A 60 kB head then a 60 kB body, sent 16 bytes at a time: the event loop searches each
    byte of the head about twice (two patterns) and copies the head once to read its framing,
    not again with every piece (thousands of times as much for this request)."""
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\nX-Pad: "
            + b"a" * 60_000 + b"\r\n\r\n")
    request = head + b"q" * 60_000
    buffer, scan = _CountedBuffer(), HeadScan()
    _CountedBuffer.searched = _CountedBuffer.copied = 0
    done = []
    for start in range(0, len(request), 16):
        buffer += request[start:start + 16]
        done.append(request_complete(buffer, 1_000_000, scan))
    assert done[-1] and not any(done[:-1])
    assert (scan.start, scan.end, scan.declared) == (len(head) - 4, len(head), 60_000)
    assert _CountedBuffer.searched <= 2 * len(head) + 8 * len(done), _CountedBuffer.searched
    assert _CountedBuffer.copied == len(head) - 4, _CountedBuffer.copied


# -- parking: the event loop's waits, without a server ------------------------------------------

class _Loop:
    """What a parked request needs of the event loop: timers and the method queue."""

    def __init__(self) -> None:
        self.timers: list[tuple[_Park, float | None]] = []
        self.deferred: list[tuple] = []
        self.method_queue = SimpleNamespace(defer=lambda *call: self.deferred.append(call))

    def arm(self, park: _Park, timeout: float | None) -> None:
        self.timers.append((park, timeout))

    def run_deferred(self) -> None:
        calls, self.deferred = self.deferred, []
        for function, *args in calls:
            function(*args)


@pytest.mark.parametrize("first", ["time", "hand-over", "given before the wait"])
def test_a_parked_request_resumes_once_whatever_comes_first(first: str) -> None:
    """A request waiting for a query process is resumed by its timer or by the hand-over,
    whichever comes first; the other finds the wait over (it never switches into a request
    that ended or waits for something else)."""
    loop = _Loop()
    held: list[object] = []

    def request() -> None:
        waiter = _LoopWaiter(loop)
        if first == "given before the wait":
            waiter.worker = "process"
            waiter.wake()
        loops.append(waiter)
        waiter.hold(2.0)
        held.append(waiter.worker)

    loops: list[_LoopWaiter] = []
    request_greenlet = greenlet(request)
    request_greenlet.switch()
    if first == "given before the wait":
        assert request_greenlet.dead and held == ["process"] and not loop.timers
        loop.run_deferred()  # the hand-over's resume: over already
        return
    assert not request_greenlet.dead and loop.timers[0][1] == 2.0
    (waiter,) = loops
    if first == "time":
        loop.timers[0][0].resume(False)
        assert request_greenlet.dead and held == [None]
        waiter.worker = "process"  # handed over too late: the engine takes it back (its lock)
        waiter.wake()
        loop.run_deferred()
    else:
        waiter.worker = "process"
        waiter.wake()
        assert not request_greenlet.dead  # resumed by the loop, not by the thread that wakes
        loop.run_deferred()
        assert request_greenlet.dead and held == ["process"]
        loop.timers[0][0].resume(False)
    assert held in ([None], ["process"]) and len(held) == 1


def test_the_event_loop_itself_never_parks() -> None:
    with pytest.raises(RuntimeError, match="cannot park itself"):
        _Park().wait()


class _Process:
    """A query process the pool's bookkeeping hands around (none is started)."""

    def alive(self) -> bool:
        return True


def _pool(tmp_path: Path, queue: int) -> QueryEngine:
    engine = QueryEngine(StoreSource(trig=tmp_path / "unused.trig"), size=1, queue=queue)
    engine._started = True  # the bookkeeping alone: no process is started
    return engine


def test_callers_waiting_for_a_query_process_are_served_in_turn(tmp_path: Path) -> None:
    """Waiting threads are handed processes first come, first served; past the queue's
    places a caller is refused at once; one whose time runs out leaves the queue."""
    engine = _pool(tmp_path, queue=2)
    got: dict[str, object] = {}

    def take(name: str) -> None:
        try:
            got[name] = engine._take(time.monotonic() + 20, None)
        except EngineBusy:
            got[name] = EngineBusy

    threads = []
    for name in ("first", "second"):
        threads.append(threading.Thread(target=take, args=(name,)))
        threads[-1].start()
        while len(engine._waiters) < len(threads):
            time.sleep(0.001)
    start = time.monotonic()
    with pytest.raises(EngineBusy):
        engine._take(time.monotonic() + 20, None)  # two waiting: no place left
    assert time.monotonic() - start < 1
    processes = [_Process(), _Process()]
    for process in processes:
        engine._give(process)
    for thread in threads:
        thread.join(10)
    assert got == {"first": processes[0], "second": processes[1]}
    assert not engine._waiters and not engine._idle
    with pytest.raises(EngineBusy):
        engine._take(time.monotonic() + 0.05, None)  # no process comes: out of time
    assert not engine._waiters
    engine._give(processes[0])
    assert engine._take(time.monotonic() + 1, None) is processes[0]  # kept idle, then taken


def test_a_process_handed_over_as_the_wait_ends_is_taken_not_lost(tmp_path: Path) -> None:
    """The hand-over and the end of the wait race: a waiter handed a process just as its
    time ran out takes it (the engine's lock decides), and the queue is left empty."""
    engine = _pool(tmp_path, queue=1)
    process = _Process()

    class Late(Waiter):
        def hold(self, timeout: float) -> None:
            engine._give(process)  # comes in as the time runs out: no wait for the wake

    parker = SimpleNamespace(waiter=Late)
    assert engine._take(time.monotonic() + 1, parker) is process
    assert not engine._waiters and not engine._idle
