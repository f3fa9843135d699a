"""Deterministic RDF: the same data gives the same bytes in every process.

pyoxigraph gives every blank node it loads a random label, and a store's iteration order
follows its internal IDs, so two server workers (or two runs over the same build) wrote
different bytes for the same graph and ``SHA256SUMS`` could not verify. Here blank nodes
are relabelled by W3C RDF Dataset Canonicalization (RDFC-1.0, as implemented by pyoxigraph:
labels follow the graph's shape, not the load) and statements are put in a fixed order.

JSON-LD: pyoxigraph writes it expanded (no ``@context``); :func:`compact_jsonld` compacts it
against our prefixes with pyld, the JSON-LD reference implementation in Python.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph

from exomirkg.namespaces import PREFIXES
from exomirkg.sparql.rdfout import write_rdf

__all__ = ["canonical_quads", "canonical_triples", "compact_jsonld", "gzip_bytes", "stable_rdf"]

_ALGORITHM = pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0


def _key(term: object) -> str:
    return str(term)


def canonical_quads(quads: Iterable[pyoxigraph.Quad]) -> list[pyoxigraph.Quad]:
    """Quads with canonical blank-node labels, sorted by graph, subject, predicate, object.

    Sorting by graph first keeps each graph in one block of a TriG file.

    >>> a = [pyoxigraph.Quad(pyoxigraph.BlankNode(), pyoxigraph.NamedNode("http://e/p"),
    ...                      pyoxigraph.Literal("x"))]
    >>> str(canonical_quads(a)[0])
    '_:c14n0 <http://e/p> "x"'
    """
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(_ALGORITHM)
    return sorted(dataset, key=lambda q: (_key(q.graph_name), _key(q.subject),
                                          _key(q.predicate), _key(q.object)))


def canonical_triples(triples: Iterable[pyoxigraph.Triple]) -> list[pyoxigraph.Triple]:
    """Triples with canonical blank-node labels, sorted by subject, predicate, object."""
    quads = (pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    return [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in canonical_quads(quads)]


def compact_jsonld(expanded: bytes, prefixes: Mapping[str, str]) -> bytes:
    """Expanded JSON-LD compacted with an ``@context`` holding ``prefixes``.

    pyld's compaction is deterministic for a given input (it walks keys in sorted order),
    so canonical input stays byte-identical.
    """
    from pyld import jsonld

    document = json.loads(expanded) if expanded.strip() else []
    compacted = jsonld.compact(document, {"@context": dict(prefixes)})
    return json.dumps(compacted, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def stable_rdf(items: Iterable[Any], fmt: pyoxigraph.RdfFormat) -> bytes:
    """Triples or quads in ``fmt``, byte-identical in every process for the same statements.

    JSON-LD comes compacted with an ``@context`` of our prefixes.
    """
    items = list(items)
    if items and isinstance(items[0], pyoxigraph.Quad):
        ordered: list[Any] = canonical_quads(items)
    else:
        ordered = canonical_triples(items)
    body = write_rdf(ordered, fmt)
    if fmt == pyoxigraph.RdfFormat.JSON_LD:
        body = compact_jsonld(body, PREFIXES)
    return body


def gzip_bytes(body: bytes) -> bytes:
    """gzip with no timestamp or file name in its header, so the same body gives the same bytes."""
    return gzip.compress(body, compresslevel=9, mtime=0)
