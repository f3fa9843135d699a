"""A query sent by GET to /sparql, answered beside Flask rather than through it.

Such a request is most of an endpoint's traffic, and for a small answer Flask's own work
(a request context pushed and popped, URL routing, the after-request hooks, a ``Response``
object and its WSGI conversion) cost more than evaluating the query: a label lookup took
~1.5x an empty Flask request, the bare Flask + pyoxigraph app ~1.25x (issue 17, point 4).
:class:`SparqlHotPath` wraps the app's WSGI callable and answers these requests with the same
functions the Flask view calls (:func:`~exomirkg.web.protocol.read_request` and
:func:`~exomirkg.web.protocol.answer`: the same guard, time limit, memory limit, caps and
query processes), then adds the headers the app's hooks would add: the security headers
(:data:`~exomirkg.web.security.COMMON_HEADERS`) and CORS for ``CORS_ORIGINS = "*"``.

Anything else goes to Flask unchanged, decided before a query is evaluated: other paths
and methods, a request without a query (the Service Description), a query the protocol or
the guard refuses (the app's one error handler words it), an origin granted by name (its
answer varies by Origin), trusted-host or server-name settings, and an external engine.
``tests/test_sparql_hotpath.py`` compares both paths' responses header by header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import get_content_type

from exomirkg.backends import is_external
from exomirkg.sparql.guard import QueryRefused
from exomirkg.web.delivery import allowed_origin
from exomirkg.web.protocol import EXPOSED_HEADERS, answer, read_request
from exomirkg.web.security import COMMON_HEADERS

__all__ = ["SparqlHotPath"]

#: What the after-request hooks add to a /sparql answer when every origin is allowed.
_ANY_ORIGIN = (("Access-Control-Allow-Origin", "*"),
               ("Access-Control-Expose-Headers", EXPOSED_HEADERS))
_SECURITY = tuple(COMMON_HEADERS.items())
#: Settings under which Flask's request handling differs from what this module does.
_FLASK_ONLY = ("TRUSTED_HOSTS", "SERVER_NAME")


def _status_line(code: int) -> str:
    # As Werkzeug's Response writes it.
    return f"{code} {HTTP_STATUS_CODES.get(code, 'UNKNOWN').upper()}"


class SparqlHotPath:
    """WSGI middleware: GET /sparql with a query answered without Flask (module docstring)."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        """:param app: the app (settings, store, engine, request class).
        :param inner: the WSGI callable everything else goes to (Flask's ``wsgi_app``)."""
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != "/sparql"
                or not environ.get("QUERY_STRING")):
            return self.inner(environ, start_response)
        done = self._answer(environ)
        if done is None:
            return self.inner(environ, start_response)
        status, headers, body = done
        start_response(status, headers)
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]],
                                                        bytes] | None:
        """Status line, headers and body; None to leave the request to Flask."""
        config = self.app.config
        if any(config.get(name) for name in _FLASK_ONLY) or is_external(config.get("BACKEND")):
            return None
        granted = allowed_origin(config, environ.get("HTTP_ORIGIN"))
        if granted not in (None, "*"):
            return None
        # No context: the request object alone, as the view reads it (a GET has no body).
        req = self.app.request_class(environ, populate_request=False)
        try:
            parsed = read_request(req, int(config["BODY_CAP"]))
            if parsed.query is None:
                return None
            done = answer(req, parsed.query, default_graphs=parsed.default_graphs,
                          named_graphs=parsed.named_graphs, fmt=parsed.format, app=self.app)
        except QueryRefused:
            # Refused before evaluation: Flask reads the request again and its one error
            # handler answers (exomirkg.web.helpers.install).
            return None
        headers = [*done.headers, ("Content-Type", get_content_type(done.media, "utf-8")),
                   ("Content-Length", str(len(done.body)))]
        if granted == "*":
            headers += _ANY_ORIGIN
        headers += _SECURITY
        return _status_line(done.status), headers, done.body
