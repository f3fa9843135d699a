"""Explain inferred drug-mechanism links: the chain from each finding to the mechanism.

The support of every link is one query, ``ontology/explain/explain-links.rq``, over the
``ekg:InferredLink`` nodes the rules write into graph/inferred; this module only resolves
the user's words to IRIs and prints the rows. A link that rests only on what the review
states about a class the drug belongs to (``ekg:ClassLevelInferredLink``) is printed as
class-level, the weaker kind, and so is each class-level supporting finding.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pyoxigraph

from exomirkg import paths
from exomirkg.evidence import CURATOR_INFERENCE, Mention, StatementView, assemble_statements
from exomirkg.namespaces import BASE
from exomirkg.store import plain, select_rows

__all__ = ["EXPLAIN_QUERY", "STATEMENTS_QUERY", "explain_drug", "explanation_rows", "resolve",
           "statement_lines"]

#: The one query that explains every inferred link.
EXPLAIN_QUERY: Path = paths.ONTOLOGY_DIR / "explain" / "explain-links.rq"

_NAMES = """
PREFIX ekg: <https://w3id.org/exomirkg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?entity ?name ?label WHERE {
  VALUES ?class { %s }
  ?entity a ?class .
  OPTIONAL { ?entity rdfs:label ?label }
  { ?entity rdfs:label ?name } UNION { ?entity skos:altLabel ?name }
}
"""


#: The query's list columns (GROUP_CONCAT, joined by a newline) and how each is shown.
LIST_COLUMNS: dict[str, str] = {
    "properties": ", ", "sources": ", ", "recipients": ", ", "cancers": ", ",
    "cargos": ", ", "mechanisms": ", ", "genes": " | ", "pathways": " | ",
    "exports": " | ", "references": " | ", "statementReferences": " | ",
    "evidence": ", ", "notes": " | ",
}
#: The statements (ekg:Statement) a link rests on, with their evidence; the same query the
#: link's page runs, so both tell the same story.
STATEMENTS_QUERY: Path = paths.PAGE_QUERIES_DIR / "statement-evidence.rq"


def _value(term: object) -> str:
    return "" if term is None else str(getattr(term, "value", term))


def _ordered(column: str, text: str) -> str:
    """A list column in a fixed order: GROUP_CONCAT's order is each engine's own choice
    (pyoxigraph and Virtuoso differ), so pages and ``explain`` sort it here. References
    go in the review's numbering, everything else alphabetically."""
    parts = sorted({part for part in text.split("\n") if part}, key=lambda p: (p.casefold(), p))
    if column in ("references", "statementReferences"):
        parts.sort(key=_reference_number)
    return LIST_COLUMNS[column].join(parts)


