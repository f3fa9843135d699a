"""The whole app on an external engine (BACKEND=sparql+http://...): same responses, same rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import free_port

from exomirkg import paths
from exomirkg.build import BuildResult
from exomirkg.queries import load_queries
from exomirkg.web import create_app

pytestmark = pytest.mark.backend

SELECT_DRUGS = ("PREFIX ekg: <https://w3id.org/exomirkg/> "
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                "SELECT ?drug ?label WHERE { ?drug a ekg:Drug ; rdfs:label ?label } "
                "ORDER BY ?label ?drug")
CONSTRUCT_DRUGS = ("PREFIX ekg: <https://w3id.org/exomirkg/> "
                   "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                   "CONSTRUCT { ?drug rdfs:label ?label } WHERE { ?drug a ekg:Drug ; "
                   "rdfs:label ?label }")

#: (id, method, path, request kwargs): each must answer alike on both backends.
CASES = [
    ("get-json", "GET", "/sparql", {"query_string": {"query": SELECT_DRUGS},
                                    "headers": {"Accept": "application/sparql-results+json"}}),
    ("get-xml", "GET", "/sparql", {"query_string": {"query": SELECT_DRUGS},
                                   "headers": {"Accept": "application/sparql-results+xml"}}),
    ("post-form-csv", "POST", "/sparql", {"data": {"query": SELECT_DRUGS},
                                          "headers": {"Accept": "text/csv"}}),
    ("post-direct-tsv", "POST", "/sparql", {
        "data": SELECT_DRUGS, "content_type": "application/sparql-query",
        "headers": {"Accept": "text/tab-separated-values"}}),
    ("ask", "GET", "/sparql", {"query_string": {"query": "ASK { ?s ?p ?o }"},
                               "headers": {"Accept": "application/sparql-results+json"}}),
    ("construct-ntriples", "GET", "/sparql", {
        "query_string": {"query": CONSTRUCT_DRUGS},
        "headers": {"Accept": "application/n-triples"}}),
    ("format-parameter", "GET", "/sparql", {"query_string": {"query": SELECT_DRUGS,
                                                              "format": "csv"}}),
    ("update-refused", "POST", "/sparql", {
        "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}),
    ("insert-as-query-refused", "POST", "/sparql", {
        "data": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}),
    ("service-refused", "GET", "/sparql", {"query_string": {
        "query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}}),
    ("malformed", "GET", "/sparql", {"query_string": {"query": "SELECT * WHERE { ?s "}}),
    ("queries-index", "GET", "/queries", {}),
    ("landing-page", "GET", "/", {}),
    ("search-page", "GET", "/search", {"query_string": {"q": "cis"}}),
    ("ontology-term-page", "GET", "/ontology/Finding", {}),
    ("mirna-page", "GET", "/mir_21", {}),
    # Drug pages run ontology/explain/explain-links.rq (rewritten for Virtuoso 7.2: SQ074).
    ("drug-page-cisplatin", "GET", "/cisplatin", {}),
    ("drug-page-gemcitabine", "GET", "/gemcitabine", {}),
    ("drug-page-paclitaxel", "GET", "/paclitaxel", {}),
    ("drug-page-retracted-support", "GET", "/trastuzumab", {}),
    ("network-json", "GET", "/network.json", {}),
    # Graph Store reads (graphs without blank nodes: engines label those differently).
    ("graph-store-inferred", "GET", "/store", {
        "query_string": {"graph": "https://w3id.org/exomirkg/graph/inferred"},
        "headers": {"Accept": "application/n-triples"}}),
    ("graph-store-table-1", "GET", "/store", {
        "query_string": {"graph": "https://w3id.org/exomirkg/graph/section/table-1"},
        "headers": {"Accept": "application/n-triples"}}),
    ("graph-store-unknown", "GET", "/store", {
        "query_string": {"graph": "https://w3id.org/exomirkg/graph/nope"}}),
]
CASES += [(f"example-{name}", "GET", f"/queries/{name}", {"headers": {"Accept": "text/csv"}})
          for name in sorted(load_queries(paths.QUERIES_DIR))]


@pytest.fixture
def external_app(virtuoso: str, built: BuildResult, build_dir: Path) -> Flask:
    return create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "BACKEND": virtuoso})


def _answer(client: FlaskClient, method: str, path: str, kwargs: dict):
    response = client.open(path, method=method, **kwargs)
    return response.status_code, response.mimetype, response.get_data()


@pytest.mark.parametrize(("method", "path", "kwargs"),
                         [pytest.param(m, p, k, id=i) for i, m, p, k in CASES])
def test_external_backend_answers_like_embedded(app: Flask, external_app: Flask, method: str,
                                                path: str, kwargs: dict) -> None:
    expected = _answer(app.test_client(), method, path, kwargs)
    got = _answer(external_app.test_client(), method, path, kwargs)
    assert got[:2] == expected[:2], f"status/type {got[:2]} on Virtuoso, {expected[:2]} embedded"
    if expected[0] == 200:
        if expected[1] == "application/n-triples":
            # A graph has no order: compare its lines as a set.
            got, expected = (g[:2] + (sorted(g[2].splitlines()),) for g in (got, expected))
        assert got[2] == expected[2], (
            f"{path} differs on Virtuoso:\n{got[2][:400]!r}\nembedded:\n{expected[2][:400]!r}")


def test_row_cap_flags_truncation_on_external_backend(virtuoso: str, build_dir: Path) -> None:
    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "BACKEND": virtuoso,
                      "ROW_CAP": 7})
    response = app.test_client().get("/sparql", query_string={"query": SELECT_DRUGS},
                                     headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["X-Exomirkg-Truncated"].startswith("true")
    assert response.get_data(as_text=True).count("\r\n") == 8  # header + 7 rows


def test_unreachable_backend_gives_503_with_a_sentence(build_dir: Path) -> None:
    backend = f"sparql+http://127.0.0.1:{free_port()}/sparql"
    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "BACKEND": backend})
    client = app.test_client()
    for path in ("/sparql?query=ASK%7B%7D", "/queries/drugs-by-class", "/ontology"):
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 503, f"{path}: {response.status_code} {text[:200]}"
        assert "cannot be reached" in text and "Traceback" not in text, text


def test_health_on_external_engine_reports_ok_and_the_engine_count(
        app: Flask, external_app: Flask) -> None:
    response = external_app.test_client().get("/health")
    assert response.status_code == 200, response.get_data(as_text=True)
    health = response.get_json()
    assert health["status"] == "ok" and health["backend"].startswith("sparql+http://")
    assert health["triples"] == app.test_client().get("/health").get_json()["triples"], (
        "the engine holds another triple count than the embedded store: reload the build "
        "(scripts/virtuoso.sh load DIR build/exomirkg.trig)")


def test_health_on_unreachable_engine_is_503_with_a_readable_json_body(
        build_dir: Path) -> None:
    backend = f"sparql+http://127.0.0.1:{free_port()}/sparql"
    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "BACKEND": backend})
    response = app.test_client().get("/health")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    health = response.get_json()
    assert health["status"] == "unavailable" and health["backend"] == backend
    assert "unreachable" in health["error"] and "cannot be reached" in health["error"], health
    assert "Traceback" not in health["error"]


def test_health_turns_503_when_the_engine_stops_after_start(build_dir: Path) -> None:
    # The counts cached at start must not keep /health "ok" once the engine is gone.
    import subprocess

    from .conftest import _oxigraph, _wait_http

    port = free_port()
    process = subprocess.Popen([_oxigraph(), "serve", "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
        app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir),
                          "BACKEND": f"sparql+http://127.0.0.1:{port}/query"})
        client = app.test_client()
        assert client.get("/health").status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    response = client.get("/health")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["status"] == "unavailable"
    assert "cannot be reached" in response.get_json()["error"]


def test_stuck_engine_gives_503_on_pages_and_health_never_a_hang(build_dir: Path) -> None:
    # A listener that accepts connections and never answers: the engine hangs, we must not.
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        backend = f"sparql+http://127.0.0.1:{listener.getsockname()[1]}/sparql"
        app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "BACKEND": backend,
                          "QUERY_TIMEOUT": 0.5})
        client = app.test_client()
        page = client.get("/cisplatin")
        text = page.get_data(as_text=True)
        assert page.status_code == 503, f"a page on a stuck engine: {page.status_code} {text[:200]}"
        assert "did not answer" in text and "Traceback" not in text, text
        health = client.get("/health")
        assert health.status_code == 503, health.get_data(as_text=True)
        assert "did not answer ASK {}" in health.get_json()["error"], health.get_json()


def test_serve_refuses_to_start_on_unreachable_backend(tmp_path: Path) -> None:
    import subprocess
    import sys

    backend = f"sparql+http://127.0.0.1:{free_port()}/sparql"
    result = subprocess.run([sys.executable, "-m", "exomirkg", "serve", "--backend", backend,
                             "--port", str(free_port())], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "cannot be reached" in result.stderr and "Traceback" not in result.stderr


#: Every page an entity of the graph has (its IRI's local part), and every ontology term page.
ENTITY_PAGES = """SELECT DISTINCT ?path WHERE {
  ?s ?p ?o .
  FILTER(isIRI(?s) && STRSTARTS(STR(?s), "https://w3id.org/exomirkg/"))
  BIND(STRAFTER(STR(?s), "https://w3id.org/exomirkg/") AS ?local)
  FILTER(?local != "" && !STRSTARTS(?local, "graph/"))
  BIND(CONCAT("/", ?local) AS ?path)
} ORDER BY ?path"""


def test_every_entity_page_reads_the_same_on_virtuoso(app: Flask, external_app: Flask,
                                                       store) -> None:
    # Engines may order equal-looking results differently (page bugs this crawl found):
    # every entity and ontology term page a person can reach must read the same on both.
    pages = [row["path"].value for row in store.query(ENTITY_PAGES,
                                                       use_default_graph_as_union=True)]
    assert len(pages) > 500, f"only {len(pages)} entity pages found"
    pages.append("/ontology")
    embedded, external = app.test_client(), external_app.test_client()
    differing = []
    # Ontology terms redirect to /ontology/<term>: compare the page they land on.
    follow = {"follow_redirects": True}
    for path in pages:
        expected = _answer(embedded, "GET", path, follow)
        got = _answer(external, "GET", path, follow)
        if got != expected:
            differing.append(f"{path}: {got[0]} {got[1]} on Virtuoso, {expected[0]} embedded")
    assert not differing, f"{len(differing)} of {len(pages)} pages differ:\n" + "\n".join(
        differing[:20])
