"""/store: the Graph Store HTTP Protocol, read-only, fetched by real RDF clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyoxigraph
import pytest
import requests
from flask import Flask
from helpers import serving
from rdflib import Dataset, Graph, URIRef

from exomirkg.namespaces import GRAPH_INFERRED

INFERRED = str(GRAPH_INFERRED)


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _graph_triples(store: pyoxigraph.Store, name: str | None) -> set[tuple[str, str, str]]:
    graph = pyoxigraph.NamedNode(name) if name else None
    return {(str(q.subject), str(q.predicate), str(q.object))
            for q in store.quads_for_pattern(None, None, None, graph)
            if not isinstance(q.subject, pyoxigraph.BlankNode)
            and not isinstance(q.object, pyoxigraph.BlankNode)}


def _rdflib_triples(graph: Graph) -> set[tuple[str, str, str]]:
    return {(s.n3(), p.n3(), o.n3()) for s, p, o in graph
            if isinstance(s, URIRef) and not o.n3().startswith("_:")}


def test_rdflib_reads_one_named_graph_whole(base_url: str, store: pyoxigraph.Store) -> None:
    graph = Graph().parse(f"{base_url}/store?graph={quote(INFERRED, safe='')}",
                          format="turtle")
    expected = _graph_triples(store, INFERRED)
    assert len(expected) > 1000
    assert _rdflib_triples(graph) == expected


def test_the_default_graph_is_the_union(base_url: str, store: pyoxigraph.Store) -> None:
    response = requests.get(f"{base_url}/store?default", timeout=30,
                            headers={"Accept": "application/n-triples"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(
        "application/n-triples")
    union = {(q.subject, q.predicate, q.object) for q in store}
    assert int(response.headers["X-Exomirkg-Rows"]) == len(union)
    assert len(response.text.strip().splitlines()) == len(union)


def test_without_a_graph_the_whole_dataset_comes_as_trig(base_url: str,
                                                        store: pyoxigraph.Store) -> None:
    dataset = Dataset()
    dataset.parse(f"{base_url}/store", format="trig")
    assert sum(1 for _ in dataset.quads()) == len(store)
    names = {str(graph.identifier) for graph in dataset.graphs()}
    assert INFERRED in names


def test_graph_store_errors_say_what_happened(base_url: str, store: pyoxigraph.Store) -> None:
    before = len(store)
    for method in ("PUT", "POST", "DELETE"):
        response = requests.request(method, f"{base_url}/store?default", timeout=30,
                                    data="<urn:a> <urn:b> <urn:c> .",
                                    headers={"Content-Type": "application/n-triples"})
        assert response.status_code == 405 and "read-only" in response.text
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    count = requests.get(f"{base_url}/health", timeout=30).json()["triples"]
    assert count == before, "a write to /store must not change the data"
    cases = [({"graph": "https://w3id.org/exomirkg/graph/nope"}, {}, 404, "no graph named"),
             ({"graph": "relative"}, {}, 400, "not an absolute IRI"),
             ({"graph": INFERRED, "default": ""}, {}, 400, "one graph"),
             ({"default": ""}, {"Accept": "image/png"}, 406, "text/turtle")]
    for params, headers, status, words in cases:
        response = requests.get(f"{base_url}/store", params=params, headers=headers, timeout=30)
        assert response.status_code == status, (params, response.text)
        assert words in response.text and "Traceback" not in response.text


def test_head_and_cors(base_url: str) -> None:
    head = requests.head(f"{base_url}/store?default", timeout=30)
    assert head.status_code == 200 and head.text == ""
    assert head.headers["Content-Type"].startswith("text/turtle")
    cors = requests.get(f"{base_url}/store?graph={quote(INFERRED, safe='')}", timeout=30,
                        headers={"Origin": "https://elsewhere.example"})
    assert cors.headers["Access-Control-Allow-Origin"] == "*"


def test_graph_store_serves_an_on_disk_store(make_app, tmp_path: Path,
                                             store: pyoxigraph.Store) -> None:
    app = make_app(STORE_PATH=str(tmp_path / "store"), QUERY_WORKERS=1)
    response = app.test_client().get("/store", query_string={"graph": INFERRED},
                                     headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert len(response.get_data(as_text=True).strip().splitlines()) == sum(
        1 for _ in store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(INFERRED)))
