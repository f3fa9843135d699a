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
"""

from __future__ import annotations

import errno
import re
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

__all__ = ["BufferingWorker", "request_complete"]

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:[^\n]*chunked", re.IGNORECASE)
#: A head longer than this is handed over as it is: gunicorn refuses it (431/400).
_HEAD_LIMIT = 64 * 1024
_TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                   b"Content-Type: text/plain\r\nContent-Length: 44\r\n\r\n"
                   b"request not received in time; send it whole\n")


def request_complete(buffer: bytes | bytearray, body_cap: int) -> bool:
    """Whether ``buffer`` holds a whole request (or enough for the server to refuse it).

    >>> request_complete(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n", 100)
    False
    >>> request_complete(b"POST / HTTP/1.1\\r\\nContent-Length: 5\\r\\n\\r\\nab", 100)
    False
    >>> request_complete(b"POST / HTTP/1.1\\r\\nContent-Length: 500\\r\\n\\r\\nab", 100)
    True
    """
    end = _HEAD_END.search(buffer)
    if end is None:
        return len(buffer) > _HEAD_LIMIT
    head = bytes(buffer[:end.start()])
    body = len(buffer) - end.end()
    if _CHUNKED.search(head):
        # The last chunk ends the body; a larger body than the cap is refused unread.
        return bytes(buffer[-5:]) == b"0\r\n\r\n" or body > body_cap
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        return True
    declared = int(length.group(1))
    return declared > body_cap or body >= declared


class _TimedSocket(socket.socket):
    """A client socket whose blocking operations end after ``io_timeout`` seconds.

    gunicorn switches sockets to blocking mode, which would clear a timeout, so blocking
    here means "with the time limit". A timeout surfaces as a reset connection.
    """

    io_timeout: float = 10.0

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

    def sendall(self, *args: Any) -> None:
        try:
            super().sendall(*args)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None

    def send(self, *args: Any) -> int:
        try:
            return super().send(*args)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None

    def sendfile(self, *args: Any, **kwargs: Any) -> int:
        try:
            return super().sendfile(*args, **kwargs)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "client too slow") from None


class BufferingWorker(ThreadWorker):
    """``gthread`` with requests read whole by the event loop before a thread takes them."""

    #: Seconds a client has to send a whole request (head and body).
    read_timeout: float = 10.0
    #: Seconds any later blocking read or write on the socket may take.
    io_timeout: float = 10.0
    #: Bodies declared larger than this are handed over unread (the app answers 413).
    body_cap: int = 1_000_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffering: deque[Any] = deque()

    def accept(self, listener: socket.socket) -> None:
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
        conn.read_deadline = time.monotonic() + self.read_timeout
        self.buffering.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self._on_buffer_readable, conn))
        # Read now: a kept-alive socket is readable already, and a new one often is; this
        # saves a turn of the event loop per request (measured: ~10% of a lookup at c=1).
        self._on_buffer_readable(conn, conn.sock)

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
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._stop_buffering(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.prebuffer += data
        if request_complete(conn.prebuffer, self.body_cap):
            self._stop_buffering(conn)
            conn.data_ready = True
            self.enqueue_req(conn)

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
        return super().handle(conn)

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
