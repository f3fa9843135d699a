"""The SPARQL endpoint blueprint: /sparql (SPARQL 1.1 Protocol, read-only), /health, VoID."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from exomirkg.backends import is_external
from exomirkg.sparql import negotiation
from exomirkg.web.delivery import allow_cross_origin
from exomirkg.web.helpers import choose_media, plain_error
from exomirkg.web.protocol import EXPOSED_HEADERS, ProtocolError, execute, read_request
from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("sparql", __name__)

@bp.route("/sparql", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def sparql() -> Response:
    """Answer a SPARQL query (read-only), or describe the service when there is none."""
    if request.method not in ("GET", "HEAD", "POST"):
        return plain_error(405, f"{request.method} is not part of the SPARQL query protocol; "
                                "use GET or POST", Allow="GET, POST, OPTIONS")
    # A ProtocolError (or another refusal) is answered by the app's one error handler.
    parsed = read_request(request._get_current_object(), int(current_app.config["BODY_CAP"]))
    if parsed.query is None:
        from exomirkg.web.describe import service_description

        media = choose_media(negotiation.GRAPH_TYPES, fmt=parsed.format,
                             html=request.method in ("GET", "HEAD"))
        if media == "text/html":
            # A person opened the endpoint's URL: the editor, not a Turtle download.
            from exomirkg.web.pages import editor

            page = Response(editor(), mimetype="text/html")
            page.vary.add("Accept")
            return page
        if media is None:
            raise ProtocolError(406, "the Service Description is available as "
                                     + ", ".join(negotiation.GRAPH_TYPES))
        response = Response(service_description(media), mimetype=media)
        response.vary.add("Accept")
        return response
    return execute(parsed.query, default_graphs=parsed.default_graphs,
                   named_graphs=parsed.named_graphs, fmt=parsed.format)


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
        "answer_cache_mb": state.answers.limit // 2**20 if state.answers is not None else None,
    }
    if is_external(config.get("BACKEND")):
        payload["backend"] = str(config["BACKEND"])
    return Response(json.dumps(payload), mimetype="application/json")


@bp.route("/.well-known/void")
def void() -> Response:
    """The VoID description of the dataset (conneg over the RDF formats)."""
    from exomirkg.web.describe import void_description

    media = choose_media(negotiation.GRAPH_TYPES, fmt=request.args.get("format"))
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

