"""The W3C SPARQL 1.1 Protocol test cases (w3c/rdf-tests sparql/sparql11/protocol), as tests.

The dataset cases run on the suite's three one-triple graphs (data1..data3.rdf, loaded from
tests/resources/protocol/dataset.trig). Update cases become refusals: the endpoint is read-only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import fresh_app

#: The W3C protocol suite's dataset.
PROTOCOL_DATA = Path(__file__).parent / "resources" / "protocol" / "dataset.trig"

DATA = "http://kasei.us/2009/09/sparql/data/"
D1, D2, D3 = (f"{DATA}data{i}.rdf" for i in (1, 2, 3))
RESULT_TYPES = ("application/sparql-results+xml", "application/sparql-results+json")
RDF_TYPES = ("application/rdf+xml", "text/turtle")


@pytest.fixture(scope="module")
def protocol_app() -> Iterator[Flask]:
    """One app over the suite's dataset (read-only, so the module shares it)."""
    # The W3C suite's data has no build-info.json: unvalidated, so it needs ALLOW_INVALID.
    with fresh_app(DATA_FILE=str(PROTOCOL_DATA), QUERY_WORKERS=1, ALLOW_INVALID=True) as app:
        yield app


@pytest.fixture
def w3c(protocol_app: Flask) -> FlaskClient:
    return protocol_app.test_client()


def _boolean(response) -> bool:
    assert response.mimetype in RESULT_TYPES, (
        f"an ASK answer must be SPARQL XML or JSON, got {response.mimetype}")
    if response.mimetype.endswith("json"):
        return json.loads(response.data)["boolean"]
    return b"<boolean>true</boolean>" in response.data


def _direct(client: FlaskClient, query: str, url_params: str = "", **headers: str):
    return client.post(f"/sparql?{url_params}", data=query.encode("utf-8"),
                       content_type="application/sparql-query", headers=headers)


# -- positive query cases ---------------------------------------------------------------------

def test_query_get(w3c: FlaskClient) -> None:
    response = w3c.get("/sparql?query=ASK%20%7B%7D")
    assert response.status_code == 200 and _boolean(response) is True


def test_query_post_form(w3c: FlaskClient) -> None:
    response = w3c.post("/sparql", data={"query": "ASK {}"})
    assert response.status_code == 200 and _boolean(response) is True


def test_query_post_direct(w3c: FlaskClient) -> None:
    response = _direct(w3c, "ASK {}")
    assert response.status_code == 200 and _boolean(response) is True


def test_query_dataset_default_graph(w3c: FlaskClient) -> None:
    response = _direct(w3c, f"ASK {{ <{D1}> ?p ?o }}", f"default-graph-uri={quote(D1, safe='')}")
    assert response.status_code == 200 and _boolean(response) is True


def test_query_dataset_default_graphs_get(w3c: FlaskClient) -> None:
    query = f"ASK {{ <{D1}> a ?type . <{D2}> a ?type . }}"
    response = w3c.get("/sparql", query_string=[("query", query), ("default-graph-uri", D1),
                                                ("default-graph-uri", D2)])
    assert response.status_code == 200 and _boolean(response) is True


def test_query_dataset_default_graphs_post(w3c: FlaskClient) -> None:
    params = f"default-graph-uri={quote(D1, safe='')}&default-graph-uri={quote(D2, safe='')}"
    response = _direct(w3c, f"ASK {{ <{D1}> ?p ?o . <{D2}> ?p ?o }}", params)
    assert response.status_code == 200 and _boolean(response) is True


def test_query_dataset_named_graphs_get(w3c: FlaskClient) -> None:
    query = f"ASK {{ GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
    response = w3c.get("/sparql", query_string=[("query", query), ("named-graph-uri", D1),
                                                ("named-graph-uri", D2)])
    assert response.status_code == 200 and _boolean(response) is True


def test_query_dataset_named_graphs_post(w3c: FlaskClient) -> None:
    params = f"named-graph-uri={quote(D1, safe='')}&named-graph-uri={quote(D2, safe='')}"
    response = _direct(w3c, "ASK { GRAPH ?g { ?s ?p ?o } }", params)
    assert response.status_code == 200 and _boolean(response) is True


def test_query_dataset_full(w3c: FlaskClient) -> None:
    params = (f"default-graph-uri={quote(D3, safe='')}&named-graph-uri={quote(D1, safe='')}"
              f"&named-graph-uri={quote(D2, safe='')}")
    response = _direct(w3c, "SELECT ?g ?x ?s { ?x ?y ?o  GRAPH ?g { ?s ?p ?o } }", params,
                       Accept="application/sparql-results+json")
    assert response.status_code == 200
    rows = {(b["g"]["value"], b["x"]["value"], b["s"]["value"])
            for b in json.loads(response.data)["results"]["bindings"]}
    # The default graph is data3 only; GRAPH ?g ranges over data1 and data2 only.
    assert rows == {(D1, D3, D1), (D2, D3, D2)}, "default-graph-uri/named-graph-uri not honoured"


