"""gunicorn's threaded worker, made to buffer each request before a thread takes it.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first byte
arrives; the thread then blocks reading the rest, so a client sending its headers at one byte
a second holds a thread for as long as it likes (eight such clients stalled every request of
a default server for a minute). Here the worker's own event loop reads each request whole,
head and body, without blocking, and only a complete request reaches a thread; a request not
complete within :attr:`BufferingWorker.read_timeout` seconds is answered 408 and closed. This
is what a buffering reverse proxy (nginx) does in front of gunicorn, inside the one process
``exomirkg serve`` starts, so the README's one command stays safe.

Once a thread has the request, the socket keeps an I/O time limit: a client that stops
reading its answer is dropped after :attr:`BufferingWorker.io_timeout` seconds, as a reset
connection (which gunicorn ignores quietly), never a traceback.

Three savings of the same kind a proxy would bring (issue 17, measured in
server/README.md): a response's head leaves with its body in one send; a worker holding its
share of connections lets a sibling accept the next one (:attr:`BufferingWorker.accept_share`),
so one worker's query queue does not overflow while another's idles; and
:class:`AccessLogger` writes gunicorn's default access line without building every value a
format could name.

And one a proxy cannot bring: a query sent to /sparql by GET, or by a POST whose whole body
(2 kB at most) came with a Content-Length (told by :attr:`BufferingWorker.inline_target`),
is answered by the event loop itself, without the hop to a thread and back. A lookup, or an
answer the answer cache holds, is given at once. Any other query runs in a greenlet of its
own, which parks while it waits for a query process and for its answer
(:class:`_LoopParker`: the answer pipe in the loop's selector, the time limit a timer of the
loop's), and the loop serves other connections meanwhile; the same pool, time limit, memory
watch and queue apply (``engine.QueryEngine``), waiting callers served in turn whether they
are threads or parked requests. An answer is sent as it is written, without blocking, and
what the client is not ready to take is left to a thread to send, under the I/O time limit.
The app raises :class:`NotInline` for anything it cannot answer so (a lookup of too many
rows, a refusal its error pages word), and a thread answers that request as usual.

Why: a request thread costs each query two wake-ups (loop to thread, thread back to the
loop's method queue) and, at 8 clients on 2 cores, the threads' contention for the GIL: a
lookup answered by the loop served 1.54x the requests per second of one a thread answered
(8 clients, review graph), and a ``subClassOf*`` query parked in the loop takes 952 µs of
server CPU against 1,002 µs through a thread (bare app: 887 µs; server/README.md, *Queries
parked in the event loop*).
"""

from __future__ import annotations

import errno
import heapq
import itertools
import re
import selectors
import socket
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any

from greenlet import getcurrent, greenlet
from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import TConn, ThreadWorker

from exomirkg.sparql.engine import Parker, Waiter

__all__ = ["AccessLogger", "BufferingWorker", "HeadScan", "NotInline", "request_complete"]

_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:[^\n]*chunked", re.IGNORECASE)
#: A header announcing a request body (an inline GET has none).
_BODY_HEADER = re.compile(rb"\n(?:content-length|transfer-encoding)[ \t]*:", re.IGNORECASE)
#: A header an inline POST must not have: its body's length is its Content-Length alone.
_TRANSFER_ENCODING = re.compile(rb"\ntransfer-encoding[ \t]*:", re.IGNORECASE)
#: A response head announcing an empty body.
_ZERO_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*0\r\n", re.IGNORECASE)
#: A head longer than this is handed over as it is: gunicorn refuses it (431/400).
_HEAD_LIMIT = 64 * 1024
#: Seconds a worker over its share of connections stays out of the accept race.
ACCEPT_PAUSE = 0.02
#: Request greenlets an event loop keeps for its next requests (more are made while many
#: requests are parked at once, and end after theirs).
_KEPT_GLETS = 16
_TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                   b"Content-Type: text/plain\r\nContent-Length: 44\r\n\r\n"
                   b"request not received in time; send it whole\n")


class NotInline(Exception):
    """Raised by the app, before it starts a response, for a request the event loop took
    (:attr:`BufferingWorker.inline_target`) that it cannot answer there: a thread answers it."""


