"""Ontology documentation: an index and one page per class, property and named individual."""

from __future__ import annotations

from typing import Any

import pyoxigraph
from flask import Blueprint, Response, abort, render_template, url_for
from markupsafe import Markup, escape

from exomirkg.namespaces import BASE, GRAPH_ONTOLOGY
from exomirkg.sparql.rdfout import serialize
from exomirkg.web.entities import negotiate
from exomirkg.web.graphdata import entity_iri, local_name, plain, quote_input, select
from exomirkg.web.state import get_state

__all__ = ["bp", "render_expression"]

bp = Blueprint("docs", __name__)

_OWL, _RDF = "http://www.w3.org/2002/07/owl#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS, _SKOS = "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2004/02/skos/core#"
_ONTOLOGY = pyoxigraph.NamedNode(str(GRAPH_ONTOLOGY))
#: Section titles of the index, in order.
KIND_TITLES = {
    _OWL + "Class": "Classes",
    _OWL + "ObjectProperty": "Object properties",
    _OWL + "DatatypeProperty": "Data properties",
    _OWL + "AnnotationProperty": "Annotation properties",
    _OWL + "NamedIndividual": "Named individuals (closed lists)",
}
#: Axioms shown on a term page: predicate -> heading.
_AXIOMS = [
    (_RDFS + "subClassOf", "Subclass of"), (_OWL + "equivalentClass", "Equivalent to"),
    (_RDFS + "subPropertyOf", "Subproperty of"), (_OWL + "inverseOf", "Inverse of"),
    (_RDFS + "domain", "Domain"), (_RDFS + "range", "Range"),
    (_OWL + "propertyChainAxiom", "Property chain"), (_RDF + "type", "Type"),
    (_SKOS + "closeMatch", "Close match"), (_SKOS + "broadMatch", "Broad match"),
    (_SKOS + "exactMatch", "Exact match"),
]


def _objects(subject: Any, predicate: str) -> list[Any]:
    return [q.object for q in get_state().store.quads_for_pattern(
        subject, pyoxigraph.NamedNode(predicate), None, _ONTOLOGY)]


def _label(term: pyoxigraph.NamedNode) -> str:
    for quad in get_state().store.quads_for_pattern(term, pyoxigraph.NamedNode(_RDFS + "label"),
                                                    None):
        return quad.object.value
    value = term.value
    return value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _term_link(term: pyoxigraph.NamedNode) -> Markup:
    local = local_name(term.value)
    text = escape(_label(term))
    if local is None:
        return Markup(f'<a href="{escape(term.value)}" rel="external">{text}</a>')
    return Markup(f'<a href="{url_for("pages.entities.entity", local=local)}">{text}</a>')


def _list(node: Any) -> list[Any]:
    items = []
    while isinstance(node, pyoxigraph.BlankNode):
        items += _objects(node, _RDF + "first")
        rest = _objects(node, _RDF + "rest")
        node = rest[0] if rest else None
    return items


def render_expression(node: Any, depth: int = 0) -> Markup:
    """An OWL class expression in a readable Manchester-like form, terms linked."""
    if isinstance(node, pyoxigraph.NamedNode):
        return _term_link(node)
    if not isinstance(node, pyoxigraph.BlankNode) or depth > 6:
        return Markup(escape(plain(node)))
    parts = []
    for key, word in ((_OWL + "intersectionOf", " and "), (_OWL + "unionOf", " or ")):
        for head in _objects(node, key):
            items = [render_expression(i, depth + 1) for i in _list(head)]
            parts.append(Markup(word).join(items))
    for head in _objects(node, _OWL + "oneOf"):
        items = [render_expression(i, depth + 1) for i in _list(head)]
        parts.append(Markup("one of {") + Markup(", ").join(items) + Markup("}"))
    prop = _objects(node, _OWL + "onProperty")
    for key, word in ((_OWL + "someValuesFrom", "some"), (_OWL + "allValuesFrom", "only"),
                      (_OWL + "hasValue", "value")):
        for value in _objects(node, key):
            if prop:
                parts.append(render_expression(prop[0], depth + 1) + Markup(f" <em>{word}</em> ")
                             + render_expression(value, depth + 1))
    if not parts:
        items = _list(node)
        if items:
            return Markup(" ∘ ").join(render_expression(i, depth + 1) for i in items)
        return Markup("(anonymous)")
    text = Markup(" and ").join(parts)
    return Markup("(") + text + Markup(")") if depth else text


