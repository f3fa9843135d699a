"""The findings as a network for Cytoscape.js: source cell type -> exosomal miRNA -> drug,
with target genes and pathways on request (the data of /network.json)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from exomirkg.web.findings import FindingView, Mention

__all__ = ["NODE_ROLES", "network_elements"]

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