def _bodiless(head: bytes) -> bool:
    """Whether a response head announces no body (204, 304, ``Content-Length: 0``): nothing
    will follow it, so it is sent at once."""
    return head[9:12] in (b"204", b"304") or _ZERO_LENGTH.search(head) is not None


class HeadScan:
    """What the reads of one request have found so far, kept between them: each read
    searches only the bytes that came with it (and the two before them), and the head's
    framing headers are read once.

    Searched again from the start, a head trickled in small pieces cost the event loop time
    in the square of its length: a 64 kB head sent 64 bytes at a time took 0.34 s of it with a
    regular expression, while every other client of that worker waited; and every piece of a
    body read the whole head again.
    """

    __slots__ = ("chunked", "declared", "end", "searched", "start")

    def __init__(self) -> None:
        #: Where the search for the blank line goes on.
        self.searched = 0
        #: Where the blank line after the head starts and ends; -1 until it has come.
        self.start = self.end = -1
        #: The head's Content-Length (-1: none), and whether it says chunked.
        self.declared = -1
        self.chunked = False


def _blank_line(buffer: bytes | bytearray, scan: HeadScan) -> bool:
    """Find the blank line ending the head (``\\r?\\n\\r?\\n``: the first line feed followed by
    another, alone or after a carriage return) from ``scan.searched`` on; whether it came.

    >>> scan = HeadScan()
    >>> _blank_line(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r", scan), scan.searched
    (False, 24)
    >>> _blank_line(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nbody", scan), scan.start, scan.end
    (True, 23, 27)
    """
    lone = buffer.find(b"\n\n", scan.searched)
    crlf = buffer.find(b"\n\r\n", scan.searched)
    if lone < 0 and crlf < 0:
        # A line feed in the last two bytes may begin the blank line: search them again.
        scan.searched = max(0, len(buffer) - 2)
        return False
    at, scan.end = (lone, lone + 2) if crlf < 0 or 0 <= lone < crlf else (crlf, crlf + 3)
    scan.start = at - 1 if at > 0 and buffer[at - 1] == 13 else at  # a CR before it
    return True


def request_complete(buffer: bytes | bytearray, body_cap: int,
                     scan: HeadScan | None = None) -> bool:
    """Whether ``buffer`` holds a whole request (or enough for the server to refuse it).

    :param scan: what the previous reads of this request found (a new one for a new
        request); without it, the whole buffer is read.

    >>> request_complete(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n", 100)
    False
    >>> request_complete(b"POST / HTTP/1.1\\r\\nContent-Length: 5\\r\\n\\r\\nab", 100)
    False
    >>> request_complete(b"POST / HTTP/1.1\\r\\nContent-Length: 500\\r\\n\\r\\nab", 100)
    True
    """
    if scan is None:
        scan = HeadScan()
    if scan.end < 0:
        if not _blank_line(buffer, scan):
            return len(buffer) > _HEAD_LIMIT
        head = bytes(buffer[:scan.start])
        scan.chunked = _CHUNKED.search(head) is not None
        length = _CONTENT_LENGTH.search(head)
        scan.declared = -1 if length is None else int(length.group(1))
    body = len(buffer) - scan.end
    if scan.chunked:
        # The last chunk ends the body; a larger body than the cap is refused unread.
        return bytes(buffer[-5:]) == b"0\r\n\r\n" or body > body_cap
    if scan.declared < 0:
        return True
    return scan.declared > body_cap or body >= scan.declared


