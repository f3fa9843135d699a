"""RDF for RDF clients: the media types we serve and a resource's description."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph

from exomirkg.namespaces import GRAPH_INFERRED, OWL, PREFIXES
from exomirkg.sparql.negotiation import GRAPH_FORMATS

__all__ = ["describe", "serialize", "union_triples", "write_rdf"]

_INFERRED = pyoxigraph.NamedNode(str(GRAPH_INFERRED))
_OWL_THING = pyoxigraph.NamedNode(str(OWL.Thing))


def describe(store: pyoxigraph.Store, iri: pyoxigraph.NamedNode) -> list[pyoxigraph.Triple]:
    """Every statement about ``iri``, with the blank nodes it uses (class expressions).

    Reasoner output (graph/inferred) about ``iri`` itself is kept when its object is another
    IRI or a literal: the inferred links and classes, not the anonymous restriction types,
    reflexive axioms and owl:Thing that OWL RL also derives.
    """
    triples: dict[pyoxigraph.Triple, None] = {}
    pending: list[pyoxigraph.NamedNode | pyoxigraph.BlankNode] = [iri]
    seen = set()
    while pending:
        subject = pending.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for quad in store.quads_for_pattern(subject, None, None):
            inferred = quad.graph_name == _INFERRED
            if inferred and (isinstance(quad.object, pyoxigraph.BlankNode) or subject != iri
                             or quad.object in (subject, _OWL_THING)):
                continue
            triples[pyoxigraph.Triple(quad.subject, quad.predicate, quad.object)] = None
            if isinstance(quad.object, pyoxigraph.BlankNode) and not inferred:
                pending.append(quad.object)
    return list(triples)


#: Formats that write prefix declarations (JSON-LD would turn them into a context).
_PREFIXED_FORMATS = frozenset({pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG,
                               pyoxigraph.RdfFormat.RDF_XML})


def write_rdf(items: Iterable[Any], fmt: pyoxigraph.RdfFormat,
              prefixes: Mapping[str, str] = PREFIXES) -> bytes:
    """Triples or quads in ``fmt``, with prefix declarations where the format has them.

    RDF/XML too is pyoxigraph's writer, not rdflib's: rdflib orders its ``xmlns``
    declarations by iterating a set of predicates, so the same graph gives different bytes in
    processes with different hash seeds (two server workers), and ``SHA256SUMS`` and ETags
    would disagree. pyoxigraph's output, for canonical input, is the same in every process.
    """
    return pyoxigraph.serialize(items, format=fmt, prefixes=dict(prefixes)
                                if fmt in _PREFIXED_FORMATS else None) or b""


def union_triples(store: Any) -> list[pyoxigraph.Triple]:
    """The union of all graphs as plain triples, each once (duplicates across graphs merged)."""
    return list(dict.fromkeys(pyoxigraph.Triple(q.subject, q.predicate, q.object)
                              for q in store.quads_for_pattern(None, None, None)))


def serialize(triples: Iterable[pyoxigraph.Triple], media_type: str) -> bytes:
    """Serialise triples in the format of a graph media type
    (:data:`~exomirkg.sparql.negotiation.GRAPH_FORMATS`)."""
    return write_rdf(triples, GRAPH_FORMATS[media_type])
