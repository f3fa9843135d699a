"""The findings as a network for Cytoscape.js (the data of /network.json): source cell type ->
exosomal miRNA -> drug, with target genes, pathways and mechanisms on request, the filter
state read from a query string, and the node positions (a column layout) computed here.

The positions are computed on the server, not by a Cytoscape layout in the browser, so that
the one property the drawing promises (no edge runs behind a drug it does not end at) can be
checked by a plain test over every filter, without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from exomirkg.evidence import FindingView, Mention
from exomirkg.web.facets import BadParameter
from exomirkg.web.findings import all_findings
from exomirkg.web.graphdata import quote_input
from exomirkg.web.helpers import cached

__all__ = ["COLUMN_OF", "FILTER_ROLES", "NODE_ROLES", "NODE_SIZE", "SHOWN_KINDS", "NetworkState",
           "filter_options", "focus_of", "network_elements", "network_options",
           "read_network_state"]

#: Node kinds with the finding roles that fill them.
NODE_ROLES: dict[str, tuple[str, ...]] = {
    "cell": ("source",),
    "mirna": ("mirna", "protein", "cargo"),
    "drug": ("drug",),
    "gene": ("gene_down", "gene_up", "gene"),
    "pathway": ("pathway_up", "pathway_down", "pathway"),
    "mechanism": ("mechanism",),
}
#: Column of each node kind, left to right, in the order a finding reads: the cell releases
#: the miRNA, which targets genes and pathways, acting through a mechanism on the response to
#: the drug. Drugs come last so that no other edge has to cross their column.
COLUMN_OF: dict[str, int] = {"cell": 0, "mirna": 1, "cargo": 1, "gene": 2, "pathway": 3,
                             "mechanism": 4, "drug": 5}
#: Node width and height by kind (model pixels): the layout needs them to keep edges clear of
#: drug boxes, so the style in network.js reads them from the node data, not a second table.
NODE_SIZE: dict[str, tuple[int, int]] = {"cell": (30, 30), "mirna": (22, 22),
                                         "cargo": (22, 22), "drug": (30, 22),
                                         "gene": (22, 22), "pathway": (22, 22),
                                         "mechanism": (26, 26)}
_EDGE_LABEL = {"gene_down": "represses", "gene_up": "increases", "gene": "regulates",
               "pathway_up": "activates", "pathway_down": "inhibits", "pathway": "acts on",
               "mechanism": "via"}

#: Filter parameter -> the finding roles its values come from. ``drug`` and ``mirna`` read
#: the same roles as the findings browser's facets of those names, so the network's "these
#: findings as a table" link and an entity page's "network around" link mean the same set.
FILTER_ROLES: dict[str, tuple[str, ...]] = {
    "drug": ("drug", "combined"), "mirna": ("mirna", "protein", "cargo"),
    "cell": ("source",), "cancer": ("cancer",),
}
#: Node kinds a checkbox adds to the drawing (the parameter is the kind's plural).
SHOWN_KINDS = ("genes", "pathways", "mechanisms")
_FLAGS = ("exclude_retracted", *SHOWN_KINDS)
_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"", "0", "false", "off", "no"}

# The layout grid: a column longer than MAX_ROWS wraps into side-by-side sub-columns (the
# drug column excepted, see _layout).
MAX_ROWS, ROW, SUB, GAP = 14, 58, 150, 250
#: Clearance kept between an edge and a drug box it passes (model pixels).
CLEARANCE = 6


@dataclass
class NetworkState:
    """The network's query string, checked: one value per filter and the shown-kind flags."""

    filters: dict[str, str] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)

    def params(self) -> list[tuple[str, str]]:
        """The query string of this state, as pairs (defaults left out)."""
        return [*self.filters.items(), *((name, "1") for name in _FLAGS if self.flags.get(name))]

    def findings_params(self) -> list[tuple[str, str]]:
        """The same filters for /findings (its ``source`` is the network's ``cell``)."""
        rename = {"cell": "source"}
        pairs = [(rename.get(name, name), value) for name, value in self.filters.items()]
        return pairs + ([("exclude_retracted", "1")] if self.flags.get("exclude_retracted")
                        else [])

    @property
    def focus(self) -> str | None:
        """``drug`` or ``mirna`` when the view is the neighbourhood of that one entity."""
        names = set(self.filters) - {"cancer", "cell"}
        return next(iter(names)) if len(names) == 1 else None


def _values(finding: FindingView, roles: tuple[str, ...]) -> list[Mention]:
    return [m for role in roles for m in finding.get(role)]


