"""The SPARQL endpoint blueprint (first slice: GET/POST query, JSON results)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer a SPARQL query (read-only)."""
    import pyoxigraph

    query = request.values.get("query")
    if request.mimetype == "application/sparql-query":
        query = request.get_data(as_text=True)
    if not query:
        return Response("missing 'query' parameter\n", status=400, mimetype="text/plain")
    try:
        result = get_state().store.query(query, use_default_graph_as_union=True)
    except SyntaxError as error:
        return Response(f"malformed query: {error}\n", status=400, mimetype="text/plain")
    if isinstance(result, (pyoxigraph.QuerySolutions, pyoxigraph.QueryBoolean)):
        body = result.serialize(format=pyoxigraph.QueryResultsFormat.JSON)
        return Response(body, mimetype="application/sparql-results+json")
    body = result.serialize(format=pyoxigraph.RdfFormat.TURTLE)
    return Response(body, mimetype="text/turtle")


@bp.route("/health")
def health() -> Response:
    """Triple count, data version and build time."""
    import json

    state = get_state()
    payload = {"status": "ok", "triples": len(state.store),
               "version": state.info.get("version"), "built": state.info.get("built")}
    return Response(json.dumps(payload), mimetype="application/json")