def resolve(store: pyoxigraph.Store, text: str, classes: list[str], kind: str) -> tuple[str, str]:
    """Find the entity a user means: an IRI, ``ekg:name``, a local name, a label or synonym.

    :param classes: class IRIs the entity must belong to (``ekg:Drug``).
    :param kind: what to call it in the error message ("drug").
    :returns: the IRI and its label.
    :raises LookupError: when nothing matches, listing the closest names.
    """
    query = _NAMES % " ".join(f"<{c}>" for c in classes)
    names: dict[str, tuple[str, str]] = {}
    for row in store.query(query, use_default_graph_as_union=True):
        iri, label = _value(row["entity"]), _value(row["label"]) or _value(row["entity"])
        names[_value(row["name"]).casefold()] = (iri, label)
        names[iri.casefold()] = (iri, label)
        if iri.startswith(BASE):
            local = iri[len(BASE):]
            names[local.casefold()] = (iri, label)
            names[f"ekg:{local}".casefold()] = (iri, label)
    wanted = text.strip().strip("<>").casefold()
    if wanted in names:
        return names[wanted]
    labels = sorted({label for _iri, label in names.values()})
    close = difflib.get_close_matches(text, labels, n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    sample = ", ".join(labels[:12]) + (", ..." if len(labels) > 12 else "")
    raise LookupError(
        f"no {kind} called {text!r} in the graph.{hint} Give a label, synonym or IRI; "
        f"known {kind}s include: {sample or 'none (is the graph built?)'}"
    )


def explanation_rows(
    store: pyoxigraph.Store, drug_iri: str, target_iri: str | None = None
) -> list[dict[str, str]]:
    """Run the explanation query for one drug (and optionally one mechanism or pathway).

    :returns: one dict per (link, supporting finding), values as plain strings; list
        columns (:data:`LIST_COLUMNS`) sorted and joined with their display separator.
    """
    text = EXPLAIN_QUERY.read_text(encoding="utf-8")
    values = f"VALUES ?drug {{ <{drug_iri}> }}"
    if target_iri:
        values += f" VALUES ?target {{ <{target_iri}> }}"
    # Narrow the query by VALUES at the top of its WHERE block (IRIs come from the store).
    text = text.replace("WHERE {", "WHERE {\n  " + values, 1)
    result = store.query(text, use_default_graph_as_union=True)
    columns = [variable.value for variable in result.variables]
    rows = [{c: _value(row[c]) for c in columns} for row in result]
    for row in rows:
        for column in LIST_COLUMNS.keys() & row.keys():
            row[column] = _ordered(column, row[column])
    return rows


def _split(text: str, separator: str = " | ") -> list[str]:
    return [part for part in text.split(separator) if part] if text else []


def _reference_number(text: str) -> int:
    """``"[113] doi:..."`` -> 113, for listing references in the review's order."""
    number = text[1:text.find("]")]
    return int(number) if number.isdigit() else 1 << 30


#: What ``strength`` and ``supportKind`` say, for people.
STRENGTH_TEXT: dict[str, str] = {
    "drug-level": "drug-level (a finding about the drug supports it)",
    "class-level": ("class-level, weaker: no finding about the drug supports it; it rests on "
                    "what the review states about a class the drug belongs to"),
}
SUPPORT_TEXT: dict[str, str] = {
    "finding about the drug": "finding about the drug",
    "class-level": "class-level (names no drug; about a class the review puts the drug in)",
}


def _finding_lines(row: dict[str, str]) -> list[str]:
    lines = [f"  finding {row['finding']}", f"    \"{row['findingLabel']}\""]
    kind = row.get("supportKind", "")
    lines.append(f"    basis:      {SUPPORT_TEXT.get(kind, kind or '?')}")
    cells = row["sources"] or "?"
    if row["recipients"]:
        cells += f" -> {row['recipients']}"
    if row["cancers"]:
        cells += f" ({row['cancers']})"
    lines.append(f"    cells:      {cells}")
    lines.append(f"    effect:     {row['effect'] or '?'}")
    # One step per level; parallel items of a level (two target genes) are joined by "; ".
    steps = [row["cargos"] or "?"]
    steps += [
        "; ".join(_split(row[level]))
        for level in ("exports", "genes", "pathways")
        if row[level]
    ]
    # A mechanism link ends at its mechanism; a pathway link at the finding's mechanisms.
    end = row["targetLabel"] if row["kind"] == "mechanism" else row["mechanisms"]
    steps.append(end or "(no mechanism stated)")
    lines.append("    chain:      finding -> " + " -> ".join(steps))
    for reference in sorted(_split(row["references"]), key=_reference_number):
        lines.append(f"    reference:  {reference}")
    # The statement the export step rests on ("cisplatin ... substrates to ABC transporters").
    for reference in _split(row.get("statementReferences", "")):
        lines.append(f"    statement:  {reference}")
    if row["restsOnlyOnRetracted"] == "true":
        lines.append("    WARNING: this finding rests only on retracted references")
    evidence = _split(row.get("evidence", ""), ", ")
    if evidence:
        lines.append("    evidence:   " + ", ".join(_eco(code) for code in evidence))
    notes = _split(row.get("notes", ""))
    if CURATOR_INFERENCE in evidence:
        lines.append("    CURATOR READING (ECO:0000305: the curator read beyond the text)")
    lines += [f"    note:       {note}" for note in notes]
    return lines


def _eco(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].replace("_", ":", 1)


def statement_lines(store: pyoxigraph.Store, link_iri: str) -> list[str]:
    """The statements (``ekg:Statement``) an inferred link rests on, as text lines: the
    triple in words, where the review states it, its quotes and references, and whether it
    is a curator reading (ECO:0000305). Read by the pages' reader
    (:func:`exomirkg.evidence.assemble_statements`)."""
    rows = [row for row in select_rows(store, STATEMENTS_QUERY.read_text(encoding="utf-8"),
                                       {"entity": pyoxigraph.NamedNode(link_iri)})
            if plain(row["role"]) == "support"]
    lines = []
    for view in sorted(assemble_statements(rows), key=lambda v: (_triple(v), v.iri)):
        lines.append("  statement {} {} {} ({})".format(*_triple(view), view.iri))
        entry = {
            "stated in": sorted(m.label for m in view.parts),
            "quote": sorted(f'"{quote}"' for quote in view.quotes),
            "reference": sorted((_reference_text(m) for m in view.references),
                                key=_reference_number),
            "evidence": sorted(_eco(m.iri) for m in view.evidence),
            "note": sorted(view.notes),
        }
        for name, values in entry.items():
            lines += [f"    {name + ':':<11} {v}" for v in values]
        if view.curator_reading:
            lines.append("    CURATOR READING (ECO:0000305: the curator read beyond the text)")
    return lines


def _triple(view: StatementView) -> tuple[str, str, str]:
    obj = view.object if isinstance(view.object, str) else view.object.label
    return view.subject.label, view.property, obj


def _reference_text(reference: Mention) -> str:
    """``[80] doi:10.1186/...``, marked when retracted."""
    number = reference.label.split("]")[0] + "]"
    retracted = " [RETRACTED]" if reference.retracted else ""
    return f"{number} {'doi:' + reference.doi if reference.doi else reference.iri}{retracted}"


def explain_drug(store: pyoxigraph.Store, drug: str, mechanism: str | None = None) -> str:
    """Explain each inferred link of a drug: finding -> cargo -> gene -> pathway -> mechanism.

    :param store: the built dataset (asserted graphs and graph/inferred).
    :param drug: a label, synonym ("5-FU"), ``ekg:`` name or IRI.
    :param mechanism: restrict to one mechanism or pathway (label, synonym or IRI).
    :returns: the text to print; says so when the drug has no inferred link.
    :raises LookupError: for an unknown drug or mechanism.
    """
    drug_iri, drug_label = resolve(store, drug, [BASE + "Drug"], "drug")
    target_iri = None
    if mechanism:
        target_iri, _label = resolve(
            store, mechanism, [BASE + "Mechanism", BASE + "Pathway"], "mechanism or pathway"
        )
    rows = explanation_rows(store, drug_iri, target_iri)
    scope = f" with {mechanism}" if mechanism else ""
    if not rows:
        return (
            f"{drug_label} <{drug_iri}>: no inferred drug-mechanism link{scope} "
            "(no finding about this drug names a mechanism or pathway)."
        )
    links: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        links.setdefault(row["link"], []).append(row)
    out = [f"{drug_label} <{drug_iri}>: {len(links)} inferred link(s){scope}"]
    for link, support in links.items():
        first = support[0]
        out.append("")
        out.append(f"{drug_label} -> {first['targetLabel']} ({first['kind']})")
        out.append(f"  holds:   {first['properties']}")
        strength = first.get("strength", "")
        out.append(f"  strength: {STRENGTH_TEXT.get(strength, strength or '?')}")
        out.append(f"  link:    {link} (evidence ECO:0000501, automatic assertion)")
        out.append(f"  support: {len(support)} finding(s)")
        for row in support:
            out.extend(_finding_lines(row))
        statements = statement_lines(store, link)
        if statements:
            count = sum(line.startswith("  statement ") for line in statements)
            kind = " class-level" if first.get("strength") == "class-level" else ""
            out.append(f"  statements: {count}{kind} statement(s) the link rests on")
            out.extend(statements)
        if first["supportRetracted"] == "true":
            out.append("  WARNING: every finding supporting this link rests only on retracted "
                       "references")
    return "\n".join(out)