def _drawable(finding: FindingView) -> bool:
    """Drawn only with an exosomal cargo: the network is about what exosomes carry."""
    return bool(_values(finding, NODE_ROLES["mirna"]))


def filter_options(findings: list[FindingView]) -> dict[str, list[dict[str, str]]]:
    """The choices of every filter: values of the drawable findings, by label.

    Only findings with a cargo count, so a filter value never gives an empty network.
    """
    options = {}
    for name, roles in FILTER_ROLES.items():
        seen = {m.local: m.label for f in findings if _drawable(f)
                for m in _values(f, roles) if m.local}
        options[name] = [{"value": k, "label": v}
                         for k, v in sorted(seen.items(), key=lambda kv: kv[1].lower())]
    return options


def network_options() -> dict[str, list[dict[str, str]]]:
    """:func:`filter_options` of the app's findings, computed once per app."""
    return cached("network_options", lambda: filter_options(all_findings()))


def focus_of(local: str) -> tuple[str, str] | None:
    """The filter that focuses the app's network on an entity (``("drug", "cisplatin")``),
    or None when no drawable finding names it as a drug or a cargo (an entity page links only
    to a network that has something to show)."""
    options = network_options()
    for name in ("drug", "mirna"):
        if any(o["value"] == local for o in options[name]):
            return name, local
    return None


def read_network_state(args: Mapping[str, str],
                       options: Mapping[str, list[dict[str, str]]]) -> NetworkState:
    """Check a query string against the filter choices.

    :raises BadParameter: an unknown parameter (a typo would silently show everything), a
        filter value that is not one of its choices, a flag other than 1/0.
    """
    unknown = sorted(set(args) - set(FILTER_ROLES) - set(_FLAGS))
    if unknown:
        raise BadParameter(f"unknown parameter {quote_input(unknown[0])!r}; the network "
                           f"takes {', '.join(FILTER_ROLES)} and the flags "
                           f"{', '.join(_FLAGS)}")
    state = NetworkState()
    for name in FILTER_ROLES:
        value = args.get(name) or None
        if value is None:
            continue
        if all(o["value"] != value for o in options[name]):
            raise BadParameter(f"no {name} {quote_input(value)!r}; the choices are listed "
                               f"under options.{name} in /network.json")
        state.filters[name] = value
    for name in _FLAGS:
        value = args.get(name, "")
        if value.lower() not in _TRUE | _FALSE:
            raise BadParameter(f"{name}={quote_input(value)!r}: use 1 or 0")
        state.flags[name] = value.lower() in _TRUE
    return state


def _matches(finding: FindingView, name: str, wanted: str | None) -> bool:
    return not wanted or any(m.local == wanted for m in _values(finding, FILTER_ROLES[name]))


def network_elements(findings: list[FindingView], *, drug: str | None = None,
                     mirna: str | None = None, cell: str | None = None,
                     cancer: str | None = None, exclude_retracted: bool = False,
                     genes: bool = False, pathways: bool = False,
                     mechanisms: bool = False) -> dict[str, Any]:
    """Cytoscape elements (nodes with positions, and edges) for the findings that pass the
    filters.

    :param drug: local name of a drug to keep (named or combined); likewise ``mirna`` (any
        cargo), ``cell`` (source cell type) and ``cancer``.
    :param exclude_retracted: drop findings that cite a retracted reference.
    :param genes: add the target genes of each cargo; ``pathways`` and ``mechanisms`` add its
        pathways and mechanisms. Their edges carry the finding's effect ``direction``
        (resistance, sensitivity, other), split by it as the edges to drugs are.
    :returns: ``{"nodes": [...], "edges": [...], "findings": n}``.
    """
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[str, dict[str, Any]] = {}

    def node(mention: Mention, kind: str) -> str:
        key = mention.local or mention.iri
        width, height = NODE_SIZE[kind]
        nodes.setdefault(key, {"data": {
            "id": key, "label": mention.label, "kind": kind, "width": width, "height": height,
            "href": url_for("pages.entities.entity", local=key)}})
        return key

    def edge(source: str, target: str, label: str, kind: str, finding: FindingView) -> None:
        direction = finding.direction
        # The direction is part of the key so that a resistance and a sensitivity finding
        # between the same two nodes stay two coloured edges, not one of either colour.
        key = f"{source}|{label}|{target}" + ("" if label == direction else f"|{direction}")
        entry = edges.setdefault(key, {"data": {
            "id": key, "source": source, "target": target, "label": label, "kind": kind,
            "direction": direction, "findings": [], "retracted": True}})
        entry["data"]["findings"].append(finding.local)
        entry["data"]["retracted"] = entry["data"]["retracted"] and finding.retracted

    added = [("gene", genes), ("pathway", pathways), ("mechanism", mechanisms)]
    kept = 0
    for finding in findings:
        if exclude_retracted and finding.retracted:
            continue
        if not all(_matches(finding, name, wanted) for name, wanted in
                   (("drug", drug), ("mirna", mirna), ("cell", cell), ("cancer", cancer))):
            continue
        cargos = _values(finding, NODE_ROLES["mirna"])
        if not cargos:
            continue
        kept += 1
        for cargo in cargos:
            middle = node(cargo, "mirna" if cargo in finding.get("mirna") else "cargo")
            for source in finding.get("source"):
                edge(node(source, "cell"), middle, "exosomes", "exosome", finding)
            for target in finding.get("drug"):
                edge(middle, node(target, "drug"), finding.direction, finding.direction, finding)
            for kind, shown in added:
                if shown:
                    for role in NODE_ROLES[kind]:
                        for entity in finding.get(role):
                            edge(middle, node(entity, kind), _EDGE_LABEL[role], role, finding)
    ordered_nodes = sorted(nodes.values(), key=lambda n: n["data"]["id"])
    ordered_edges = sorted(edges.values(), key=lambda e: e["data"]["id"])
    _layout(ordered_nodes, ordered_edges)
    return {"nodes": ordered_nodes, "edges": ordered_edges, "findings": kept}


