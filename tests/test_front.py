"""The server's front (web/front.py): lookups and kept answers given by gunicorn's event loop
itself, the rest of an answer a client does not take yet sent by a thread, heads that
announce no body, and the end of a request's head found in the pieces it comes in.

The servers here are real (`exomirkg serve`, one gunicorn worker) and the clients raw sockets
or requests; each test is bounded in time and targets 127.0.0.1 only.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from helpers import cli_server, wait_healthy

from exomirkg.build import BuildResult
from exomirkg.web import hotpath
from exomirkg.web.front import HeadScan, NotInline, _blank_line, _TimedSocket, request_complete

LOOKUP = ('PREFIX ekg: <https://w3id.org/exomirkg/> '
          'SELECT ?f WHERE { ?f a ekg:Finding }')
#: A lookup with a few hundred rows (every class): an answer of tens of kB.
WIDE = ("SELECT ?s ?p WHERE { ?s ?p <http://www.w3.org/2002/07/owl#Class> }")
#: Runs until the time limit stops it (a three-way cross product of the graph).
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = "application/sparql-results+json"
#: No lookup: a query process evaluates it, unless the answer cache holds its answer.
JOIN = ("SELECT ?f ?d WHERE { ?f a <https://w3id.org/exomirkg/Finding> ; "
        "<https://w3id.org/exomirkg/concernsDrug> ?d } ORDER BY ?f ?d")


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


@contextmanager
def _runaway_holds_the_thread(base: str) -> Iterator[None]:
    """For the block's length, a runaway query holds the server's only request thread (until
    the time limit): what the block asks must be answered without waiting for it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        runaway = pool.submit(requests.get, f"{base}/sparql", params={"query": RUNAWAY},
                              timeout=60)
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
        # A POST goes through a request thread: the very same answer.
        threaded = requests.post(f"{base}/sparql", data={"query": LOOKUP},
                                 headers={"Accept": JSON}, timeout=30)
        _same_answer(inline, threaded)


@pytest.mark.slow
def test_a_kept_answer_is_given_while_the_only_request_thread_is_busy(
        build_dir: Path, built: BuildResult) -> None:
    """A query that needs a query process, asked once (a thread evaluates it and the answer
    cache keeps it), is given again by the event loop while a runaway holds the only thread:
    the same bytes."""
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


def test_the_event_loop_gives_a_kept_answer_of_any_query(make_app) -> None:
    """A query that is no lookup is answered by the event loop once the answer cache holds
    its answer (a thread evaluated it), and its target becomes one the loop takes; with no
    cache the loop declines it every time."""
    target = ("/sparql?" + urlencode({"query": JOIN})).encode()
    for cache in (0, 64):
        app = make_app(QUERY_WORKERS=1, ANSWER_CACHE=cache)
        hotpath._kept.clear()
        with pytest.raises(NotInline):
            _call(app, JOIN, _Inline())  # nothing kept yet: a thread must evaluate it
        threaded = _call(app, JOIN, object())
        assert json.loads(threaded)["results"]["bindings"]
        assert hotpath.inline_target(target) is bool(cache)
        if cache:
            assert _call(app, JOIN, _Inline()) == threaded
        else:
            with pytest.raises(NotInline):
                _call(app, JOIN, _Inline())
    hotpath._kept.clear()


def test_inline_target_takes_one_lookup_to_sparql_only() -> None:
    encoded = urlencode({"query": LOOKUP}).encode()
    assert hotpath.inline_target(b"/sparql?" + encoded)
    assert not hotpath.inline_target(b"/sparql?" + encoded + b"&" + encoded)
    assert not hotpath.inline_target(b"/queries?" + encoded)
    assert not hotpath.inline_target(b"/sparql?" + urlencode({"query": RUNAWAY}).encode())
    assert not hotpath.inline_target(b"/sparql?query=%ff")  # not UTF-8
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
