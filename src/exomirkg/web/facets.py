"""The findings browser's table: facets with counts, filters, sorting, paging, CSV/TSV, SPARQL.

Everything works over the findings assembled once per app from ``all-findings.rq``
(:func:`exomirkg.web.findings.assemble_findings`, the rows of entity pages and the network),
filtered here in Python: 116 findings, a few milliseconds. The same filter is also written as
a SPARQL query (:func:`sparql_for`) that gives the same findings, for "open this as SPARQL".
The blueprint (:mod:`exomirkg.web.browse`) holds only the views.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exomirkg.downloads import compact
from exomirkg.evidence import ROLES, FindingView, Mention, StatementView
from exomirkg.evidence import assemble_statements as _assemble_statements
from exomirkg.namespaces import BASE, GRAPH_INFERRED, OBO
from exomirkg.store import plain
from exomirkg.web.findings import all_findings
from exomirkg.web.graphdata import quote_input, select
from exomirkg.web.helpers import cached

__all__ = [
    "COLUMNS", "FACETS", "PAGE_SIZE", "BadParameter", "BrowserState", "Facet", "FindingsTable",
    "findings_table", "statements", "table_bytes",
]

#: Rows per page of the HTML table (exports hold every filtered row).
PAGE_SIZE = 25
_ROLE_PREDICATE = {role: predicate for predicate, role in ROLES.items()}
_INFERRED = str(GRAPH_INFERRED)
_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"", "0", "false", "off", "no"}


class BadParameter(ValueError):
    """A query-string parameter the browser cannot use (answered with 400 and this text)."""


@dataclass(frozen=True)
class Facet:
    """One filter of the browser: its URL parameter, heading and the finding roles it reads."""

    name: str
    label: str
    roles: tuple[str, ...]

    @property
    def predicates(self) -> tuple[str, ...]:
        """The finding properties of the roles (for the SPARQL version of the filter)."""
        return tuple(_ROLE_PREDICATE[r] for r in self.roles)


#: The filters, in the order the page shows them. ``drug_class`` reads the classes of the
#: drugs (``drug-classes.rq``), the others read finding roles.
FACETS: tuple[Facet, ...] = (
    Facet("drug", "Drug", ("drug", "combined")),
    Facet("drug_class", "Drug class", ()),
    Facet("mirna", "miRNA or cargo", ("mirna", "protein", "cargo")),
    Facet("source", "Source cell", ("source", "source_line")),
    Facet("recipient", "Recipient cell", ("recipient", "recipient_line")),
    Facet("cancer", "Cancer", ("cancer",)),
    Facet("mechanism", "Mechanism", ("mechanism",)),
    Facet("pathway", "Pathway", ("pathway_up", "pathway_down", "pathway")),
    Facet("gene", "Gene", ("gene_down", "gene_up", "gene")),
    Facet("effect", "Effect", ("effect",)),
    Facet("section", "Section or Table 1 row", ("stated_in",)),
    Facet("evidence", "Evidence code", ("evidence",)),
)
_FACETS = {f.name: f for f in FACETS}
#: Arrows after a gene or pathway, by role (the direction the finding states).
_ARROWS = {"gene_down": "↓", "gene_up": "↑", "pathway_up": "↑", "pathway_down": "↓"}
_WORDS = {"gene_down": "down", "gene_up": "up", "pathway_up": "activated",
          "pathway_down": "inhibited"}


@dataclass(frozen=True)
class Column:
    """A table column: key (``?sort=``), heading and the roles whose labels it shows."""

    key: str
    label: str
    roles: tuple[str, ...]


#: Columns of the table and the exports, in order; every one is sortable.
COLUMNS: tuple[Column, ...] = (
    Column("mirna", "miRNA or cargo", ("mirna", "protein", "cargo")),
    Column("source", "Source cell", ("source", "source_line")),
    Column("recipient", "Recipient cell", ("recipient", "recipient_line")),
    Column("cancer", "Cancer", ("cancer",)),
    Column("drug", "Drug", ("drug", "combined")),
    Column("effect", "Effect", ("effect",)),
    Column("genes", "Genes", ("gene_down", "gene_up", "gene")),
    Column("pathways", "Pathways", ("pathway_up", "pathway_down", "pathway")),
    Column("mechanisms", "Mechanisms", ("mechanism",)),
    Column("section", "Section / Table 1 row", ("stated_in",)),
    Column("references", "References", ("reference",)),
    Column("evidence", "Evidence", ("evidence",)),
)
_COLUMNS = {c.key: c for c in COLUMNS}
#: The default order: by where the review states the finding.
DEFAULT_SORT = "section"


def value_key(mention: Mention) -> str:
    """The URL value naming an entity: its local name (``cisplatin``), or a CURIE for
    external IRIs (``ECO:0000304``)."""
    if mention.local:
        return mention.local
    return mention.iri.rstrip("/").rsplit("/", 1)[-1].replace("_", ":", 1)


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that puts "2.2" before "2.10" and "row 2" before "row 10"; case-blind."""
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", text.lower()))


