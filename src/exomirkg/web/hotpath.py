"""A query sent to /sparql (GET, or POST as a form or a direct body), answered beside Flask
rather than through it.

Such a request is most of an endpoint's traffic, and for a small answer Flask's own work
(a request context pushed and popped, URL routing, the after-request hooks, a ``Response``
object and its WSGI conversion) cost more than evaluating the query: a label lookup took
~1.5x an empty Flask request, the bare Flask + pyoxigraph app ~1.25x (issue 17, point 4).
:class:`SparqlHotPath` wraps the app's WSGI callable and answers these requests with the same
functions the Flask view calls (:func:`~exomirkg.web.protocol.read_request` and
:func:`~exomirkg.web.protocol.answer`: the same guard, time limit, memory limit, caps and
query processes), then adds the headers the app's hooks would add: the security headers
(:data:`~exomirkg.web.security.COMMON_HEADERS`) and CORS for ``CORS_ORIGINS = "*"``.

A POST's body is read here only when its Content-Length is given and within ``BODY_CAP``
(a chunked body, or one over the cap, goes to Flask unread); it is buffered, and a request
handed to Flask gets it back as ``wsgi.input``, so Flask reads the very same bytes.

Anything else goes to Flask unchanged, decided before a query is evaluated: other paths
and methods, a request without a query (the Service Description), a query the protocol or
the guard refuses (the app's one error handler words it), an origin granted by name (its
answer varies by Origin), trusted-host or server-name settings, and an external engine.
``tests/test_sparql_hotpath.py`` compares both paths' responses header by header.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type

from exomirkg.backends import is_external
from exomirkg.sparql.engine import Parker
from exomirkg.sparql.guard import QueryRefused
from exomirkg.web.delivery import allowed_origin
from exomirkg.web.front import NotInline
from exomirkg.web.protocol import EXPOSED_HEADERS, answer, read_request
from exomirkg.web.security import COMMON_HEADERS

__all__ = ["INLINE_ROWS", "SparqlHotPath", "inline_target"]

#: What the after-request hooks add to a /sparql answer when every origin is allowed.
_ANY_ORIGIN = (("Access-Control-Allow-Origin", "*"),
               ("Access-Control-Expose-Headers", EXPOSED_HEADERS))
_SECURITY = tuple(COMMON_HEADERS.items())
#: Settings under which Flask's request handling differs from what this module does.
_FLASK_ONLY = ("TRUSTED_HOSTS", "SERVER_NAME")


#: Rows an answer the server's event loop makes may have (a lookup with more is answered by
#: a request thread): ~1 µs each to write, so the loop is never held for long.
INLINE_ROWS = 1000
#: The longest request target, and POST body, :func:`inline_target` takes: what the event
#: loop reads and checks for a request is bounded by it (a 200,000-character query lexed in
#: the loop would hold every other connection of its worker meanwhile).
_INLINE_TARGET = 2048


def inline_target(target: bytes, body: int | None = None) -> bool:
    """Whether a GET (``body`` None) or a POST with a ``body`` of that many bytes to ``target``
    may be answered by the server's event loop (``BufferingWorker.inline_target``,
    web/front.py): a GET to /sparql with a query string, a POST to /sparql, the target and
    the body at most :data:`_INLINE_TARGET` bytes each. A hint: :class:`SparqlHotPath` reads
    the request and declines what it cannot answer so (no query, a refusal, a lookup of too
    many rows...), and a thread answers that.

    >>> inline_target(b"/sparql?query=SELECT+*+%7B+%3Fs+%3Fp+%3Fo+%7D")
    True
    >>> inline_target(b"/sparql"), inline_target(b"/sparql", 40), inline_target(b"/sparql", 4000)
    (False, True, False)
    >>> inline_target(b"/queries?query=x"), inline_target(b"/", 40)
    (False, False)
    """
    if len(target) > _INLINE_TARGET:
        return False
    if body is None:
        return target.startswith(b"/sparql?")
    return body <= _INLINE_TARGET and (target == b"/sparql" or target.startswith(b"/sparql?"))


class _Replay:
    """What was read of a body before its stream failed, then the same failure: a request
    handed to Flask fails as it would have without the hot path."""

    def __init__(self, data: bytes, error: Exception) -> None:
        self.data, self.error = io.BytesIO(data), error

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        if chunk or size == 0:
            return chunk
        raise self.error


def _buffer_body(environ: dict[str, Any], length: int) -> bool:
    """Read the body (``length`` bytes, at most) into memory and put it back as ``wsgi.input``.

    :returns: whether it came whole; if not, what came (and the stream's failure) is what
        Flask will read.
    """
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    got = 0
    try:
        while got < length:
            chunk = stream.read(length - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except Exception as error:  # a broken connection: Flask's path words the failure
        environ["wsgi.input"] = _Replay(b"".join(chunks), error)
        return False
    environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    return got == length


def _status_line(code: int) -> str:
    # As Werkzeug's Response writes it.
    return f"{code} {HTTP_STATUS_CODES.get(code, 'UNKNOWN').upper()}"


class SparqlHotPath:
    """WSGI middleware: a query to /sparql answered without Flask (module docstring)."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        """:param app: the app (settings, store, engine, request class).
        :param inner: the WSGI callable everything else goes to (Flask's ``wsgi_app``)."""
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        # The server's event loop is answering (web/front.py): a query it can answer
        # without blocking (a small lookup, a kept answer, or one it parks for), or nothing.
        sock = environ.get("gunicorn.socket")
        inline = getattr(sock, "inline", False) is True
        done = None
        if environ.get("PATH_INFO") == "/sparql":
            rows, parker = (INLINE_ROWS, getattr(sock, "parker", None)) if inline else (0, None)
            if method == "GET" and environ.get("QUERY_STRING"):
                done = self._answer(environ, rows, parker)
            elif method == "POST":
                done = self._answer_post(environ, rows, parker)
        if done is None:
            if inline:
                raise NotInline
            return self.inner(environ, start_response)
        status, headers, body = done
        start_response(status, headers)
        return [body]

    def _answer_post(self, environ: dict[str, Any], inline_rows: int = 0,
                     parker: Parker | None = None
                     ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """:meth:`_answer` for a POST whose body may be read here (module docstring); the
        event loop gives one whose body it has read whole (web/front.py)."""
        length = environ.get("CONTENT_LENGTH", "")
        if not length.isdigit() or environ.get("HTTP_TRANSFER_ENCODING"):
            return None
        if int(length) > int(self.app.config["BODY_CAP"]):
            return None  # 413, from Flask, without reading a byte of it
        if not _buffer_body(environ, int(length)):
            return None
        body = environ["wsgi.input"]
        done = self._answer(environ, inline_rows, parker)
        if done is None:
            body.seek(0)  # Flask reads the body again, from its start
        return done

    def _answer(self, environ: dict[str, Any], inline_rows: int = 0,
                parker: Parker | None = None
                ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """Status line, headers and body; None to leave the request to Flask (or, with
        ``inline_rows``, to a request thread: :func:`~exomirkg.web.protocol.answer`)."""
        config = self.app.config
        if any(config.get(name) for name in _FLASK_ONLY) or is_external(config.get("BACKEND")):
            return None
        granted = allowed_origin(config, environ.get("HTTP_ORIGIN"))
        if granted not in (None, "*"):
            return None
        # No context: the request object alone, as the view reads it. Flask's request limits
        # (MAX_CONTENT_LENGTH...) are not read without one; a body here is already in memory,
        # within BODY_CAP, and Werkzeug applies no form limit to a URL-encoded form.
        req = self.app.request_class(environ, populate_request=False)
        try:
            parsed = read_request(req, int(config["BODY_CAP"]))
            if parsed.query is None:
                return None
            done = answer(req, parsed.query, default_graphs=parsed.default_graphs,
                          named_graphs=parsed.named_graphs, fmt=parsed.format, app=self.app,
                          inline_rows=inline_rows, parker=parker)
        except (QueryRefused, HTTPException):
            # Refused before evaluation (by the protocol, the guard, or Werkzeug reading a
            # form): Flask reads the request again and its error handlers answer.
            return None
        if done is None:
            return None
        headers = [*done.headers, ("Content-Type", get_content_type(done.media, "utf-8")),
                   ("Content-Length", str(len(done.body)))]
        if granted == "*":
            headers += _ANY_ORIGIN
        headers += _SECURITY
        return _status_line(done.status), headers, done.body
