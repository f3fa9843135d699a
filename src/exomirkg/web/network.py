"""The network view: source cell type -> exosomal miRNA -> drug, drawn with Cytoscape.js.

The elements are made by :func:`exomirkg.web.cytoscape.network_elements`; these are the views.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from exomirkg.web.cytoscape import network_elements
from exomirkg.web.findings import FindingView, all_findings
from exomirkg.web.graphdata import quote_input

__all__ = ["bp"]

bp = Blueprint("network", __name__)

def _options(findings: list[FindingView], role: str) -> list[dict[str, str]]:
    seen = {m.local: m.label for f in findings for m in f.get(role) if m.local}
    return [{"value": k, "label": v} for k, v in sorted(seen.items(), key=lambda kv: kv[1].lower())]


_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"", "0", "false", "off", "no"}
#: Filter parameter -> the finding role its choices come from.
_FILTERS = {"drug": "drug", "cell": "source", "cancer": "cancer"}


class _BadParameter(ValueError):
    """A network.json parameter outside its choices (answered with 400)."""


def _flag(name: str) -> bool:
    value = request.args.get(name, "")
    if value.lower() not in _TRUE | _FALSE:
        raise _BadParameter(f"{name}={quote_input(value)!r}: use 1 or 0")
    return value.lower() in _TRUE


def _choice(name: str, options: list[dict[str, str]]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and all(o["value"] != value for o in options):
        raise _BadParameter(f"no {name} {quote_input(value)!r}; the choices are listed under "
                            f"options.{name} in /network.json")
    return value


@bp.route("/network.json")
def data() -> Response:
    """The network as Cytoscape JSON, filtered by ``drug``, ``cell``, ``cancer``,
    ``exclude_retracted``; ``genes`` and ``pathways`` add those nodes.

    A filter value that is not one of its options, or a flag other than 1/0, is a 400: an
    empty network would read as "no findings" when the request was wrong.
    """
    findings = all_findings()
    options = {name: _options(findings, role) for name, role in _FILTERS.items()}
    try:
        elements = network_elements(
            findings, drug=_choice("drug", options["drug"]), cell=_choice("cell", options["cell"]),
            cancer=_choice("cancer", options["cancer"]),
            exclude_retracted=_flag("exclude_retracted"), genes=_flag("genes"),
            pathways=_flag("pathways"))
    except _BadParameter as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    elements["options"] = options
    return Response(json.dumps(elements), mimetype="application/json")


@bp.route("/network")
def page() -> str:
    """The interactive network page (data from /network.json)."""
    findings = all_findings()
    return render_template("network.html", title="Network",
                           drugs=_options(findings, "drug"), cells=_options(findings, "source"),
                           cancers=_options(findings, "cancer"))