def _layout(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Give every node a ``position``: columns by kind (:data:`COLUMN_OF`), drugs sorted by
    label, every other column ordered by the mean row of its neighbours (fewer crossings).

    No edge passes through a drug it does not end at: drugs are the last column and never
    wrap (so no drug stands between another drug and the edges coming in from the left), and
    the gap before them is wide enough that an edge, however steep, is within a drug's half
    width of the column only where it is already closer to its own drug than to a neighbour.
    """
    neighbours: dict[str, list[str]] = {n["data"]["id"]: [] for n in nodes}
    for e in edges:
        neighbours[e["data"]["source"]].append(e["data"]["target"])
        neighbours[e["data"]["target"]].append(e["data"]["source"])
    columns: dict[int, list[dict[str, Any]]] = {}
    for n in nodes:
        columns.setdefault(COLUMN_OF[n["data"]["kind"]], []).append(n)
    drug_column = COLUMN_OF["drug"]
    placed: dict[str, float] = {}

    def barycentre(n: dict[str, Any]) -> float:
        rows = [placed[m] for m in neighbours[n["data"]["id"]] if m in placed]
        return sum(rows) / len(rows) if rows else math.inf

    # Drugs first, then the miRNAs by their drugs, then everything else by the miRNAs.
    for c in sorted(columns, key=lambda c: (c != drug_column, c != COLUMN_OF["mirna"], c)):
        column = columns[c]
        column.sort(key=lambda n: (0.0 if c == drug_column else barycentre(n),
                                   n["data"]["label"].lower(), n["data"]["id"]))
        for i, n in enumerate(column):
            placed[n["data"]["id"]] = i * MAX_ROWS / max(len(column), 1)
    shape = {c: (1 if c == drug_column else math.ceil(len(column) / MAX_ROWS))
             for c, column in columns.items()}
    per_sub = {c: math.ceil(len(columns[c]) / subs) for c, subs in shape.items()}
    tallest = max(per_sub.values(), default=1)
    for c, column in columns.items():
        subs, offset = shape[c], (tallest - per_sub[c]) * ROW / 2   # centre short columns
        for i, n in enumerate(column):
            sub, row = i % subs, i // subs   # interleaved: reading down keeps the order
            n["position"] = {"x": float(sub), "y": offset + row * ROW + sub * ROW / subs}
    ys = [n["position"]["y"] for n in nodes]
    span = (max(ys) - min(ys)) if ys else 0.0
    width, height = NODE_SIZE["drug"]
    # An edge into drug d leaves a column at least `gap` to the left and rises or falls at
    # most `span`, so within half a drug width of the column it is at most
    # (width / 2) * span / gap from d's row; the next drug's box begins ROW - height / 2 away.
    drug_gap = max(GAP, math.ceil((width / 2) * span / (ROW - height / 2 - CLEARANCE)))
    x = 0.0
    for c in sorted(columns):
        if c == drug_column and x:
            x += drug_gap - GAP
        for n in columns[c]:
            n["position"]["x"] = x + n["position"]["x"] * SUB
        x += (shape[c] - 1) * SUB + GAP