def test_query_multiple_dataset_protocol_wins_over_from(w3c: FlaskClient) -> None:
    query = f"ASK FROM <{D1}> {{ <{D2}> ?p ?o }}"
    with_protocol = _direct(w3c, query, f"default-graph-uri={quote(D2, safe='')}")
    from_only = _direct(w3c, query)
    assert _boolean(with_protocol) is True, "default-graph-uri must take precedence over FROM"
    assert _boolean(from_only) is False, "without protocol graphs, FROM <data1> is the dataset"


def test_query_content_type_select(w3c: FlaskClient) -> None:
    response = _direct(w3c, "SELECT (1 AS ?value) {}")
    assert response.status_code == 200
    assert response.mimetype in (*RESULT_TYPES, "text/tab-separated-values", "text/csv")


def test_query_content_type_ask(w3c: FlaskClient) -> None:
    response = _direct(w3c, "ASK {}")
    assert response.status_code == 200 and response.mimetype in RESULT_TYPES


@pytest.mark.parametrize("query", ["DESCRIBE <http://example.org/>",
                                   "CONSTRUCT { <s> <p> 1 } WHERE {}"],
                         ids=["describe", "construct"])
def test_query_content_type_graph(w3c: FlaskClient, query: str) -> None:
    response = _direct(w3c, query)
    assert response.status_code == 200 and response.mimetype in RDF_TYPES


# -- negative cases: every one a 4xx with a body saying why -----------------------------------

def _refused(response) -> None:
    assert 400 <= response.status_code < 500, f"expected a 4xx, got {response.status_code}"
    assert response.mimetype == "text/plain" and response.data.strip(), "say what happened"


def test_bad_query_method(w3c: FlaskClient) -> None:
    _refused(w3c.put("/sparql?query=ASK%20%7B%7D"))


def test_bad_multiple_queries(w3c: FlaskClient) -> None:
    _refused(w3c.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D"))


def test_bad_query_wrong_media_type(w3c: FlaskClient) -> None:
    _refused(w3c.post("/sparql", data=b"ASK {}", content_type="text/plain"))


def test_bad_query_missing_form_type(w3c: FlaskClient) -> None:
    _refused(w3c.post("/sparql", data=b"query=ASK%20%7B%7D", content_type=""))


def test_bad_query_missing_direct_type(w3c: FlaskClient) -> None:
    _refused(w3c.post("/sparql", data=b"ASK {}", content_type=""))


def test_bad_query_non_utf8(w3c: FlaskClient) -> None:
    _refused(w3c.post("/sparql", data="ASK {}".encode("utf-16"),
                      content_type="application/sparql-query; charset=UTF-16"))


def test_bad_query_syntax(w3c: FlaskClient) -> None:
    _refused(w3c.get("/sparql?query=ASK%20%7B"))


@pytest.mark.parametrize(("method", "kwargs"), [
    ("get", {"path": "/sparql?update=CLEAR%20ALL"}),
    ("post", {"path": "/sparql", "data": b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
              "content_type": "application/x-www-form-urlencoded"}),
    ("post", {"path": "/sparql", "data": b"CLEAR NAMED", "content_type": "text/plain"}),
    ("post", {"path": "/sparql", "data": b"update=CLEAR%20NAMED", "content_type": ""}),
    ("post", {"path": "/sparql", "data": "CLEAR NAMED".encode("utf-16"),
              "content_type": "application/sparql-update; charset=UTF-16"}),
    ("post", {"path": "/sparql", "data": b"update=CLEAR%20XYZ",
              "content_type": "application/x-www-form-urlencoded"}),
    ("post", {"path": f"/sparql?using-graph-uri={quote(D1, safe='')}",
              "data": f"CLEAR ALL ; INSERT DATA {{ GRAPH <{D1}> {{ <{D1}> a <x:Doc> }} }}",
              "content_type": "application/sparql-update"}),
], ids=["update_get", "multiple_updates", "update_wrong_media_type",
        "update_missing_form_type", "update_non_utf8", "update_syntax",
        "update_dataset_default_graph"])
def test_update_cases_are_refused_and_change_nothing(w3c: FlaskClient, method: str,
                                                     kwargs: dict) -> None:
    _refused(getattr(w3c, method)(kwargs.pop("path"), **kwargs))
    count = w3c.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) "
                                             "{ GRAPH ?g { ?s ?p ?o } }"})
    assert json.loads(count.data)["results"]["bindings"][0]["n"]["value"] == "3", (
        "the dataset changed: an update got through")
