"""Pages for people: landing page, SPARQL editor and search; the other pages hang below.

Entity pages, the network, downloads and ontology docs are nested blueprints of this one
(``pages.entities``, ``pages.network``, ``pages.downloads``, ``pages.docs``, and
``pages.minted`` for the dataset, service and mapping-set IRIs), so create_app
registers a single ``pages`` blueprint. Templates and static files are the app's own
(``web/templates``, ``web/static``), which ship in the wheel.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from exomirkg import about
from exomirkg.web import browse, docs, downloads, entities, minted, network
from exomirkg.web.artefacts import CATALOGUE
from exomirkg.web.delivery import link_header
from exomirkg.web.describe import schema_org_dataset
from exomirkg.web.graphdata import counts, example_queries, page_query, search_index
from exomirkg.web.helpers import choose_media, error_page
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
    """Entities whose label or synonym matches ``q`` (forgiving for miRNA names)."""
    query = request.args.get("q", "").strip()
    hits = search_index().search(query) if query else []
    if choose_media(("application/json",), rule="first") == "application/json":
        import json

        body = [{"iri": h.iri, "label": h.label, "kind": h.kind, "matched": h.matched,
                 "score": round(h.score, 3)} for h in hits]
        return Response(json.dumps(body), mimetype="application/json")
    return render_template("search.html", title=f"Search: {query}" if query else "Search",
                           query=query, hits=hits)


@bp.app_errorhandler(404)
def not_found(error: Any) -> Response | Any:
    """404 on our pages (and unknown URLs): HTML for browsers, plain text for other clients.

    Errors of other blueprints (sparql, queries) keep their own handlers and formats.
    """
    endpoint = request.endpoint or ""
    if endpoint and not endpoint.startswith("pages."):
        return error
    return error_page(404, getattr(error, "description", ""))
