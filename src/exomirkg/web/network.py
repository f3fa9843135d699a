"""The network view: source cell type -> exosomal miRNA -> (genes, pathways, mechanisms) ->
drug, drawn with Cytoscape.js.

The elements, the filter state and the layout are made by :mod:`exomirkg.web.cytoscape`;
these are the views.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for

from exomirkg.web.cytoscape import focus_of, network_elements, network_options, read_network_state
from exomirkg.web.facets import BadParameter
from exomirkg.web.findings import all_findings
from exomirkg.web.helpers import error_page

__all__ = ["bp"]

bp = Blueprint("network", __name__)


@bp.route("/network.json")
def data() -> Response:
    """The network as Cytoscape JSON with node positions, filtered by ``drug``, ``mirna``,
    ``cell``, ``cancer``, ``exclude_retracted``; ``genes``, ``pathways`` and ``mechanisms``
    add those nodes.

    A filter value that is not one of its options, a flag other than 1/0 or an unknown
    parameter is a 400: an empty network would read as "no findings" when the request was
    wrong.
    """
    options = network_options()
    try:
        state = read_network_state(request.args, options)
    except BadParameter as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    elements: dict[str, Any] = network_elements(all_findings(), **state.filters, **state.flags)
    elements["options"] = options
    return Response(json.dumps(elements), mimetype="application/json")


@bp.route("/network")
def page() -> Response:
    """The interactive network page (data from /network.json), its form filled from the
    query string so that a shared or reloaded URL shows the same view."""
    options = network_options()
    try:
        state = read_network_state(request.args, options)
    except BadParameter as error:
        return error_page(400, str(error))
    labels = {name: {o["value"]: o["label"] for o in choices}
              for name, choices in options.items()}
    focus = state.focus
    findings_query = urlencode(state.findings_params())
    return Response(render_template(
        "network.html", title="Network", options=options, state=state,
        focus=(focus, labels[focus][state.filters[focus]]) if focus else None,
        findings_url=url_for("pages.browse.findings") + ("?" + findings_query
                                                        if findings_query else "")))


@bp.app_context_processor
def _network_links() -> dict[str, Any]:
    """``network_url(local)`` for entity pages: the network focused on a drug or miRNA, or
    None when it would be empty."""
    def network_url(local: str) -> str | None:
        focus = focus_of(local)
        return url_for("pages.network.page", **{focus[0]: focus[1]}) if focus else None
    return {"network_url": network_url}
