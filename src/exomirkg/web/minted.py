"""The IRIs we mint that are neither entities nor graphs, each dereferenceable.

- ``https://w3id.org/exomirkg/dataset`` (VoID's dataset, the landing page's schema.org
  ``Dataset``): 303 to the landing page for browsers, to VoID for RDF clients.
- ``https://w3id.org/exomirkg/service#...`` (the endpoint's limits in the Service
  Description): ``/service`` defines them, as HTML with one anchor per term or as RDF.
- ``https://w3id.org/exomirkg/mappings/exomirkg.sssom.tsv`` (the SSSOM ``mapping_set_id``):
  303 to the download.

These routes are fixed paths, so they win over the entity pages' ``/<path:local>``.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, url_for

from exomirkg import about
from exomirkg.namespaces import BASE
from exomirkg.sparql.negotiation import GRAPH_TYPES
from exomirkg.web.delivery import cors_for_data, link_header, send
from exomirkg.web.describe import SERVICE_TERMS, service_vocabulary
from exomirkg.web.helpers import PAGE_TYPES, choose_media

__all__ = ["bp"]

bp = Blueprint("minted", __name__)
cors_for_data(bp)

#: The mapping set's path on this server (its IRI without the namespace).
_MAPPINGS = about.MAPPING_SET_ID[len(BASE):]


@bp.route("/dataset")
def dataset() -> Response:
    """The dataset: its description for people (landing page) or for programs (VoID)."""
    if choose_media(PAGE_TYPES, default="text/html") == "text/html":
        response = redirect(url_for("pages.landing"), code=303)
    else:
        response = redirect(url_for("sparql.void"), code=303)
    response.vary.add("Accept")
    return response


@bp.route("/service")
def service() -> Response | str:
    """The vocabulary of the endpoint's limits (``service#queryTimeoutSeconds``, ...)."""
    media_type = choose_media(PAGE_TYPES, default="text/html")
    assert media_type is not None  # a default is given
    if media_type == "text/html":
        response = Response(render_template(
            "service.html", title="Service limits vocabulary", namespace=about.SERVICE_NS,
            terms=SERVICE_TERMS))
        response.vary.add("Accept")
        response.headers["Link"] = link_header(
            [(url_for(".service"), "alternate", media) for media in GRAPH_TYPES])
        return response
    return send(service_vocabulary(media_type), media_type, vary_accept=True)


@bp.route("/mappings/<path:name>")
def mappings(name: str) -> Response:
    """The SSSOM mapping set, by its ``mapping_set_id``."""
    if f"mappings/{name}" != _MAPPINGS:
        abort(404, description="The only mapping set is " + about.MAPPING_SET_ID)
    return redirect(url_for("pages.downloads.file", name=name), code=303)
