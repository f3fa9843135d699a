"""Read a SPARQL 1.1 Protocol request: which query, which dataset, which format asked for.

Errors are raised as :class:`ProtocolError` with the HTTP status and a sentence saying
what happened; the view turns them into plain-text responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from flask import Request
from werkzeug.exceptions import HTTPException

from exomirkg.sparql.guard import QueryRefused

__all__ = ["ProtocolError", "ProtocolRequest", "read_request"]

#: POST bodies we accept.
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
#: Said on every refused update, whatever its form.
READ_ONLY = ("SPARQL Update is not accepted: this is a read-only endpoint "
             "(queries only: SELECT, ASK, CONSTRUCT, DESCRIBE)")


class ProtocolError(QueryRefused):
    """A request the protocol (or our read-only policy) refuses: status and sentence, as a
    refusal of the query core (``QueryRefused``), which the views answer the same way."""


@dataclass(frozen=True)
class ProtocolRequest:
    """A query request, or ``query=None`` for a bare GET (the Service Description)."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    format: str | None = None


def _charset_ok(request: Request) -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"request body declared as charset={charset}; "
                                 "SPARQL requests must be UTF-8")


def _check_utf8(encoded: bytes, where: str) -> None:
    """Refuse percent-encoded fields that are not UTF-8 (400).

    Werkzeug decodes them with replacement characters, so a stray byte inside a string
    literal would silently turn the query into another one.
    """
    if encoded.isascii() and b"%" not in encoded:
        return
    for field in encoded.split(b"&"):
        try:
            unquote_to_bytes(field.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the {where} is not valid UTF-8 (byte "
                                     f"{error.object[error.start]:#04x}); percent-encode the "
                                     "query's UTF-8 bytes") from None


def _body(request: Request, body_cap: int) -> bytes:
    """The whole request body, at most ``body_cap`` bytes (413 above, 400 unreadable)."""
    try:
        raw = request.get_data(cache=True)
    except HTTPException:
        raise
    except Exception as error:  # the server's input stream: a broken chunked encoding...
        raise ProtocolError(400, f"the request body could not be read ({type(error).__name__})"
                                 "; send it whole, with a correct Content-Length or "
                                 "chunked encoding") from None
    # The app lets Werkzeug read one byte past the cap, so a body without a length (chunked)
    # that is over the cap is seen whole-or-more here, never silently cut at the cap.
    if len(raw) > body_cap:
        raise ProtocolError(413, f"request body is over the {body_cap}-byte limit")
    return raw


def read_request(request: Request, body_cap: int) -> ProtocolRequest:
    """Parse a GET or POST to /sparql.

    :param body_cap: largest accepted request body in bytes (413 above).
    :raises ProtocolError: 400/403/413/415 with the reason.
    """
    length = request.content_length
    if length is not None and length > body_cap:
        raise ProtocolError(413, f"request body of {length} bytes is over the "
                                 f"{body_cap}-byte limit")
    _check_utf8(request.query_string, "URL's query string")
    args = request.args
    method = request.method
    if method in ("GET", "HEAD"):
        params = args
    elif request.mimetype == FORM:
        _charset_ok(request)
        _check_utf8(_body(request, body_cap), "form body")
        params = request.form
    elif request.mimetype == DIRECT:
        _charset_ok(request)
        params = args
    elif request.mimetype == UPDATE:
        raise ProtocolError(403, READ_ONLY)
    elif not request.mimetype:
        raise ProtocolError(415, f"POST needs a Content-Type: {FORM} or {DIRECT}")
    else:
        raise ProtocolError(415, f"unsupported Content-Type {request.mimetype}; "
                                 f"POST a query as {FORM} or {DIRECT}")
    if "update" in params or "update" in args:
        raise ProtocolError(403, READ_ONLY)
    queries = params.getlist("query")
    if method == "POST" and request.mimetype == DIRECT:
        if "query" in args:
            raise ProtocolError(400, "a direct POST carries the query in the body; "
                                     "do not also send a 'query' URL parameter")
        raw = _body(request, body_cap)
        try:
            queries = [raw.decode("utf-8")]
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"request body is not valid UTF-8: {error}") from None
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} 'query' parameters given; send exactly one")
    # Dataset parameters: in the body for a form POST, in the URL otherwise (W3C tests).
    default_graphs = params.getlist("default-graph-uri") or args.getlist("default-graph-uri")
    named_graphs = params.getlist("named-graph-uri") or args.getlist("named-graph-uri")
    # ``output=`` is Fuseki's name for ``format=``; scripts written for Fuseki send it.
    fmt = (params.get("format") or args.get("format") or params.get("output")
           or args.get("output"))
    query = queries[0] if queries else None
    if query is not None and not query.strip():
        raise ProtocolError(400, "the 'query' parameter is empty")
    if query is None and method == "POST":
        raise ProtocolError(400, "POST without a 'query': send query=... (form) or the query "
                                 "text (application/sparql-query)")
    return ProtocolRequest(query=query, default_graphs=tuple(default_graphs),
                           named_graphs=tuple(named_graphs), format=fmt)
