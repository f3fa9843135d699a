"""The SPARQL 1.1 Protocol: read a request (which query, which dataset, which format asked
for) and answer it (:func:`execute`), for /sparql and /queries/<name> alike.

Errors are raised as :class:`ProtocolError` with the HTTP status and a sentence saying
what happened; one error handler (:func:`exomirkg.web.helpers.install`) turns them into
plain-text responses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_to_bytes

from flask import Flask, Request, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.utils import get_current_url

from exomirkg.sparql import negotiation
from exomirkg.sparql.engine import (
    UNCAPPED,
    EngineBusy,
    EngineCrashed,
    EngineMemory,
    EngineTimeout,
    Job,
    Parker,
    evaluate,
)
from exomirkg.sparql.guard import SERVICE_REFUSED, QueryRefused, check_bounds
from exomirkg.sparql.results import truncation_note
from exomirkg.sparql.state import GraphState
from exomirkg.web.helpers import choose_media, plain_text

__all__ = ["EXPOSED_HEADERS", "Answer", "ProtocolError", "ProtocolRequest", "answer", "execute",
           "read_request"]

#: POST bodies we accept.
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
#: Headers a browser script on another origin may read from a query's answer.
EXPOSED_HEADERS = "X-Exomirkg-Truncated, X-Exomirkg-Rows, Warning, Content-Type"
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


def _check_utf8(encoded: bytes, where: str,
                decoded: Callable[[], MultiDict[str, str]] | None = None) -> None:
    """Refuse percent-encoded fields that are not UTF-8 (400).

    Werkzeug leaves such bytes percent-encoded in what it decodes, so a stray byte inside a
    string literal would silently turn the query into another one.

    :param decoded: Werkzeug's decoding of ``encoded`` (``request.args`` or ``.form``): with
        no ``%`` left in it, every byte decoded (the check then costs a scan, not a second
        decoding in Python: ~85 µs of a lookup's time).
    """
    if encoded.isascii():
        if b"%" not in encoded:
            return
        if decoded is not None and not any("%" in key or "%" in value
                                           for key, value in decoded().items(multi=True)):
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


def _get(values: MultiDict[str, str], key: str) -> str | None:
    """``values.get(key)`` without the exception Werkzeug raises and catches on a miss."""
    return values[key] if key in values else None


def read_request(request: Request, body_cap: int) -> ProtocolRequest:
    """Parse a GET or POST to /sparql.

    :param body_cap: largest accepted request body in bytes (413 above).
    :raises ProtocolError: 400/403/413/415 with the reason.
    """
    length = request.content_length
    if length is not None and length > body_cap:
        raise ProtocolError(413, f"request body of {length} bytes is over the "
                                 f"{body_cap}-byte limit")
    _check_utf8(request.query_string, "URL's query string", lambda: request.args)
    args = request.args
    method = request.method
    if method in ("GET", "HEAD"):
        params = args
    elif request.mimetype == FORM:
        _charset_ok(request)
        _check_utf8(_body(request, body_cap), "form body", lambda: request.form)
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
    fmt = (_get(params, "format") or _get(args, "format") or _get(params, "output")
           or _get(args, "output"))
    query = queries[0] if queries else None
    if query is not None and not query.strip():
        raise ProtocolError(400, "the 'query' parameter is empty")
    if query is None and method == "POST":
        raise ProtocolError(400, "POST without a 'query': send query=... (form) or the query "
                                 "text (application/sparql-query)")
    return ProtocolRequest(query=query, default_graphs=tuple(default_graphs),
                           named_graphs=tuple(named_graphs), format=fmt)


def _offers_for(form: str | None) -> Sequence[str]:
    if form in ("CONSTRUCT", "DESCRIBE"):
        return negotiation.GRAPH_TYPES
    return negotiation.SOLUTION_TYPES


#: ``request.base_url`` re-quotes the URL on every request; it depends on these four only.
_base_url = lru_cache(maxsize=256)(get_current_url)


def _check_graph_names(names: Sequence[str]) -> None:
    import pyoxigraph

    for name in names:
        try:
            pyoxigraph.NamedNode(name)
        except ValueError:
            raise ProtocolError(400, f"graph name {name!r} is not an absolute IRI") from None


@dataclass(frozen=True)
class Answer:
    """A query's response before any web framework touches it: what :func:`execute` makes a
    Flask ``Response`` of, and :mod:`exomirkg.web.hotpath` writes to WSGI itself."""

    status: int
    #: The media type (Werkzeug adds ``; charset=utf-8`` to text types, as for any response).
    media: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _error(status: int, message: str, **headers: str) -> Answer:
    """:func:`~exomirkg.web.helpers.plain_error`'s answer, as an :class:`Answer`."""
    return Answer(status, "text/plain", plain_text(message).encode(), tuple(headers.items()))


def answer(req: Request, query: str, *, default_graphs: Sequence[str] = (),
           named_graphs: Sequence[str] = (), fmt: str | None = None,
           app: Flask | None = None, inline_rows: int = 0,
           parker: Parker | None = None) -> Answer | None:
    """Check, evaluate (in a worker, under the time limit) and serialise one query.

    A lookup (one pattern, a fixed subject or object: ``guard.is_lookup``) is evaluated in
    this process instead: it is one index scan, bounded by the data, so it cannot run away.
    Graph names never cause a fetch: a name the store does not hold is an empty graph.

    :param req: the request (its Accept header and URL); no request context is needed.
    :param app: the app whose settings and store apply (default: the current app).
    :param inline_rows: the server's event loop asks (web/front.py): a lookup evaluated here
        may have at most this many rows, and without ``parker`` only a lookup or a query
        from the answer cache is answered; 0: a thread asks, any query is answered.
    :param parker: how the event loop waits for a query process without blocking
        (``engine.Parker``); None: this thread blocks.
    :returns: the answer; None (only with ``inline_rows``) when the event loop cannot give
        it: nothing is answered, and a thread asks again without ``inline_rows``.
    :raises QueryRefused: the query is refused before evaluation (``ProtocolError``
        included); nothing was evaluated.
    """
    # The time limit counts from here: waiting for a query process is part of it.
    arrival = time.monotonic()
    shape = check_bounds(query)
    if shape.is_update:
        raise ProtocolError(403, READ_ONLY)
    if shape.has_service:
        # A first, fast refusal; the decision is the parser's (guard.verify) in the
        # query process, which a lexer cannot be tricked around.
        raise ProtocolError(403, SERVICE_REFUSED)
    offers = _offers_for(shape.form)
    media = choose_media(offers, fmt=fmt, req=req)
    if media is None:
        asked = fmt or req.headers.get("Accept")
        raise ProtocolError(406, f"cannot answer a {shape.form or 'SELECT'} query as {asked}; "
                                 f"available: {', '.join(offers)}")
    _check_graph_names([*default_graphs, *named_graphs])
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    cap = int(config["ROW_CAP"] or 0)
    protocol_dataset = bool(default_graphs or named_graphs)
    state: GraphState = app.extensions["exomirkg"]
    engine = state.engine
    assert engine is not None
    here = shape.is_lookup and state.inprocess_lookups
    kept = state.answers
    # The event loop (inline_rows) evaluates a lookup, its rows bounded (a cut answer shows
    # there are more: it is not sent); any other query it sends to a query process only if
    # it can wait for it without blocking (parker), else it gives only the answer cache's.
    job = Job(query=query, media=media,
              row_cap=min(cap or UNCAPPED, inline_rows if here and inline_rows else UNCAPPED),
              union=not shape.has_dataset_clause and not protocol_dataset,
              default_graphs=tuple(default_graphs) if protocol_dataset else None,
              named_graphs=tuple(named_graphs) if protocol_dataset else None,
              base_iri=_base_url(req.scheme, req.host, req.root_path, req.path))
    timeout = float(config["QUERY_TIMEOUT"])
    # An answer given before, within the limits, is given again (sparql/answers.py).
    outcome = kept.get(job) if kept is not None else None
    fresh = outcome is None
    if inline_rows and not here and fresh and parker is None:
        return None
    try:
        if fresh and here:
            # One index scan: bounded by the data, so no killable process is needed.
            outcome = evaluate(state.store, job, engine.source.prefixes)
        elif fresh:
            outcome = engine.run(job, deadline=arrival + timeout, parker=parker)
    except EngineTimeout:
        return _error(503, f"query stopped: it ran longer than the {timeout:g} s time limit "
                           "(QUERY_TIMEOUT); narrow it or add LIMIT", **{"Retry-After": "1"})
    except EngineBusy:
        return _error(503, f"all {engine.size} query processes are busy and the queue for "
                           "them is full; try again shortly", **{"Retry-After": "2"})
    except EngineMemory:
        limit = int(config.get("QUERY_MEMORY") or 0)
        return _error(503, f"query stopped: it needed more than the {limit} MB memory "
                           "limit (QUERY_MEMORY); narrow it, drop ORDER BY or add LIMIT",
                      **{"Retry-After": "1"})
    except EngineCrashed as error:
        return _error(500, f"the query process crashed while evaluating this query ({error})"
                           "; it was replaced. Please report the query.")
    if outcome.kind in ("syntax", "refused", "query"):
        status = outcome.status or 400
        prefix = {"syntax": "malformed query: ", "query": "query could not be evaluated: "}
        return _error(status, prefix.get(outcome.kind, "") + outcome.message)
    if outcome.kind != "ok":
        return _error(500, f"query evaluation failed: {outcome.message}")
    if outcome.truncated and job.row_cap < (cap or UNCAPPED):
        return None  # more rows than the event loop answers: a thread writes them all
    if fresh and kept is not None:
        kept.put(job, outcome)
    headers: tuple[tuple[str, str], ...] = (("X-Exomirkg-Rows", str(outcome.rows)),
                                            ("Vary", "Accept"))
    if outcome.truncated:
        headers += (("X-Exomirkg-Truncated", f"true; limit={cap}"),
                    ("Warning", f'199 exomirkg "{truncation_note(cap)}"'))
    return Answer(200, media, outcome.body, headers)


def execute(query: str, *, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
            fmt: str | None = None) -> Response:
    """:func:`answer` for the current request, as a Flask response.

    :raises QueryRefused: the query is refused before evaluation; the app's error handler
        answers it.
    """
    # The request object itself, not the context proxy: it is read several times.
    done = answer(request._get_current_object(), query,  # type: ignore[attr-defined]
                  default_graphs=default_graphs, named_graphs=named_graphs, fmt=fmt)
    assert done is not None  # None only for inline_rows
    # Headers given whole: each later assignment would scan the header list again.
    return Response(done.body, status=done.status, mimetype=done.media,
                    headers=list(done.headers))
