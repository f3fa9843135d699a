"""Entity pages: every IRI of our namespace dereferences at ``/<local>`` (HTML or RDF).

RDF views are the same bytes in every worker (canonical blank nodes, fixed order), carry an
ETag and Last-Modified (304 on a match) and CORS; every view links its other formats with
``Link: rel=alternate`` (:mod:`exomirkg.web.delivery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph
from flask import Blueprint, Response, abort, redirect, render_template, url_for

from exomirkg.canonical import stable_rdf
from exomirkg.evidence import Mention, StatementView, assemble_findings, assemble_statements
from exomirkg.namespaces import (
    BASE,
    DCTERMS,
    GRAPH_INFERRED,
    GRAPH_ONTOLOGY,
    OBO,
    OBOINOWL,
    OWL,
    RDF,
    RDFS,
    SKOS,
    local_name,
)
from exomirkg.sparql.negotiation import GRAPH_FORMATS, SUFFIX_MEDIA_TYPES
from exomirkg.sparql.rdfout import describe
from exomirkg.store import plain
from exomirkg.web.delivery import cors_for_data, link_header, send
from exomirkg.web.facets import findings_table
from exomirkg.web.graphdata import entity_iri, quote_input, select
from exomirkg.web.helpers import PAGE_TYPES, choose_media
from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("entities", __name__)
cors_for_data(bp)

_RDF, _RDFS = str(RDF), str(RDFS)
_SKOS, _OWL = str(SKOS), str(OWL)
_OBOINOWL = str(OBOINOWL)
_EKG = BASE
_TYPE, _LABEL = _RDF + "type", _RDFS + "label"
_SYNONYMS = {_SKOS + "altLabel", _OBOINOWL + "hasExactSynonym", _SKOS + "prefLabel"}
_DEFINITIONS = {_SKOS + "definition", str(DCTERMS.description)}
_NOTES = {_SKOS + "editorialNote", _EKG + "multipleMatchReason", _EKG + "typoNote",
          _RDFS + "comment"}
_MATCHES = {_SKOS + k: k.replace("Match", "") for k in
            ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")}
#: Statements shown in their own part of the page, or not at all (derived links, xref strings).
_SHOWN_ELSEWHERE = ({_TYPE, _LABEL, _OBOINOWL + "hasDbXref", _EKG + "drugInFinding",
                     _EKG + "drugLinkedToMechanism", _EKG + "resistanceViaMechanism",
                     _EKG + "sensitivityViaMechanism"}
                    | _SYNONYMS | _DEFINITIONS | _NOTES | set(_MATCHES))
#: TBox kinds: their HTML page is the ontology documentation.
_TBOX = {_OWL + "Class", _OWL + "ObjectProperty", _OWL + "DatatypeProperty",
         _OWL + "AnnotationProperty", _OWL + "Ontology"}

#: External IRI prefix -> resolver name shown on entity pages (the IRI itself is the link).
EXTERNAL_SOURCES: list[tuple[str, str]] = [
    (str(OBO) + "CHEBI_", "ChEBI"),
    (str(OBO) + "GO_", "GO"),
    (str(OBO) + "CL_", "CL"),
    (str(OBO) + "DOID_", "DOID"),
    (str(OBO) + "MONDO_", "MONDO"),
    (str(OBO) + "SO_", "SO"),
    (str(OBO) + "ECO_", "ECO"),
    ("https://identifiers.org/mirbase.mature:", "miRBase mature"),
    ("https://identifiers.org/mirbase:", "miRBase"),
    ("https://identifiers.org/hgnc:", "HGNC"),
    ("https://identifiers.org/ncbigene:", "NCBI Gene"),
    ("https://identifiers.org/reactome:", "Reactome"),
    ("https://identifiers.org/mesh:", "MeSH"),
    ("https://identifiers.org/drugbank:", "DrugBank"),
    ("https://identifiers.org/cellosaurus:", "Cellosaurus"),
    ("https://doi.org/", "DOI"),
]


def _external_link(iri: str) -> tuple[str, str]:
    """The resolver name and the ID of an external IRI, e.g. ("ChEBI", "27899")."""
    for prefix, name in EXTERNAL_SOURCES:
        if iri.startswith(prefix):
            return name, iri[len(prefix):]
    return "link", iri


@dataclass
class EntityView:
    """What an entity page shows."""

    iri: str
    local: str
    label: str
    kinds: list[Mention] = field(default_factory=list)
    inferred_kinds: list[Mention] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    matches: list[dict[str, str]] = field(default_factory=list)
    statements: list[tuple[str, Mention | str]] = field(default_factory=list)
    retracted: bool = False


def _iri_or_none(local: str) -> pyoxigraph.NamedNode | None:
    """The IRI of a path, or None when the path cannot be an IRI (so names nothing of ours)."""
    try:
        return entity_iri(local)
    except ValueError:
        return None


def _exists(store: pyoxigraph.Store, iri: pyoxigraph.NamedNode) -> bool:
    if next(iter(store.quads_for_pattern(iri, None, None)), None) is not None:
        return True
    return store.contains_named_graph(iri)


def _alternates(local: str, media_type: str) -> list[tuple[str, str, str | None]]:
    """The other formats of ``/<local>``: the HTML page and one suffix URL per RDF format."""
    links: list[tuple[str, str, str | None]] = []
    if media_type != "text/html":
        links.append((url_for(".entity", local=local), "alternate", "text/html"))
    links += [(url_for(".entity", local=local + suffix), "alternate", suffix_type)
              for suffix, suffix_type in SUFFIX_MEDIA_TYPES.items() if suffix_type != media_type]
    return links


def _rdf(triples: list[pyoxigraph.Triple], local: str, media_type: str) -> Response:
    body = stable_rdf(triples, GRAPH_FORMATS[media_type])
    return send(body, media_type, links=_alternates(local, media_type), vary_accept=True)


def _graph_response(iri: pyoxigraph.NamedNode, media_type: str) -> Response:
    """A named graph (``/graph/section/2-2``): its triples, or an HTML list of its subjects."""
    store = get_state().store
    quads = list(store.quads_for_pattern(None, None, None, iri))
    local = local_name(iri.value) or iri.value
    if media_type != "text/html":
        return _rdf([pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads], local,
                    media_type)
    label = pyoxigraph.NamedNode(_LABEL)
    subjects = {}
    for quad in quads:
        if isinstance(quad.subject, pyoxigraph.NamedNode) and quad.subject not in subjects:
            names = list(store.quads_for_pattern(quad.subject, label, None))
            subjects[quad.subject] = Mention(
                iri=quad.subject.value,
                label=names[0].object.value if names else quad.subject.value)
    response = Response(render_template(
        "graph.html", title=local, iri=iri.value, local=local, triples=len(quads),
        subjects=sorted(subjects.values(), key=lambda m: m.label.lower())))
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header(_alternates(local, media_type))
    return response


def _is_tbox(store: pyoxigraph.Store, iri: pyoxigraph.NamedNode) -> bool:
    graph = pyoxigraph.NamedNode(str(GRAPH_ONTOLOGY))
    return any(q.object.value in _TBOX for q in store.quads_for_pattern(
        iri, pyoxigraph.NamedNode(_TYPE), None, graph))


def _entity_view(iri: pyoxigraph.NamedNode,
                annotated: frozenset[tuple[str, str]] = frozenset()) -> EntityView:
    """Collect labels, synonyms, definitions, IDs and other statements of an entity.

    :param annotated: (property, object) pairs shown with their evidence elsewhere on the
        page (statements an ``ekg:Statement`` names); they are left out of the plain lists.
    """
    rows = select("entity-statements", entity=iri)
    inferred = str(GRAPH_INFERRED)
    view = EntityView(iri=iri.value, local=local_name(iri.value) or iri.value, label="")
    seen: set[tuple[str, str]] = set()
    for row in rows:
        predicate, graph = plain(row["p"]), plain(row["graph"])
        obj = row["o"]
        value = plain(obj)
        if (predicate, str(value)) in seen and predicate != _TYPE:
            continue
        seen.add((predicate, str(value)))
        label = plain(row.get("oLabel")) or (local_name(value) if isinstance(value, str) else "")
        if isinstance(obj, pyoxigraph.BlankNode):
            continue
        if predicate == _LABEL and not view.label:
            view.label = value
        elif predicate == _TYPE and isinstance(obj, pyoxigraph.NamedNode):
            mention = Mention(iri=value, label=label or value)
            if graph != inferred:
                if all(k.iri != value for k in view.kinds):
                    view.kinds.append(mention)
            elif value.startswith(_EKG) and all(k.iri != value for k in view.kinds):
                view.inferred_kinds.append(mention)
        elif graph == inferred or (predicate, str(value)) in annotated:
            continue
        elif predicate in _SYNONYMS:
            view.synonyms.append(value)
        elif predicate in _DEFINITIONS:
            view.definitions.append(value)
        elif predicate in _NOTES:
            view.notes.append(value)
        elif predicate in _MATCHES and isinstance(obj, pyoxigraph.NamedNode):
            source, ident = _external_link(value)
            view.matches.append({"iri": value, "source": source, "id": ident,
                                 "label": plain(row.get("oLabel")) or "",
                                 "relation": _MATCHES[predicate]})
        elif predicate == _EKG + "retracted":
            view.retracted = bool(value)
        elif predicate not in _SHOWN_ELSEWHERE:
            name = plain(row.get("pLabel")) or predicate.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            if isinstance(obj, pyoxigraph.NamedNode):
                view.statements.append((name, Mention(iri=value, label=label or value)))
            else:
                view.statements.append((name, str(value)))
    view.inferred_kinds = [k for k in view.inferred_kinds
                           if all(k.iri != a.iri for a in view.kinds)]
    view.label = view.label or view.local
    return view


def _explanations(drug: str) -> list[dict[str, str]]:
    """One row per link and supporting finding of a drug, from ``exomirkg.explain`` (the
    reasoning module's query, so the page and ``exomirkg explain`` tell the same story)."""
    from exomirkg.explain import explanation_rows

    return explanation_rows(get_state().store, drug)


def _inferred_links(iri: pyoxigraph.NamedNode) -> list[dict[str, Any]]:
    """Inferred drug-mechanism and drug-pathway links of a drug, mechanism or pathway.

    Each link carries the properties it stands for (resistance via mechanism, ...), whether
    all its support is retracted, and per supporting finding the chain cargo -> genes ->
    pathways -> mechanism with the references.
    """
    links: dict[str, dict[str, Any]] = {}
    for row in select("entity-links", entity=iri):
        key = plain(row["link"])
        entry = links.setdefault(key, {
            "drug": Mention(iri=plain(row["drug"]), label=plain(row["drugLabel"])),
            "target": Mention(iri=plain(row["target"]), label=plain(row["targetLabel"])),
            "kind": plain(row["kind"]), "properties": [], "local": local_name(key) or key,
            "retracted": bool(plain(row.get("supportRetracted")))})
        label = plain(row.get("propertyLabel"))
        if label and label not in entry["properties"]:
            entry["properties"].append(label)
    explained = {drug: _explanations(drug) for drug in {e["drug"].iri for e in links.values()}}
    for key, entry in links.items():
        support = []
        for row in explained[entry["drug"].iri]:
            if row.get("link") != key:
                continue
            entry["class_level"] = row.get("strength") == "class-level"
            if row.get("finding") and all(s["finding"].iri != row["finding"] for s in support):
                steps = [row.get("cargos") or "?"] + [
                    row[level].replace(" | ", "; ") for level in ("exports", "genes", "pathways")
                    if row.get(level)]
                steps.append(entry["target"].label if entry["kind"] == "mechanism"
                             else row.get("mechanisms") or "(no mechanism stated)")
                support.append({
                    "finding": Mention(iri=row["finding"], label=row.get("findingLabel") or ""),
                    "effect": row.get("effect", ""), "chain": steps,
                    "references": [r for r in (row.get("references") or "").split(" | ") if r],
                    "retracted": row.get("restsOnlyOnRetracted") == "true"})
        entry["support"] = support
        entry.setdefault("class_level", False)
        specific = [p for p in entry["properties"] if not p.startswith("drug linked to")]
        entry["properties"] = specific or entry["properties"]
    return sorted(links.values(), key=lambda e: (e["drug"].label.lower(), e["kind"],
                                                  e["target"].label.lower()))


def _statement_triples(store: pyoxigraph.Store,
                       iri: pyoxigraph.NamedNode) -> list[pyoxigraph.Triple]:
    """The ``ekg:Statement`` nodes the page lists (about or naming ``iri``, stated in it, or
    the statements an inferred link rests on) with their evidence, so the RDF views carry what
    the HTML page shows."""
    statements = {row["statement"] for row in select("statement-evidence", store, entity=iri)}
    return [pyoxigraph.Triple(q.subject, q.predicate, q.object)
            for statement in sorted(statements, key=str)
            for q in store.quads_for_pattern(statement, None, None)]


def _rdf_response(iri: pyoxigraph.NamedNode, local: str, media_type: str) -> Response:
    store = get_state().store
    triples = describe(store, iri)
    return _rdf(list(dict.fromkeys(triples + _statement_triples(store, iri))), local, media_type)


#: How a statement touches the page's entity -> the heading it is listed under.
STATEMENT_ROLES: dict[str, str] = {
    "self": "The statement and its evidence",
    "support": "Statements the link rests on",
    "subject": "Statements about it",
    "object": "Statements naming it",
    "part": "Statements made in this part",
}


def _by_role(statements: list[StatementView]) -> list[tuple[str, list[StatementView]]]:
    """Statements under their headings, each statement once (under its first role)."""
    groups: list[tuple[str, list[StatementView]]] = []
    shown: set[int] = set()
    for role, heading in STATEMENT_ROLES.items():
        members = [s for s in statements if role in s.roles and id(s) not in shown]
        shown.update(id(s) for s in members)
        if members:
            groups.append((heading, members))
    return groups


@bp.route("/<path:local>")
def entity(local: str) -> Response | str:
    """An entity of our namespace: HTML for browsers, Turtle/JSON-LD/N-Triples for RDF clients.

    ``/<local>.ttl``, ``.jsonld`` and ``.nt`` pick the format without an Accept header.
    """
    store = get_state().store
    suffix_type = None
    for suffix, media in SUFFIX_MEDIA_TYPES.items():
        stem = _iri_or_none(local[: -len(suffix)]) if local.endswith(suffix) else None
        if stem is not None and _exists(store, stem):
            local, suffix_type = local[: -len(suffix)], media
    iri = _iri_or_none(local)
    # A path that is no IRI (space, quote, <>, bad UTF-8) is the client's mistake: 404, not 500.
    if iri is None or not _exists(store, iri):
        abort(404, description=f"No entity {_EKG}{quote_input(local)} in exomirkg.")
    # A suffix (``/mir_21.ttl``) decides as ``format=`` does; else the Accept header, with the
    # page for a bare ``*/*`` and for types we cannot write.
    media_type = choose_media(PAGE_TYPES, fmt=suffix_type, default="text/html")
    assert media_type is not None  # a default is given
    if store.contains_named_graph(iri):
        return _graph_response(iri, media_type)
    if media_type != "text/html":
        return _rdf_response(iri, local, media_type)
    if _is_tbox(store, iri):
        return redirect(url_for("pages.docs.term", local=local), code=303)
    statements = assemble_statements(select("statement-evidence", entity=iri))
    view = _entity_view(iri, frozenset((s.predicate, s.object if isinstance(s.object, str)
                                       else s.object.iri)
                                      for s in statements if "subject" in s.roles))
    is_finding = any(k.iri == _EKG + "Finding" for k in view.kinds)
    kinds = {k.iri for k in view.kinds + view.inferred_kinds}
    rows = select("all-findings", finding=iri) if is_finding else select("entity-findings",
                                                                          entity=iri)
    findings = assemble_findings(rows)
    response = Response(render_template(
        "entity.html", title=view.label, entity=view, findings=findings,
        is_finding=is_finding, drug_links=_inferred_links(iri),
        is_link=_EKG + "InferredLink" in kinds, is_part=_EKG + "ReviewPart" in kinds,
        is_statement=_EKG + "Statement" in kinds,
        statements=_by_role(statements),
        retracted_findings=sum(f.retracted for f in findings),
        findings_links=findings_table().links_for(iri.value)))
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header(_alternates(local, "text/html"))
    return response