def _terms() -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {title: [] for title in KIND_TITLES.values()}
    seen = set()
    for row in select("ontology-terms"):
        iri = plain(row["term"])
        kind = KIND_TITLES[plain(row["kind"])]
        if (iri, kind) in seen:
            continue
        seen.add((iri, kind))
        grouped[kind].append({"iri": iri, "local": local_name(iri) or "",
                              "label": plain(row.get("label")) or _label(row["term"]),
                              "definition": plain(row.get("definition")) or ""})
    return {k: v for k, v in grouped.items() if v}


@bp.route("/ontology")
def index() -> Response | str:
    """The ontology's table of contents (HTML), or the ontology graph for RDF clients."""
    media_type = negotiate()
    if media_type != "text/html":
        store = get_state().store
        triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object)
                   for q in store.quads_for_pattern(None, None, None, _ONTOLOGY)]
        response = Response(serialize(triples, media_type), mimetype=media_type)
        response.headers["Vary"] = "Accept"
        return response
    header = pyoxigraph.NamedNode(BASE + "ontology")
    meta = {key: [plain(o) for o in _objects(header, iri)] for key, iri in (
        ("title", "http://purl.org/dc/terms/title"),
        ("description", "http://purl.org/dc/terms/description"),
        ("version", _OWL + "versionInfo"), ("comment", _RDFS + "comment"))}
    return render_template("ontology.html", title="Ontology", meta=meta, groups=_terms())


@bp.route("/ontology/<local>")
def term(local: str) -> str:
    """One class, property or individual of the ontology: definition and axioms."""
    not_a_term = f"{BASE}{quote_input(local)} is not a term of the exomirkg ontology."
    try:
        iri = entity_iri(local)
    except ValueError:
        # No term of ours has a space, quote or bad UTF-8 in its name: the client's mistake.
        abort(404, description=not_a_term)
    store = get_state().store
    types = {o.value for o in _objects(iri, _RDF + "type")}
    if not types:
        abort(404, description=not_a_term)
    axioms = []
    for predicate, heading in _AXIOMS:
        values = [render_expression(o) for o in _objects(iri, predicate)
                  if not (predicate == _RDF + "type" and o.value in KIND_TITLES)]
        if predicate == _OWL + "propertyChainAxiom":
            values = [Markup(" ∘ ").join(render_expression(i) for i in _list(o))
                      for o in _objects(iri, predicate)]
        if values:
            # Engines list a subject's objects in their own order: sort for a stable page.
            axioms.append((heading, sorted(values, key=str)))
    sub_class = pyoxigraph.NamedNode(_RDFS + "subClassOf")
    sub_property = pyoxigraph.NamedNode(_RDFS + "subPropertyOf")
    children = sorted(
        {q.subject for predicate in (sub_class, sub_property)
         for q in store.quads_for_pattern(None, predicate, iri, _ONTOLOGY)
         if isinstance(q.subject, pyoxigraph.NamedNode) and q.subject != iri},
        key=lambda t: _label(t).lower())
    members = sorted({q.subject for q in store.quads_for_pattern(
        None, pyoxigraph.NamedNode(_RDF + "type"), iri)
        if isinstance(q.subject, pyoxigraph.NamedNode)}, key=lambda t: _label(t).lower())
    uses = sum(1 for _ in store.quads_for_pattern(None, iri, None))
    return render_template(
        "ontology_term.html", title=_label(iri), iri=iri.value, local=local,
        label=_label(iri), kinds=[title for kind, title in KIND_TITLES.items() if kind in types],
        definitions=[plain(o) for o in _objects(iri, _SKOS + "definition")],
        comments=[plain(o) for o in _objects(iri, _RDFS + "comment")],
        axioms=axioms, children=[_term_link(c) for c in children],
        members=[_term_link(m) for m in members], uses=uses)
