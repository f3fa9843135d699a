"""Real SPARQL clients against a listening server: SPARQLWrapper, rdflib SPARQLStore and SERVICE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import rdflib.compare
from helpers import fresh_app, serving
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper import GET as SW_GET

from exomirkg.build import BuildResult

EKG = rdflib.Namespace("https://w3id.org/exomirkg/")
REVIEW_GRAPH = "https://w3id.org/exomirkg/graph/review"
#: Every label in the review graph (a small, exact, known answer).
LABELS = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?label WHERE {{ GRAPH <{REVIEW_GRAPH}> {{ ?s rdfs:label ?label }} }} ORDER BY ?s ?label"""
CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{REVIEW_GRAPH}> {{ ?s ?p ?o }} }}"


@pytest.fixture(scope="module")
def endpoint_url(built: BuildResult, build_dir: Path) -> Iterator[str]:
    """The app on a real socket (127.0.0.1, a free port), stopped after the module."""
    with fresh_app(build_dir, QUERY_WORKERS=2) as app, serving(app) as base_url:
        yield f"{base_url}/sparql"


@pytest.fixture(scope="module")
def expected_labels(built: BuildResult) -> list[tuple[str, str]]:
    graph = built.dataset.graph(rdflib.URIRef(REVIEW_GRAPH))
    return sorted((str(s), str(o)) for s, o in graph.subject_objects(rdflib.RDFS.label))


@pytest.fixture(scope="module")
def review_graph(built: BuildResult) -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in built.dataset.graph(rdflib.URIRef(REVIEW_GRAPH)):
        graph.add(triple)
    return graph


METHODS = [pytest.param(SW_GET, None, id="GET"), pytest.param(POST, None, id="POST-form"),
           pytest.param(POST, POSTDIRECTLY, id="POST-direct")]


def _wrapper(url: str, query: str, fmt: str, method: str, request_method: str | None):
    client = SPARQLWrapper(url)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    if request_method:
        client.setRequestMethod(request_method)
    return client.query()


@pytest.mark.parametrize(("method", "request_method"), METHODS)
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_every_format(endpoint_url: str, expected_labels: list,
                                           fmt: str, method: str,
                                           request_method: str | None) -> None:
    result = _wrapper(endpoint_url, LABELS, fmt, method, request_method)
    converted = result.convert()
    if fmt == JSON:
        rows = [(b["s"]["value"], b["label"]["value"]) for b in converted["results"]["bindings"]]
    elif fmt == XML:
        rows = [tuple(n.getElementsByTagName(t)[0].firstChild.data for t in ("uri", "literal"))
                for n in converted.getElementsByTagName("result")]
    else:
        text = converted.decode("utf-8")
        lines = text.splitlines()[1:]
        sep = "," if fmt == CSV else "\t"
        rows = [tuple(line.split(sep, 1)) for line in lines]
        if fmt == TSV:
            rows = [(s.strip("<>"), label.split('"')[1]) for s, label in rows]
        else:
            import csv as csv_module

            rows = [tuple(r) for r in csv_module.reader(lines)]
    assert sorted(rows) == expected_labels, f"{fmt} over {method} gave different rows"


@pytest.mark.parametrize(("method", "request_method"), METHODS)
def test_sparqlwrapper_ask(endpoint_url: str, method: str, request_method: str | None) -> None:
    result = _wrapper(endpoint_url, f"ASK {{ GRAPH <{REVIEW_GRAPH}> {{ ?s ?p ?o }} }}", JSON,
                      method, request_method)
    assert result.convert()["boolean"] is True


@pytest.mark.parametrize(("method", "request_method"), METHODS)
@pytest.mark.parametrize("fmt", [TURTLE, N3, RDFXML, XML, JSONLD])
def test_sparqlwrapper_construct_every_format(endpoint_url: str, review_graph: rdflib.Graph,
                                              fmt: str, method: str,
                                              request_method: str | None) -> None:
    result = _wrapper(endpoint_url, CONSTRUCT, fmt, method, request_method)
    converted = result.convert()
    if isinstance(converted, bytes):
        parse_as = {TURTLE: "turtle", N3: "turtle"}[fmt]
        converted = rdflib.Graph().parse(data=converted, format=parse_as)
    assert rdflib.compare.isomorphic(converted, review_graph), (
        f"CONSTRUCT as {fmt} over {method} did not round-trip the review graph")


def test_rdflib_sparqlstore_select_and_triples(endpoint_url: str, expected_labels: list,
                                               built: BuildResult) -> None:
    graph = rdflib.Graph(store=SPARQLStore(endpoint_url, returnFormat="json"))
    rows = sorted((str(r.s), str(r.label)) for r in graph.query(LABELS))
    assert rows == expected_labels
    review = rdflib.URIRef("https://w3id.org/exomirkg/review")
    remote = set(graph.triples((review, None, None)))
    # The default graph is the union: the review's triples from every named graph.
    assert remote == {(s, p, o) for s, p, o, _g in built.dataset.quads((review, None, None))}


def test_rdflib_service_clause_reaches_our_endpoint(endpoint_url: str,
                                                    built: BuildResult) -> None:
    review = rdflib.URIRef("https://w3id.org/exomirkg/review")
    local = rdflib.Graph()
    # Full IRIs and no GRAPH inside: rdflib's SERVICE parser trips over PREFIX and nesting.
    query = f"SELECT ?p ?o WHERE {{ SERVICE <{endpoint_url}> {{ <{review}> ?p ?o }} }}"
    rows = {(r.p, r.o) for r in local.query(query)}
    expected = {(p, o) for _s, p, o, _g in built.dataset.quads((review, None, None))}
    assert rows == expected, "a federated query from rdflib should get our answer"


def test_oxigraph_federates_to_our_endpoint(endpoint_url: str, built: BuildResult) -> None:
    # pyoxigraph's own SERVICE client (what an Oxigraph server sends): a join that needs a
    # PREFIX, a GRAPH block and a FILTER inside the SERVICE, evaluated at our endpoint.
    import pyoxigraph

    query = f"""PREFIX ekg: <https://w3id.org/exomirkg/>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?drug ?label WHERE {{
      SERVICE <{endpoint_url}> {{
        GRAPH ?g {{ ?drug a ekg:Drug ; rdfs:label ?label }}
        FILTER(STRSTARTS(STR(?label), "c"))
      }}
    }}"""
    rows = {(r["drug"].value, r["label"].value) for r in pyoxigraph.Store().query(query)}
    drug = rdflib.URIRef("https://w3id.org/exomirkg/Drug")
    expected = {(str(s), str(o)) for s in built.dataset.subjects(rdflib.RDF.type, drug)
                for o in built.dataset.objects(s, rdflib.RDFS.label) if str(o).startswith("c")}
    assert len(expected) >= 2 and rows == expected, (rows, expected)
