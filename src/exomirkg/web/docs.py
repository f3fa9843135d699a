"""Ontology documentation (an index and one page per class, property and named individual),
the ontology for RDF clients, its import modules and its versioned release files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyoxigraph
from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    url_for,
)
from markupsafe import Markup, escape

from exomirkg import __version__
from exomirkg.canonical import stable_rdf
from exomirkg.namespaces import (
    BASE,
    DCTERMS,
    GRAPH_ONTOLOGY,
    IAO_DEFINITION,
    OWL,
    RDF,
    RDFS,
    SKOS,
    local_name,
)
from exomirkg.release import RELEASE_FILES, module_triples, ontology_triples, release_files
from exomirkg.sparql.negotiation import GRAPH_FORMATS
from exomirkg.store import plain
from exomirkg.web.delivery import cors_for_data, send
from exomirkg.web.graphdata import entity_iri, quote_input, select
from exomirkg.web.helpers import PAGE_TYPES, cached, choose_media
from exomirkg.web.state import get_state

__all__ = ["bp"]

bp = Blueprint("docs", __name__)
cors_for_data(bp)

_OWL, _RDF = str(OWL), str(RDF)
_RDFS, _SKOS = str(RDFS), str(SKOS)
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


def _render_expression(node: Any, depth: int = 0) -> Markup:
    """An OWL class expression in a readable Manchester-like form, terms linked."""
    if isinstance(node, pyoxigraph.NamedNode):
        return _term_link(node)
    if not isinstance(node, pyoxigraph.BlankNode) or depth > 6:
        return Markup(escape(plain(node)))
    parts = []
    for key, word in ((_OWL + "intersectionOf", " and "), (_OWL + "unionOf", " or ")):
        for head in _objects(node, key):
            items = [_render_expression(i, depth + 1) for i in _list(head)]
            parts.append(Markup(word).join(items))
    for head in _objects(node, _OWL + "oneOf"):
        items = [_render_expression(i, depth + 1) for i in _list(head)]
        parts.append(Markup("one of {") + Markup(", ").join(items) + Markup("}"))
    prop = _objects(node, _OWL + "onProperty")
    for key, word in ((_OWL + "someValuesFrom", "some"), (_OWL + "allValuesFrom", "only"),
                      (_OWL + "hasValue", "value")):
        for value in _objects(node, key):
            if prop:
                parts.append(_render_expression(prop[0], depth + 1) + Markup(f" <em>{word}</em> ")
                             + _render_expression(value, depth + 1))
    if not parts:
        items = _list(node)
        if items:
            return Markup(" ∘ ").join(_render_expression(i, depth + 1) for i in items)
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


def _version() -> str:
    """The version of the loaded build (what its release files carry)."""
    return str(get_state().info.get("version") or __version__)


def _release() -> dict[str, Any]:
    """The release ontology and files, made once per app from the loaded store."""
    def make() -> dict[str, Any]:
        store, version = get_state().store, _version()
        return {"triples": ontology_triples(store, version),
                "files": release_files(store, version)}

    return cached("release", make)


def _rdf(triples: list[pyoxigraph.Triple], media_type: str,
         links: Sequence[tuple[str, str, str | None]] = ()) -> Response:
    return send(stable_rdf(triples, GRAPH_FORMATS[media_type]), media_type, links=links,
                vary_accept=True)


def _ontology_links() -> list[tuple[str, str, str | None]]:
    """The release files of the current version, as ``Link: rel=alternate``."""
    return [(url_for(".release", version=_version(), name=name), "alternate", media)
            for name, media in RELEASE_FILES.items() if "-full" not in name]


def _negotiate_ontology() -> str:
    """The media type for an ontology IRI: as for any page, but RDF/XML with no Accept header.

    OWL tools (owlready2, the OWL API) fetch an ontology and its imports with no Accept header
    at all, and browsers always send one; RDF/XML is OWL's one required exchange syntax.
    """
    media = choose_media(PAGE_TYPES, default="text/html",
                         absent="application/rdf+xml")
    assert media is not None  # a default is given
    return media


@bp.route("/ontology")
def index() -> Response:
    """The ontology's table of contents (HTML), or the release ontology for RDF clients.

    RDF clients (owlready2, Protégé, ``Accept: application/rdf+xml``) get the TBox with its
    version IRI and ``owl:imports`` of the import modules, each of which dereferences at
    ``/ontology/imports/<source>_import``: the same statements as ``exomirkg.owl``.
    """
    media_type = _negotiate_ontology()
    if media_type != "text/html":
        return _rdf(_release()["triples"], media_type, _ontology_links())
    header = pyoxigraph.NamedNode(BASE + "ontology")
    meta = {key: [plain(o) for o in _objects(header, iri)] for key, iri in (
        ("title", str(DCTERMS.title)),
        ("description", str(DCTERMS.description)),
        ("version", _OWL + "versionInfo"), ("comment", _RDFS + "comment"))}
    response = Response(render_template("ontology.html", title="Ontology", meta=meta,
                                        groups=_terms()))
    response.vary.add("Accept")
    return response


@bp.route("/ontology/imports/<name>")
def import_module(name: str) -> Response:
    """An import module (``chebi_import``): the ontology's ``owl:imports`` name these IRIs."""
    triples = module_triples(get_state().store, name.removesuffix("_import"))
    if not name.endswith("_import") or not triples:
        abort(404, description=f"No import module {BASE}ontology/imports/{quote_input(name)}; "
                               "the ontology's owl:imports list them.")
    media_type = _negotiate_ontology()
    if media_type == "text/html":
        response = redirect(url_for(".index"), code=303)
        response.vary.add("Accept")
        return response
    return _rdf(triples, media_type)


@bp.route("/releases/<version>/<name>")
def release(version: str, name: str) -> Response:
    """A versioned release IRI: ``releases/<version>/ontology`` (the ontology's version IRI,
    negotiated like ``/ontology``) or a release file (``exomirkg.owl``, ``exomirkg-full.ttl``).

    Only the loaded build's version is served: older releases are not kept.
    """
    if version != _version() or (name != "ontology" and name not in RELEASE_FILES):
        abort(404, description=f"No release file {quote_input(version)}/{quote_input(name)}: "
                               f"this server holds release {_version()} (ontology, "
                               f"{', '.join(RELEASE_FILES)}).")
    if name == "ontology":
        return index()
    response = send(_release()["files"][name], RELEASE_FILES[name])
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


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
        values = [_render_expression(o) for o in _objects(iri, predicate)
                  if not (predicate == _RDF + "type" and o.value in KIND_TITLES)]
        if predicate == _OWL + "propertyChainAxiom":
            values = [Markup(" ∘ ").join(_render_expression(i) for i in _list(o))
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
        definitions=[plain(o) for prop in (str(IAO_DEFINITION), _SKOS + "definition")
                     for o in _objects(iri, prop)],
        comments=[plain(o) for o in _objects(iri, _RDFS + "comment")],
        axioms=axioms, children=[_term_link(c) for c in children],
        members=[_term_link(m) for m in members], uses=uses)
