"""Competency queries: /queries lists server/queries/*.rq, /queries/<name> runs one."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request, url_for

from exomirkg import paths
from exomirkg.queries import load_queries
from exomirkg.sparql.guard import QueryRefused
from exomirkg.web.graphdata import quote_input
from exomirkg.web.htmlpages import wants_html
from exomirkg.web.sparql import execute, plain_error

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
    if "format" not in request.args and wants_html(request.headers.get("Accept")):
        # A person followed the link: the query, what it asks and a run button, not a 406.
        page = Response(render_template("query.html", title=named.summary or named.name,
                                        query=named), mimetype="text/html")
        page.vary.add("Accept")
        return page
    try:
        return execute(named.text, fmt=request.args.get("format"))
    except QueryRefused as error:  # ProtocolError included
        return plain_error(error.status, error.message)