@dataclass
class Option:
    """One value of a facet: URL value, label, IRI, and its count in the current view."""

    value: str
    label: str
    iri: str
    count: int = 0
    selected: bool = False


@dataclass
class BrowserRow:
    """A finding with its facet values (URL value -> label), computed once per app."""

    finding: FindingView
    values: dict[str, dict[str, Mention]] = field(default_factory=dict)

    def cell(self, column: Column) -> list[tuple[Mention, str]]:
        """The mentions of a column, each with its direction arrow ('' when none)."""
        return [(m, _ARROWS.get(role, "")) for role in column.roles
                for m in self.finding.get(role)]

    def sort_text(self, column: Column) -> str:
        return " | ".join(m.label for m, _ in self.cell(column))


@dataclass
class BrowserState:
    """What the query string asks for, checked: selected values, flags, sort and page."""

    selected: dict[str, list[str]] = field(default_factory=dict)
    exclude_retracted: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1
    format: str = "html"

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string of this state (as pairs, facets first), with ``changes`` applied;
        a change to ``None`` drops the parameter. The page is left out unless changed."""
        pairs: list[tuple[str, str]] = [(name, v) for f in FACETS
                                        for name in [f.name] for v in self.selected.get(name, [])]
        if self.exclude_retracted:
            pairs.append(("exclude_retracted", "1"))
        sort = ("-" if self.descending else "") + self.sort
        if sort != DEFAULT_SORT:
            pairs.append(("sort", sort))
        updates = dict(changes)
        if "sort" in updates:
            pairs = [p for p in pairs if p[0] != "sort"]
            if updates["sort"] not in (None, DEFAULT_SORT):
                pairs.append(("sort", updates["sort"]))
        if updates.get("page") not in (None, 1):
            pairs.append(("page", str(updates["page"])))
        if updates.get("format"):
            pairs.append(("format", updates["format"]))
        return pairs

    def without(self, name: str, value: str) -> list[tuple[str, str]]:
        """The query string with one filter value removed (a "remove filter" link)."""
        return [p for p in self.params() if p != (name, value)]


#: Query parameters the browser knows; anything else is a 400 (a typo would silently show
#: every finding).
KNOWN = {f.name for f in FACETS} | {"exclude_retracted", "sort", "page", "format"}
FORMATS = ("html", "csv", "tsv")


def read_state(args: Any, table: FindingsTable, fmt: str | None = None) -> BrowserState:
    """Check a query string (a werkzeug ``MultiDict``) against the table's options.

    :raises BadParameter: unknown parameter, a filter value that names nothing in the
        findings, a flag other than 1/0, an unknown sort column, a page that is no number.
    """
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise BadParameter(f"unknown parameter {quote_input(unknown[0])!r}; the filters are "
                           f"{', '.join(f.name for f in FACETS)}, with exclude_retracted, "
                           "sort, page and format")
    state = BrowserState()
    for facet in FACETS:
        values = [v for v in args.getlist(facet.name) if v != ""]
        options = table.all_options[facet.name]
        for value in values:
            if value not in options:
                raise BadParameter(
                    f"no {facet.name} {quote_input(value)!r} in any finding; the values are "
                    f"listed under “{facet.label}” on /findings (e.g. "
                    f"{', '.join(list(options)[:3])})")
        if values:
            state.selected[facet.name] = list(dict.fromkeys(values))
    flag = args.get("exclude_retracted", "")
    if flag.lower() not in _TRUE | _FALSE:
        raise BadParameter(f"exclude_retracted={quote_input(flag)!r}: use 1 or 0")
    state.exclude_retracted = flag.lower() in _TRUE
    sort = args.get("sort", "") or DEFAULT_SORT
    state.descending = sort.startswith("-")
    state.sort = sort.removeprefix("-")
    if state.sort not in _COLUMNS:
        raise BadParameter(f"sort={quote_input(sort)!r}: sort by one of "
                           f"{', '.join(_COLUMNS)} (a leading '-' sorts descending)")
    page = args.get("page", "1") or "1"
    if not page.isdigit() or not 0 < int(page) < 1_000_000:
        raise BadParameter(f"page={quote_input(page)!r}: pages are numbered from 1")
    state.page = int(page)
    wanted = fmt or args.get("format", "html") or "html"
    if wanted not in FORMATS:
        raise BadParameter(f"format={quote_input(wanted)!r}: use html, csv or tsv")
    state.format = wanted
    return state


@dataclass
class View:
    """One answer of the browser: the filtered, sorted rows, the page and the facet counts."""

    state: BrowserState
    rows: list[BrowserRow]
    facets: list[tuple[Facet, list[Option]]]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.rows) // PAGE_SIZE))

    @property
    def page_rows(self) -> list[BrowserRow]:
        start = (self.state.page - 1) * PAGE_SIZE
        return self.rows[start:start + PAGE_SIZE]

    @property
    def first(self) -> int:
        return min(len(self.rows), (self.state.page - 1) * PAGE_SIZE + 1)

    @property
    def last(self) -> int:
        return min(len(self.rows), self.state.page * PAGE_SIZE)


class FindingsTable:
    """Every finding as a browser row, with every facet value; made once per app."""

    def __init__(self, findings: list[FindingView],
                 drug_classes: Mapping[str, list[Mention]]) -> None:
        self.rows: list[BrowserRow] = []
        #: facet name -> URL value -> Mention (every value any finding has).
        self.all_options: dict[str, dict[str, Mention]] = {f.name: {} for f in FACETS}
        for finding in findings:
            row = BrowserRow(finding)
            for facet in FACETS:
                if facet.name == "drug_class":
                    mentions = [c for role in _FACETS["drug"].roles for m in finding.get(role)
                                for c in drug_classes.get(m.iri, [])]
                else:
                    mentions = [m for role in facet.roles for m in finding.get(role)]
                row.values[facet.name] = {value_key(m): m for m in mentions}
                self.all_options[facet.name].update(row.values[facet.name])
            self.rows.append(row)
        for name, options in self.all_options.items():
            self.all_options[name] = dict(sorted(options.items(),
                                                 key=lambda kv: natural_key(kv[1].label)))

    def _passes(self, row: BrowserRow, state: BrowserState, skip: str | None = None) -> bool:
        if state.exclude_retracted and row.finding.retracted:
            return False
        return all(name == skip or not row.values[name].keys().isdisjoint(wanted)
                   for name, wanted in state.selected.items())

    def view(self, state: BrowserState) -> View:
        """Filter (AND across facets, OR within one), count, sort; check the page number.

        A facet's counts are over the findings that pass every *other* filter, so each count
        says how many rows ticking that value would add or keep.

        :raises BadParameter: the page is past the last one.
        """
        rows = [r for r in self.rows if self._passes(r, state)]
        facets = []
        for facet in FACETS:
            counts: dict[str, int] = {}
            for row in self.rows:
                if self._passes(row, state, skip=facet.name):
                    for value in row.values[facet.name]:
                        counts[value] = counts.get(value, 0) + 1
            chosen = set(state.selected.get(facet.name, []))
            facets.append((facet, [
                Option(value, m.label, m.iri, counts.get(value, 0), value in chosen)
                for value, m in self.all_options[facet.name].items()
                if counts.get(value) or value in chosen]))
        column = _COLUMNS[state.sort]
        filled = [r for r in rows if r.cell(column)]
        filled.sort(key=lambda r: (natural_key(r.sort_text(column)), r.finding.iri),
                    reverse=state.descending)
        # Rows with an empty cell go last in either direction.
        ordered = filled + sorted((r for r in rows if not r.cell(column)),
                                  key=lambda r: r.finding.iri)
        view = View(state, ordered, facets, len(self.rows))
        if state.page > view.pages:
            raise BadParameter(f"page={state.page}: this view has {len(rows)} finding"
                               f"{'' if len(rows) == 1 else 's'} on {view.pages} "
                               f"page{'' if view.pages == 1 else 's'} of {PAGE_SIZE}")
        return view

    def links_for(self, iri: str) -> list[tuple[Facet, str, int]]:
        """Facets where an entity is a value, with its URL value and number of findings: the
        "all findings about ..." links of an entity page."""
        found = []
        for facet in FACETS:
            for value, mention in self.all_options[facet.name].items():
                if mention.iri == iri:
                    count = sum(value in r.values[facet.name] for r in self.rows)
                    found.append((facet, value, count))
        return found


def _make_findings_table() -> FindingsTable:
    classes: dict[str, list[Mention]] = {}
    for row in select("drug-classes"):
        iri = plain(row["class"])
        classes.setdefault(plain(row["drug"]), []).append(
            Mention(iri=iri, label=plain(row.get("classLabel")) or iri.rsplit("/", 1)[-1]))
    return FindingsTable(all_findings(), classes)


def findings_table() -> FindingsTable:
    """The browser's table for the app's store, built on first use (the store is read-only)."""
    return cached("findings_table", _make_findings_table)


def statements() -> list[StatementView]:
    """Every ``ekg:Statement`` with its evidence, assembled once per app."""
    return cached("all_statements", lambda: _assemble_statements(select("all-statements")))


# -- exports ------------------------------------------------------------------------------------

def table_bytes(rows: Iterable[BrowserRow], delimiter: str) -> bytes:
    """The rows as CSV or TSV: per column the labels and our IDs (`` | `` between values),
    then the references with DOIs, the retraction flag and the quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    header = ["finding_id", "finding_label"]
    for column in COLUMNS:
        if column.key == "references":
            header += ["references", "reference_ids", "reference_dois"]
        else:
            header += [column.key, f"{column.key}_ids"]
    header += ["retracted_support", "quote"]
    writer.writerow(header)
    join = " | ".join
    for row in rows:
        finding = row.finding
        line = [compact(finding.iri), finding.label]
        for column in COLUMNS:
            cell = [(m, role) for role in column.roles for m in finding.get(role)]
            labels = [m.label + (f" ({_WORDS[role]})" if role in _WORDS else "")
                      for m, role in cell]
            line += [join(labels), join(compact(m.iri) for m, _ in cell)]
            if column.key == "references":
                line.append(join(m.doi or "" for m, _ in cell))
        line += ["true" if finding.retracted else "false",
                 join(" ".join(q.split()) for q in finding.texts.get("quote", []))]
        writer.writerow(line)
    return buffer.getvalue().encode("utf-8")