class _TimedSocket(socket.socket):
    """A client socket whose blocking operations end after ``io_timeout`` seconds.

    gunicorn switches sockets to blocking mode, which would clear a timeout, so blocking
    here means "with the time limit". A timeout surfaces as a reset connection.
    """

    io_timeout: float = 10.0
    #: Set before a request is handled: the next ``sendall`` is the response's head (or a
    #: whole error response); it is kept and sent with the first bytes of the body, in one
    #: ``sendmsg``, or by :meth:`release_head` when the request is done.
    hold_head: bool = False
    _held: bytes | None = None
    #: While the event loop answers a request (:meth:`BufferingWorker._answer_inline`): what
    #: the app wrote that is not sent yet. Nothing blocks: the head waits for the body, both
    #: go in one send as far as the client takes them, and the rest waits here.
    collect: list[Any] | None = None
    #: Whether any of the event loop's answer was sent (it can no longer be taken back).
    sent_inline: bool = False
    #: While the event loop answers a request: how the app waits for a query process
    #: without blocking the loop (:class:`_LoopParker`).
    parker: Parker | None = None

    @property
    def inline(self) -> bool:
        """Whether the event loop is answering this socket's request (the app reads it from
        ``environ["gunicorn.socket"]`` and raises :class:`NotInline` for what it cannot)."""
        return self.collect is not None

    def release_head(self) -> None:
        """Send a head still held (a response without a body), once its request is done."""
        self.hold_head = False
        held, self._held = self._held, None
        if held:
            try:
                self.sendall(held)
            except OSError:  # the client went away; gunicorn drops the connection
                pass

    def _flush_head(self) -> None:
        held, self._held = self._held, None
        if held:
            super().sendall(held)

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.io_timeout)
        else:
            super().setblocking(False)

    def recv(self, *args: Any) -> bytes:
        try:
            return super().recv(*args)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self.collect is not None:
            self.collect.append(bytes(data))
            if len(self.collect) > 1:  # the head and (some of) the body: send what goes
                self.send_collected()
            return
        if self.hold_head:
            self.hold_head = False
            if not _bodiless(bytes(data[:4096])):
                self._held = bytes(data)
                return
        held, self._held = self._held, None
        try:
            if held is None:
                super().sendall(data, flags)
                return
            # Head and body in one call, without copying the body into a new buffer.
            body = memoryview(data).cast("B")
            sent = self.sendmsg([held, body], [], flags)
            if sent < len(held):
                super().sendall(held[sent:], flags)
                sent = len(held)
            if sent - len(held) < len(body):
                super().sendall(body[sent - len(held):], flags)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None

    def send_collected(self) -> None:
        """Send as much of :attr:`collect` as the client takes now, without blocking, in one
        ``sendmsg``: the head and the body are not joined, nor the rest cut off as a copy
        (each a copy of the whole answer, which a thread's ``sendmsg`` does not make)."""
        assert self.collect is not None
        parts = self.collect
        try:
            sent = super().sendmsg(parts) if parts else 0
        except BlockingIOError:
            sent = 0
        self.sent_inline = self.sent_inline or sent > 0
        rest: list[Any] = []
        for part in parts:
            if sent >= len(part):
                sent -= len(part)
            else:
                rest.append(memoryview(part)[sent:] if sent else part)
                sent = 0
        self.collect = rest

    def send(self, *args: Any) -> int:
        try:
            self._flush_head()
            return super().send(*args)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None

    def sendfile(self, *args: Any, **kwargs: Any) -> int:
        try:
            self._flush_head()
            return super().sendfile(*args, **kwargs)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None


class _Park:
    """One wait of a request the event loop answers: its greenlet sleeps in :meth:`wait`
    until the loop calls :meth:`resume` (a pipe became readable, a query process was handed
    over, or the time ran out); the first call wins, any later one finds it over."""

    __slots__ = ("done", "glet")

    def __init__(self) -> None:
        self.glet: Any = getcurrent()
        self.done = False

    def wait(self) -> bool:
        """In the request's greenlet: let the loop go on until :meth:`resume`; its value."""
        loop = self.glet.parent
        if loop is None:  # only a request's own greenlet may park, never the loop itself
            raise RuntimeError("the event loop cannot park itself")
        return bool(loop.switch())

    def resume(self, value: bool) -> None:
        """In the event loop: go on with the parked request (until it parks again or ends)."""
        if self.done:
            return
        self.done = True
        glet, self.glet = self.glet, None  # a timer left in the heap holds no frames
        glet.switch(value)


class _LoopParker:
    """:class:`~exomirkg.sparql.engine.Parker` for the event loop: the request's greenlet
    parks, and the loop serves other connections until the wait is over."""

    def __init__(self, loop: BufferingWorker) -> None:
        self.loop = loop

    def readable(self, fd: int, timeout: float | None) -> bool:
        park = _Park()
        poller = self.loop.poller
        poller.register(fd, selectors.EVENT_READ, lambda _: park.resume(True))
        self.loop.arm(park, timeout)
        try:
            return park.wait()
        finally:
            poller.unregister(fd)

    def waiter(self) -> Waiter:
        return _LoopWaiter(self.loop)


