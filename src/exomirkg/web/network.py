"""The network view: source cell type -> exosomal miRNA -> drug, drawn with Cytoscape.js."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from exomirkg.web.findings import FindingView, Mention, assemble_findings
from exomirkg.web.graphdata import quote_input, select

__all__ = ["bp", "network_elements"]

bp = Blueprint("network", __name__)

#: Node kinds in drawing order (left to right), with the finding roles that fill them.
NODE_ROLES: dict[str, tuple[str, ...]] = {
    "cell": ("source",),
    "mirna": ("mirna", "protein", "cargo"),
    "drug": ("drug",),
    "gene": ("gene_down", "gene_up", "gene"),
    "pathway": ("pathway_up", "pathway_down", "pathway"),
}
_EDGE_LABEL = {"gene_down": "represses", "gene_up": "increases", "gene": "regulates",
               "pathway_up": "activates", "pathway_down": "inhibits", "pathway": "acts on"}


def _matches(finding: FindingView, role: str, wanted: str | None) -> bool:
    return not wanted or any(m.local == wanted for m in finding.get(role))


def network_elements(findings: list[FindingView], *, drug: str | None = None,
                     cell: str | None = None, cancer: str | None = None,
                     exclude_retracted: bool = False, genes: bool = False,
                     pathways: bool = False) -> dict[str, Any]:
    """Cytoscape elements (nodes and edges) for the findings that pass the filters.

    :param drug: local name of a drug to keep; likewise ``cell`` (source cell type) and
        ``cancer``.
    :param exclude_retracted: drop findings that cite a retracted reference.
    :param genes: add the target genes of each miRNA; ``pathways`` adds its pathways.
    :returns: ``{"nodes": [...], "edges": [...], "findings": n}``.
    """
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[str, dict[str, Any]] = {}

    def node(mention: Mention, kind: str) -> str:
        key = mention.local or mention.iri
        nodes.setdefault(key, {"data": {
            "id": key, "label": mention.label, "kind": kind,
            "href": url_for("pages.entities.entity", local=key)}})
        return key

    def edge(source: str, target: str, label: str, kind: str, finding: FindingView) -> None:
        key = f"{source}|{label}|{target}"
        entry = edges.setdefault(key, {"data": {
            "id": key, "source": source, "target": target, "label": label, "kind": kind,
            "findings": [], "retracted": True}})
        entry["data"]["findings"].append(finding.local)
        entry["data"]["retracted"] = entry["data"]["retracted"] and finding.retracted

    kept = 0
    for finding in findings:
        if exclude_retracted and finding.retracted:
            continue
        if not (_matches(finding, "drug", drug) and _matches(finding, "source", cell)
                and _matches(finding, "cancer", cancer)):
            continue
        cargos = [m for role in NODE_ROLES["mirna"] for m in finding.get(role)]
        if not cargos:
            continue
        kept += 1
        for cargo in cargos:
            middle = node(cargo, "mirna" if cargo in finding.get("mirna") else "cargo")
            for source in finding.get("source"):
                edge(node(source, "cell"), middle, "exosomes", "exosome", finding)
            for target in finding.get("drug"):
                edge(middle, node(target, "drug"), finding.direction, finding.direction, finding)
            if genes:
                for role in NODE_ROLES["gene"]:
                    for gene in finding.get(role):
                        edge(middle, node(gene, "gene"), _EDGE_LABEL[role], role, finding)
            if pathways:
                for role in NODE_ROLES["pathway"]:
                    for pathway in finding.get(role):
                        edge(middle, node(pathway, "pathway"), _EDGE_LABEL[role], role, finding)
    return {"nodes": sorted(nodes.values(), key=lambda n: n["data"]["id"]),
            "edges": sorted(edges.values(), key=lambda e: e["data"]["id"]),
            "findings": kept}


def _options(findings: list[FindingView], role: str) -> list[dict[str, str]]:
    seen = {m.local: m.label for f in findings for m in f.get(role) if m.local}
    return [{"value": k, "label": v} for k, v in sorted(seen.items(), key=lambda kv: kv[1].lower())]


def _all_findings() -> list[FindingView]:
    """Every finding, assembled once per app (the store is read-only)."""
    cache = current_app.extensions.setdefault("exomirkg_pages", {})
    if "findings" not in cache:
        cache["findings"] = assemble_findings(select("all-findings"))
    return cache["findings"]


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
    findings = _all_findings()
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
    findings = _all_findings()
    return render_template("network.html", title="Network",
                           drugs=_options(findings, "drug"), cells=_options(findings, "source"),
                           cancers=_options(findings, "cancer"))