# -- the same view as SPARQL --------------------------------------------------------------------

_PREFIXES = """PREFIX ekg: <https://w3id.org/exomirkg/>
PREFIX obo: <http://purl.obolibrary.org/obo/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def _term(iri: str) -> str:
    if iri.startswith(BASE) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", iri[len(BASE):]):
        return "ekg:" + iri[len(BASE):]
    obo = str(OBO)
    if iri.startswith(obo) and re.fullmatch(r"[A-Za-z]+_[0-9]+", iri[len(obo):]):
        return "obo:" + iri[len(obo):]
    return f"<{iri}>"


def _path(predicates: Iterable[str]) -> str:
    return "|".join(_term(p) for p in predicates)


def _asserted(var: str, path: str, obj: str) -> str:
    """A finding statement read from the asserted graphs only, as ``all-findings.rq`` does
    (the reasoner's graph adds super-properties such as ekg:regulatesGene)."""
    return (f"GRAPH ?g_{var} {{ ?finding {path} {obj} }} "
            f"FILTER (?g_{var} != <{_INFERRED}>)")


def sparql_for(table: FindingsTable, state: BrowserState) -> str:
    """A SELECT giving the findings of a view (same filters, same sort column), one row per
    finding with the table's columns as `` | ``-joined labels."""
    lines = [_PREFIXES.rstrip(), "# The findings browser's view as SPARQL: one row per finding."]
    columns = " ".join(f"?{c.key}" for c in COLUMNS)
    lines.append(f"SELECT ?finding ?label {columns} WHERE {{")
    lines.append("  ?finding a ekg:Finding ; rdfs:label ?label .")
    for facet in FACETS:
        wanted = state.selected.get(facet.name)
        if not wanted:
            continue
        options = table.all_options[facet.name]
        values = " ".join(_term(options[v].iri) for v in wanted)
        var = "f_" + facet.name
        if facet.name == "drug_class":
            lines.append(f"  FILTER EXISTS {{ VALUES ?{var} {{ {values} }} "
                         f"{_asserted(var, _path(_FACETS['drug'].predicates), '?d')} "
                         f"?d a ?{var} }}  # drug class")
        else:
            lines.append(f"  FILTER EXISTS {{ VALUES ?{var} {{ {values} }} "
                         f"{_asserted(var, _path(facet.predicates), '?' + var)} }}"
                         f"  # {facet.label}")
    if state.exclude_retracted:
        lines.append("  FILTER NOT EXISTS { ?finding ekg:supportingReference ?r . "
                     "?r ekg:retracted true }  # exclude retracted support")
    for column in COLUMNS:
        parts = []
        for role in column.roles:
            shown = f'CONCAT(?l, " {_ARROWS[role]}")' if role in _ARROWS else "?l"
            parts.append(f"{{ {_asserted('c', _term(_ROLE_PREDICATE[role]), '?x')}\n"
                         "      OPTIONAL { ?x rdfs:label ?xl } "
                         f"BIND (COALESCE(STR(?xl), STR(?x)) AS ?l) BIND ({shown} AS ?v) }}")
        body = "\n    UNION ".join(parts)
        lines.append(f"  OPTIONAL {{ SELECT ?finding (GROUP_CONCAT(DISTINCT ?v; separator=\" | \")"
                     f" AS ?{column.key}) WHERE {{\n    {body}\n  }} GROUP BY ?finding }}")
    lines.append("}")
    order = f"DESC(?{state.sort})" if state.descending else f"?{state.sort}"
    lines.append(f"ORDER BY {order} ?finding")
    return "\n".join(lines) + "\n"