class _LoopWaiter(Waiter):
    """A request the event loop parked until the pool hands it a query process (from this
    loop or a request thread: the hand-over reaches the loop through its method queue)."""

    def __init__(self, loop: BufferingWorker) -> None:
        # Not Waiter's: no Event to block on, the request parks instead (hold).
        self.worker = None
        self.loop = loop
        self.park = _Park()

    def hold(self, timeout: float) -> None:
        if self.worker is None:  # not handed one already
            self.loop.arm(self.park, timeout)
            self.park.wait()
        self.park.done = True  # a hand-over still on its way finds the wait over

    def wake(self) -> None:
        self.loop.method_queue.defer(self.park.resume, True)


class BufferingWorker(ThreadWorker):
    """``gthread`` with requests read whole by the event loop before a thread takes them."""

    #: Seconds a client has to send a whole request (head and body).
    read_timeout: float = 10.0
    #: Seconds any later blocking read or write on the socket may take.
    io_timeout: float = 10.0
    #: Bodies declared larger than this are handed over unread (the app answers 413).
    body_cap: int = 1_000_000
    #: Open connections past which this worker lets a sibling accept the next one first
    #: (0: never). ``exomirkg serve`` sets the query places of one worker (query processes
    #: + queue): past them, a worker's clients get 503 while a sibling's places stay empty.
    accept_share: int = 0
    #: Whether a request to a target (bytes), a GET or a POST with a body of so many bytes
    #: (None: a GET), may be answered by the event loop: set by ``exomirkg serve``
    #: (``hotpath.inline_target``); None: every request goes to a thread.
    inline_target: Callable[[bytes, int | None], bool] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Read once: gunicorn's ``cfg.is_ssl`` looks up two settings on every call.
        self.tls = bool(self.cfg.is_ssl)
        self.buffering: deque[Any] = deque()
        #: While a worker over its share stays out of the accept race (monotonic time).
        self.accept_paused_until = 0.0
        #: Until when, after a pause, this worker accepts whatever its share.
        self.accept_free_until = 0.0
        #: How requests the event loop answers wait for query processes; what they wait
        #: for at most: (deadline, ticket, park), earliest first (those resumed are left
        #: in until they come first, or the heap is compacted).
        self.parker = _LoopParker(self)
        self.timers: list[tuple[float, int, _Park]] = []
        self._tickets = itertools.count()
        self._compact_at = 256
        #: Request greenlets waiting for their next request (:meth:`_inline_loop`).
        self.glets: list[greenlet] = []

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled and time.monotonic() < self.accept_paused_until:
            return  # the event loop re-enables accepting each turn; not during a pause
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.accept_paused_until:
            left = self.accept_paused_until - time.monotonic()
            if left > 0:
                timeout = min(timeout, left)
            else:
                self.accept_paused_until = 0.0
                super().set_accept_enabled(self.nr_conns < self.worker_connections)
        if self.timers:
            timeout = min(timeout, max(0.0, self.timers[0][0] - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        self._fire_timers()

    def arm(self, park: _Park, timeout: float | None) -> None:
        """Resume ``park`` with False after ``timeout`` seconds unless something resumed it
        first (None: no time limit)."""
        if timeout is not None:
            heapq.heappush(self.timers,
                           (time.monotonic() + timeout, next(self._tickets), park))

    def _fire_timers(self) -> None:
        timers = self.timers
        if len(timers) > self._compact_at:
            timers[:] = [timer for timer in timers if not timer[2].done]
            heapq.heapify(timers)
            self._compact_at = max(256, 2 * len(timers))
        now = time.monotonic()
        while timers and (timers[0][2].done or timers[0][0] <= now):
            heapq.heappop(timers)[2].resume(False)

    def _over_share(self) -> bool:
        """Whether to leave the next connection to a sibling worker and pause accepting.

        All workers are woken by a new connection; one with fewer connections may take it.
        After a pause, a worker accepts freely for as long again (its siblings were busy or
        over their share too), so no connection waits more than about one pause.
        """
        if not self.accept_share or self.cfg.workers < 2 or self.nr_conns < self.accept_share:
            return False
        now = time.monotonic()
        if now < self.accept_free_until:
            return False
        self.accept_paused_until = now + ACCEPT_PAUSE
        self.accept_free_until = self.accept_paused_until + ACCEPT_PAUSE
        super().set_accept_enabled(False)
        return True

    def accept(self, listener: socket.socket) -> None:
        if self._over_share():
            return
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        timed = _TimedSocket(client.family, client.type, client.proto, fileno=client.detach())
        timed.io_timeout = self.io_timeout
        self.nr_conns += 1
        conn = TConn(self.cfg, timed, address, listener.getsockname())
        self._start_buffering(conn)

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection has a new request: buffer it too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_buffering(conn)

    def _start_buffering(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.prebuffer = bytearray()
        conn.head_scan = HeadScan()
        conn.read_deadline = time.monotonic() + self.read_timeout
        # Read now: a kept-alive socket is readable already, and a new one often is; this
        # saves a turn of the event loop per request (measured: ~10% of a lookup at c=1).
        # Only a request not whole yet is watched (two epoll_ctl calls saved per request).
        if not self._read_request(conn, watched=False):
            self.buffering.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self._on_buffer_readable, conn))

    def _unregister(self, conn: TConn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):  # already gone
            pass

    def _stop_buffering(self, conn: TConn) -> None:
        self._unregister(conn)
        try:
            self.buffering.remove(conn)
        except ValueError:
            pass

    def _on_buffer_readable(self, conn: TConn, client: Any) -> None:
        self._read_request(conn, watched=True)

    def _read_request(self, conn: TConn, *, watched: bool) -> bool:
        """Read what the client sent; a whole request goes to a thread, a connection the
        client ended is closed. Whether the connection is done with buffering.

        :param watched: the event loop watches the connection (stop that first).
        """
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:
            if watched:
                self._stop_buffering(conn)
            self.nr_conns -= 1
            conn.close()
            return True
        conn.prebuffer += data
        if not request_complete(conn.prebuffer, self.body_cap, conn.head_scan):
            return False
        if watched:
            self._stop_buffering(conn)
        conn.data_ready = True
        if not self._answer_inline(conn):
            self.enqueue_req(conn)
        return True

    def _answer_inline(self, conn: TConn) -> bool:
        """Answer the buffered request here, in the event loop, if it is one GET without a
        body, or one POST with its whole body (a Content-Length within the cap), nothing
        pipelined behind either, to a target :attr:`inline_target` accepts. Whether the
        request was taken (answered, or handed to a thread after all).

        The app's answer is sent as it is written, without blocking
        (:attr:`_TimedSocket.collect`); a rest the client is not ready to take goes to a
        thread. Whatever fails before a byte is sent (:class:`NotInline` included) is undone:
        the request goes to a thread as it came.
        """
        buffered = conn.prebuffer
        test = self.inline_target
        scan = conn.head_scan  # where buffering found the head's end (a CRLF blank line)
        if test is None or self.tls or scan.end - scan.start != 4:
            return False
        body: int | None = None
        if buffered[:4] == b"GET ":
            if scan.end != len(buffered) or _BODY_HEADER.search(buffered):
                return False
        elif buffered[:5] == b"POST ":
            body = scan.declared
            if (scan.chunked or not 0 <= body <= self.body_cap
                    or len(buffered) != scan.end + body
                    or _TRANSFER_ENCODING.search(buffered, 0, scan.start)):
                return False
        else:
            return False
        line = bytes(buffered[4 if body is None else 5:buffered.find(b"\r\n")])
        target, _, version = line.rpartition(b" ")
        if version not in (b"HTTP/1.1", b"HTTP/1.0") or not test(target, body):
            return False
        conn.init()
        parser = conn.parser
        unreader = getattr(parser, "unreader", None)
        if unreader is None or conn.is_http2:
            return False
        pending = unreader.take_buffered()
        if pending:  # bytes read ahead before (not so after a whole request): handle() sees
            unreader.unread(pending)
            return False
        raw = bytes(buffered)
        conn.prebuffer = bytearray()
        unreader.unread(raw)
        # In a greenlet of its own: a query that needs a query process parks there
        # (_LoopParker) while this loop serves other connections.
        glet = self.glets.pop() if self.glets else greenlet(self._inline_loop)
        glet.switch(conn, raw)
        return True

    def _inline_loop(self, conn: TConn, raw: bytes) -> None:
        """A request greenlet's life: answer a request, wait among :attr:`glets` for the
        next one. A greenlet is kept for the next request because a new one costs an
        ``mmap`` and a ``munmap`` of its Python frame stack (CPython 3.11+): a lookup took
        ~85 µs more server CPU at 8 clients with a greenlet made for each request."""
        me = getcurrent()
        while True:
            self._inline(conn, raw)
            if len(self.glets) >= _KEPT_GLETS:
                return
            self.glets.append(me)
            conn, raw = me.parent.switch()

    def _inline(self, conn: TConn, raw: bytes) -> None:
        """The request's greenlet: answer it, then finish it as a thread's would be."""
        sock = conn.sock
        parser = conn.parser
        unreader = parser.unreader
        sock.collect, sock.sent_inline, sock.parker = [], False, self.parker
        sock.setblocking(False)
        try:
            req = next(parser)
            keep = self._keepalive_after(conn, self.handle_request(req, conn))
            sock.send_collected()  # a head without a body, or a rest
        except OSError:  # the client went away: close, as handle() does
            sock.collect, keep = None, False
        except Exception:  # noqa: BLE001 - NotInline, or anything: a thread does it over
            if sock.sent_inline:  # not once something was sent: close instead
                sock.collect, keep = None, False
            else:
                sock.collect = None
                unreader.take_buffered()
                unreader.unread(raw)
                parser.mesg = None  # the request is read again, not taken as the one before
                self.enqueue_req(conn)
                return
        finally:
            sock.parker = None
        rest = sock.collect or []
        sock.collect = None
        if rest:
            # The client does not take the whole answer now: a thread waits for it to,
            # under the I/O time limit, while this loop goes on.
            sending = self.tpool.submit(self._send_rest, conn, rest, keep)
            sending.add_done_callback(
                lambda fut: self.method_queue.defer(self.finish_request, conn, fut))
            return
        done: Future = Future()
        done.set_result(keep)
        self.finish_request(conn, done)

    @staticmethod
    def _send_rest(conn: TConn, rest: list[Any], keep: bool) -> bool:
        """In a thread: send the rest of an inline answer (its parts) under the I/O time
        limit; whether the connection may serve another request."""
        try:
            conn.sock.setblocking(True)
            for part in rest:
                conn.sock.sendall(part)
        except OSError:
            return False
        return keep

    def handle(self, conn: TConn) -> Any:
        buffered = getattr(conn, "prebuffer", None)
        if buffered:
            conn.prebuffer = bytearray()
            conn.sock.setblocking(True)
            conn.init()
            if conn.parser is not None and hasattr(conn.parser, "unreader"):
                # Bytes the parser read ahead earlier (a pipelined request) come first.
                rest = conn.parser.unreader.take_buffered()
                conn.parser.unreader.unread(rest + bytes(buffered))
        # gunicorn writes a response's head and body in two sends, and with TCP_NODELAY each
        # leaves at once: the client wakes twice. The head waits for the body instead (not
        # for a HEAD request's, or a head announcing no body: nothing follows them).
        sock = conn.sock
        if isinstance(sock, _TimedSocket):
            sock.hold_head = bytes((buffered or b"")[:5]) != b"HEAD "
        try:
            return super().handle(conn)
        finally:
            if isinstance(sock, _TimedSocket):
                sock.release_head()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.buffering and self.buffering[0].read_deadline <= now:
            conn = self.buffering.popleft()
            self._unregister(conn)
            try:
                conn.sock.send(_TIMEOUT_ANSWER)
            except OSError:
                pass
            self.nr_conns -= 1
            conn.close()


class AccessLogger(Logger):
    """gunicorn's logger, with its default access line written from the nine values it shows.

    gunicorn builds every value a format could name for each request (each request header,
    response header and environ entry, then a case-insensitive copy of them all): ~50 µs of
    a request thread's time on a small answer, for a line of nine fields. The same line from
    those nine takes ~20 µs. Any other ``access_log_format`` is left to gunicorn.
    """

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if self.cfg.access_log_format != AccessLogFormat.default:
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        atoms = {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",
            "t": self.now(),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status,
            "b": sent is not None and str(sent) or "-",
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
        }
        for key, value in atoms.items():
            if isinstance(value, str) and '"' in value:
                atoms[key] = value.replace('"', '\\"')  # as gunicorn's SafeAtoms does
        try:
            self.access_log.info(self.cfg.access_log_format, atoms)
        except Exception:  # noqa: BLE001 - as gunicorn: a log line never fails a request
            self.error(traceback.format_exc())
