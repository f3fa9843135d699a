"""Pages for people: landing page, SPARQL editor and search; the other pages hang below.

Entity pages, the network, downloads and ontology docs are nested blueprints of this one
(``pages.entities``, ``pages.network``, ``pages.downloads``, ``pages.docs``, and
``pages.minted`` for the dataset, service and mapping-set IRIs), so create_app
registers a single ``pages`` blueprint. Templates and static files are the app's own
(``web/templates``, ``web/static``), which ship in the wheel.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from exomirkg import about
from exomirkg.downloads import CATALOGUE
from exomirkg.web import browse, docs, downloads, entities, minted, network
from exomirkg.web.delivery import link_header
from exomirkg.web.describe import schema_org_dataset
from exomirkg.web.graphdata import counts, example_queries, page_query, quote_input, search_index
from exomirkg.web.helpers import choose_media, error_page
from exomirkg.web.search import GROUP_NAMES, read_page, to_json
from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("pages", __name__)
bp.register_blueprint(browse.bp)
bp.register_blueprint(entities.bp)
bp.register_blueprint(network.bp)
bp.register_blueprint(downloads.bp)
bp.register_blueprint(docs.bp)
bp.register_blueprint(minted.bp)

#: The review every finding comes from.
REVIEW_DOI = about.REVIEW_DOI


@bp.app_context_processor
def _site() -> dict[str, Any]:
    info = get_state().info
    return {"site": {"version": info.get("version", "?"), "built": info.get("built"),
                     "doi": REVIEW_DOI}}


@bp.route("/")
def landing() -> Response:
    """What the graph is, live counts, links to everything; a schema.org Dataset for crawlers."""
    queries = example_queries()
    response = Response(render_template(
        "landing.html", title="Exosomal miRNAs and drug resistance", counts=counts(),
        queries=queries, dataset_jsonld=schema_org_dataset(CATALOGUE)))
    # The same description for programs that read headers, not HTML.
    response.headers["Link"] = link_header([
        (url_for("sparql.void"), "describedby", "text/turtle")])
    return response


@bp.route("/editor")
def editor() -> str:
    """YASGUI against /sparql, one tab per example query (titled by its summary).

    ``?query=`` opens that query in a first tab (the findings browser's "open this as
    SPARQL" link); ``#<name>`` opens an example's tab.
    """
    queries = example_queries()
    tabs = [{"id": q.name, "name": q.summary or q.name, "query": q.text,
             "description": q.description or ""} for q in queries.values()]
    if not tabs:
        tabs = [{"id": "findings-by-drug", "name": "Findings by drug",
                 "query": page_query("editor-default")}]
    given = request.args.get("query", "")
    if given.strip():
        tabs.insert(0, {"id": "linked-query", "name": "Linked query", "query": given})
    return render_template("editor.html", title="SPARQL editor", tabs=tabs)


@bp.route("/search")
def search() -> str | Response:
    """Entities, findings, statements and references matching every word of ``q``.

    ``page=`` (from 1, :data:`~exomirkg.web.search.PAGE_SIZE` per page) and ``kind=`` (one
    result group) narrow the answer; a page that is no number or past the last one is a 400.
    JSON for ``format=json`` or an Accept header preferring ``application/json``: the page's
    results with ``total``, ``page``, ``pages``, ``page_size``, ``groups``, ``next``, ``prev``.
    """
    query = request.args.get("q", "").strip()
    fmt = request.args.get("format")
    if fmt not in (None, "json", "html"):
        return error_page(400, f"format={quote_input(fmt)!r}: use format=json or format=html")
    kind = request.args.get("kind") or None
    if kind is not None and kind not in GROUP_NAMES:
        return error_page(400, f"kind={quote_input(kind)!r}: a kind is one of "
                               + ", ".join(sorted(GROUP_NAMES)))
    try:
        page = read_page(request.args.get("page"))
    except ValueError as error:
        return error_page(400, quote_input(str(error), limit=120))
    results = search_index().search(query, page=page, group=kind)
    if page > results.pages:
        return error_page(400, f"page={page}: {results.total} result"
                               f"{'' if results.total == 1 else 's'} fill {results.pages} "
                               f"page{'' if results.pages == 1 else 's'} of {results.page_size}")

    def link(to: int) -> str:
        args = {"q": query, "kind": kind, "page": to if to > 1 else None, "format": fmt}
        return url_for("pages.search", **{k: v for k, v in args.items() if v is not None})

    links = {"next": link(page + 1) if page < results.pages else None,
             "prev": link(page - 1) if page > 1 else None}
    wants_json = fmt == "json" or (fmt is None and choose_media(
        ("text/html", "application/json"), default="text/html") == "application/json")
    if wants_json:
        response = Response(json.dumps(to_json(results, links)), mimetype="application/json")
    else:
        response = Response(render_template(
            "search.html", title=f"Search: {query}" if query else "Search", query=query,
            results=results, links=links, kind=kind,
            pages=[(n, link(n)) for n in range(1, results.pages + 1)]), mimetype="text/html")
    if fmt is None:
        # The answer depends on Accept: a cache must not give a browser the JSON.
        response.vary.add("Accept")
    return response


@bp.app_errorhandler(404)
def not_found(error: Any) -> Response | Any:
    """404 on our pages (and unknown URLs): HTML for browsers, plain text for other clients.

    Errors of other blueprints (sparql, queries) keep their own handlers and formats.
    """
    endpoint = request.endpoint or ""
    if endpoint and not endpoint.startswith("pages."):
        return error
    return error_page(404, getattr(error, "description", ""))
