"""Competency queries: /queries lists server/queries/*.rq, /queries/<name> runs one."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request, url_for

from exomirkg import paths
from exomirkg.queries import load_queries
from exomirkg.sparql.negotiation import SOLUTION_TYPES
from exomirkg.web.graphdata import quote_input
from exomirkg.web.helpers import choose_media, plain_error
from exomirkg.web.protocol import execute

__all__ = ["bp"]

bp = Blueprint("queries", __name__)


@bp.route("/queries")
def index() -> Response:
    """The named queries with their ``#+ summary``, as JSON."""
    listing = [
        {"name": q.name, "summary": q.summary, "description": q.description, "tags": q.tags,
         "url": url_for("queries.run", name=q.name, _external=True)}
        for q in load_queries(paths.QUERIES_DIR).values()
    ]
    return Response(json.dumps(listing, indent=1), mimetype="application/json")


@bp.route("/queries/<name>")
def run(name: str) -> Response:
    """Run one named query over the whole graph, answering in the negotiated format."""
    named = load_queries(paths.QUERIES_DIR).get(name)
    if named is None:
        return plain_error(404, f"no query named {quote_input(name)!r}; see /queries for the list")
    fmt = request.args.get("format")
    if choose_media(SOLUTION_TYPES, fmt=fmt, html=True) == "text/html":
        # A person followed the link: the query, what it asks and a run button, not a 406.
        page = Response(render_template("query.html", title=named.summary or named.name,
                                        query=named), mimetype="text/html")
        page.vary.add("Accept")
        return page
    # A refused query is answered by the app's one error handler.
    return execute(named.text, fmt=fmt)
