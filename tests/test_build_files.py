"""The build's TriG and N-Triples: canonical, and faithful to the data's own terms."""

from __future__ import annotations

import pyoxigraph
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import XSD

from exomirkg.canonical import canonical_dataset_files
from exomirkg.store import dataset_nquads

EX = "http://example.org/"


def _dataset(label: str) -> Dataset:
    """Two graphs sharing a blank node, a literal of a derived datatype."""
    dataset = Dataset(default_union=True)
    node = BNode(label)
    one, two = dataset.graph(URIRef(EX + "g1")), dataset.graph(URIRef(EX + "g2"))
    one.add((URIRef(EX + "s"), URIRef(EX + "year"), Literal("2019", datatype=XSD.long)))
    one.add((URIRef(EX + "s"), URIRef(EX + "part"), node))
    two.add((node, URIRef(EX + "label"), Literal("a \"quoted\" name", lang="en")))
    two.add((URIRef(EX + "s"), URIRef(EX + "year"), Literal("2019", datatype=XSD.long)))
    return dataset


def test_the_files_keep_lexical_forms_and_do_not_depend_on_blank_node_labels() -> None:
    trig, nt = canonical_dataset_files(dataset_nquads(_dataset("first")))
    assert (trig, nt) == canonical_dataset_files(dataset_nquads(_dataset("other")))
    # A pyoxigraph store would have made it "2019"^^xsd:integer.
    line = (f'<{EX}s> <{EX}year> "2019"^^<http://www.w3.org/2001/XMLSchema#long> .\n'
            ).encode()
    assert nt.count(line) == 1, "the union names a triple of two graphs once"
    assert nt.count(b"\n") == 3 and b"_:c14n0" in nt
    quads = list(pyoxigraph.parse(trig, format=pyoxigraph.RdfFormat.TRIG))
    assert len(quads) == 4
    assert {str(q.graph_name) for q in quads} == {f"<{EX}g1>", f"<{EX}g2>"}
    # The blank node is one node across both graphs, as in the data.
    assert len({q.object for q in quads if q.predicate.value == EX + "part"}
               | {q.subject for q in quads if q.predicate.value == EX + "label"}) == 1
