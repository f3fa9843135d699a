"""The SPARQL endpoint blueprint: /sparql (SPARQL 1.1 Protocol, read-only), /health, VoID."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import lru_cache

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.utils import get_current_url

from exomirkg.backends import is_external
from exomirkg.sparql import negotiation
from exomirkg.sparql.engine import (
    UNCAPPED,
    EngineBusy,
    EngineCrashed,
    EngineMemory,
    EngineTimeout,
    Job,
    evaluate,
)
from exomirkg.sparql.guard import SERVICE_REFUSED, QueryRefused, check_bounds
from exomirkg.sparql.results import truncation_note
from exomirkg.web.delivery import allow_cross_origin
from exomirkg.web.protocol import READ_ONLY, ProtocolError, read_request
from exomirkg.web.state import get_state

__all__ = ["bp", "execute", "plain_error"]

bp = Blueprint("sparql", __name__)

#: Headers a browser script on another origin may read.
EXPOSED_HEADERS = "X-Exomirkg-Truncated, X-Exomirkg-Rows, Warning, Content-Type"


def plain_error(status: int, message: str, **headers: str) -> Response:
    """A plain-text error response that says what happened (never a traceback)."""
    response = Response(message.rstrip() + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers)
    return response


def _offers_for(form: str | None) -> Sequence[str]:
    if form in ("CONSTRUCT", "DESCRIBE"):
        return negotiation.GRAPH_TYPES
    return negotiation.SOLUTION_TYPES


def choose_media(fmt: str | None, offers: Sequence[str],
                 accept: str | None = None) -> str | None:
    """The media type to answer in: ``format=`` wins over Accept; None means 406.

    :param accept: the Accept header (read from the current request when not given).
    """
    if fmt:
        wanted = negotiation.FORMAT_PARAMETER.get(fmt.lower(), fmt.lower())
        if offers is negotiation.GRAPH_TYPES:
            wanted = {"application/sparql-results+xml": "application/rdf+xml",
                      "application/sparql-results+json": "application/ld+json"}.get(wanted,
                                                                                     wanted)
        return negotiation.handle_accept(wanted, offers)
    if accept is None:
        accept = request.headers.get("Accept")
    return negotiation.handle_accept(accept, offers)


#: ``request.base_url`` re-quotes the URL on every request; it depends on these four only.
_base_url = lru_cache(maxsize=256)(get_current_url)


def _check_graph_names(names: Sequence[str]) -> None:
    import pyoxigraph

    for name in names:
        try:
            pyoxigraph.NamedNode(name)
        except ValueError:
            raise ProtocolError(400, f"graph name {name!r} is not an absolute IRI") from None


def execute(query: str, *, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
            fmt: str | None = None) -> Response:
    """Check, evaluate (in a worker, under the time limit) and serialise one query.

    A lookup (one pattern, a fixed subject or object: ``guard.is_lookup``) is evaluated in
    this process instead: it is one index scan, bounded by the data, so it cannot run away.
    Graph names never cause a fetch: a name the store does not hold is an empty graph.
    """
    # The time limit counts from here: waiting for a query process is part of it.
    arrival = time.monotonic()
    # The request object itself, not the context proxy: it is read several times below.
    req = request._get_current_object()
    shape = check_bounds(query)  # QueryRefused: answered by the views like a ProtocolError
    if shape.is_update:
        raise ProtocolError(403, READ_ONLY)
    if shape.has_service:
        # A first, fast refusal; the decision is the parser's (guard.verify) in the
        # query process, which a lexer cannot be tricked around.
        raise ProtocolError(403, SERVICE_REFUSED)
    offers = _offers_for(shape.form)
    accept = req.headers.get("Accept")
    media = choose_media(fmt, offers, accept)
    if media is None:
        asked = fmt or accept
        raise ProtocolError(406, f"cannot answer a {shape.form or 'SELECT'} query as {asked}; "
                                 f"available: {', '.join(offers)}")
    _check_graph_names([*default_graphs, *named_graphs])
    config = current_app.config
    cap = int(config["ROW_CAP"] or 0)
    protocol_dataset = bool(default_graphs or named_graphs)
    job = Job(query=query, media=media, row_cap=cap or UNCAPPED,
              union=not shape.has_dataset_clause and not protocol_dataset,
              default_graphs=tuple(default_graphs) if protocol_dataset else None,
              named_graphs=tuple(named_graphs) if protocol_dataset else None,
              base_iri=_base_url(req.scheme, req.host, req.root_path, req.path))
    state = get_state()
    engine = state.engine
    assert engine is not None
    timeout = float(config["QUERY_TIMEOUT"])
    try:
        if shape.is_lookup and state.inprocess_lookups:
            # One index scan: bounded by the data, so no killable process is needed.
            outcome = evaluate(state.store, job, engine.source.prefixes)
        else:
            outcome = engine.run(job, deadline=arrival + timeout)
    except EngineTimeout:
        return plain_error(503, f"query stopped: it ran longer than the {timeout:g} s time limit "
                                "(QUERY_TIMEOUT); narrow it or add LIMIT", **{"Retry-After": "1"})
    except EngineBusy:
        return plain_error(503, f"all {engine.size} query processes are busy and the queue for "
                                "them is full; try again shortly", **{"Retry-After": "2"})
    except EngineMemory:
        limit = int(config.get("QUERY_MEMORY") or 0)
        return plain_error(503, f"query stopped: it needed more than the {limit} MB memory "
                                "limit (QUERY_MEMORY); narrow it, drop ORDER BY or add LIMIT",
                           **{"Retry-After": "1"})
    except EngineCrashed as error:
        return plain_error(500, f"the query process crashed while evaluating this query ({error})"
                                "; it was replaced. Please report the query.")
    if outcome.kind in ("syntax", "refused", "query"):
        status = outcome.status or 400
        prefix = {"syntax": "malformed query: ", "query": "query could not be evaluated: "}
        return plain_error(status, prefix.get(outcome.kind, "") + outcome.message)
    if outcome.kind != "ok":
        return plain_error(500, f"query evaluation failed: {outcome.message}")
    response = Response(outcome.body, mimetype=media)
    response.headers["X-Exomirkg-Rows"] = str(outcome.rows)
    if outcome.truncated:
        response.headers["X-Exomirkg-Truncated"] = f"true; limit={cap}"
        response.headers["Warning"] = f'199 exomirkg "{truncation_note(cap)}"'
    response.vary.add("Accept")
    return response


@bp.route("/sparql", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def sparql() -> Response:
    """Answer a SPARQL query (read-only), or describe the service when there is none."""
    if request.method not in ("GET", "HEAD", "POST"):
        return plain_error(405, f"{request.method} is not part of the SPARQL query protocol; "
                                "use GET or POST", Allow="GET, POST, OPTIONS")
    try:
        parsed = read_request(request._get_current_object(),
                              int(current_app.config["BODY_CAP"]))
        if parsed.query is None:
            from exomirkg.web.describe import service_description
            from exomirkg.web.htmlpages import wants_html

            if (parsed.format is None and request.method in ("GET", "HEAD")
                    and wants_html(request.headers.get("Accept"))):
                # A person opened the endpoint's URL: the editor, not a Turtle download.
                from exomirkg.web.pages import editor

                page = Response(editor(), mimetype="text/html")
                page.vary.add("Accept")
                return page

            media = choose_media(parsed.format, negotiation.GRAPH_TYPES)
            if media is None:
                raise ProtocolError(406, "the Service Description is available as "
                                         + ", ".join(negotiation.GRAPH_TYPES))
            response = Response(service_description(media), mimetype=media)
            response.vary.add("Accept")
            return response
        return execute(parsed.query, default_graphs=parsed.default_graphs,
                       named_graphs=parsed.named_graphs, fmt=parsed.format)
    except QueryRefused as error:  # ProtocolError included
        return plain_error(error.status, error.message)


@bp.route("/health")
def health() -> Response:
    """Triple count, data version, build time, and the limits in force.

    On an external engine (``BACKEND``) the engine is asked ``ASK {}`` first, with a short
    time limit: while it is down the answer is a 503 with a readable JSON body, not "ok".
    """
    state = get_state()
    config = current_app.config
    if is_external(config.get("BACKEND")):
        from exomirkg.backends.state import engine_problem

        problem = engine_problem(state)
        if problem:
            body = {"status": "unavailable", "backend": str(config["BACKEND"]),
                    "error": f"the query engine is unreachable: {problem}"}
            response = Response(json.dumps(body), status=503, mimetype="application/json")
            response.headers["Retry-After"] = "5"
            return response
    payload = {
        "status": "ok",
        "triples": state.triples,
        "graphs": len(state.graph_names),
        "version": state.info.get("version"),
        "built": state.info.get("built"),
        "conforms": state.info.get("conforms"),
        "query_timeout_s": float(config["QUERY_TIMEOUT"]),
        "row_cap": int(config["ROW_CAP"] or 0) or None,
        "query_memory_mb": int(config.get("QUERY_MEMORY") or 0) or None,
        "query_workers": state.engine.size if state.engine else 0,
        "inprocess_lookups": state.inprocess_lookups,
    }
    if is_external(config.get("BACKEND")):
        payload["backend"] = str(config["BACKEND"])
    return Response(json.dumps(payload), mimetype="application/json")


@bp.route("/.well-known/void")
def void() -> Response:
    """The VoID description of the dataset (conneg over the RDF formats)."""
    from exomirkg.web.describe import void_description

    media = choose_media(request.args.get("format"), negotiation.GRAPH_TYPES)
    if media is None:
        return plain_error(406, "VoID is available as " + ", ".join(negotiation.GRAPH_TYPES))
    response = Response(void_description(media), mimetype=media)
    response.vary.add("Accept")
    return response


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Plain-text bodies for errors raised inside this blueprint (e.g. 413 while reading)."""
    return plain_error(error.code or 500, f"{error.name}: {error.description}")


@bp.after_app_request
def cors(response: Response) -> Response:
    """CORS for the machine endpoints, so browser tools on other origins can query us."""
    if request.blueprint not in ("sparql", "queries", "graphstore"):
        return response
    return allow_cross_origin(response, expose=EXPOSED_HEADERS, methods="GET, POST, OPTIONS",
                              request_headers="Content-Type, Accept")


def endpoint_url() -> str:
    """The absolute URL of /sparql as the client sees it."""
    return url_for("sparql.sparql", _external=True)
