"""Large SELECT answers (written by pyoxigraph's writers): exact rows, honest cut at the cap.

Answers of more than ``results.PYTHON_ROWS`` rows take the fast path of
``exomirkg.sparql.bulkresults``; these tests pin that it gives the same answer as the store, in
every format, and cuts at the row cap exactly (with the note) when the cap is above that size.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from flask.testing import FlaskClient
from helpers import fresh_app

from exomirkg.build import BuildResult
from exomirkg.sparql.results import PYTHON_ROWS

CAP = 100
#: More than PYTHON_ROWS and more than CAP rows, no blank nodes (their labels are per store).
TRIPLES = ("SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) } "
           "ORDER BY ?s ?p ?o")
FORMATS = {"json": pyoxigraph.QueryResultsFormat.JSON, "xml": pyoxigraph.QueryResultsFormat.XML,
           "tsv": pyoxigraph.QueryResultsFormat.TSV}


@pytest.fixture(scope="module")
def capped(built: BuildResult, build_dir: Path) -> Iterator[FlaskClient]:
    with fresh_app(build_dir, QUERY_WORKERS=1, ROW_CAP=CAP) as app:
        yield app.test_client()


def _expected(store: pyoxigraph.Store, query: str) -> list[list[str]]:
    return [["" if t is None else str(t) for t in row]
            for row in store.query(query, use_default_graph_as_union=True)]


def _rows(body: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(body.decode())))[1:]
    parsed = pyoxigraph.parse_query_results(body, format=FORMATS[fmt])
    return [["" if t is None else str(t) for t in row] for row in parsed]


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv", "csv"])
def test_answer_just_under_the_cap_is_whole_and_unflagged(capped: FlaskClient,
                                                          store: pyoxigraph.Store,
                                                          fmt: str) -> None:
    query = f"{TRIPLES} LIMIT {CAP}"
    assert CAP > PYTHON_ROWS, "the cap must be above PYTHON_ROWS to reach the fast path"
    response = capped.get("/sparql", query_string={"query": query, "format": fmt})
    assert response.status_code == 200, response.data
    assert "X-Exomirkg-Truncated" not in response.headers, "exactly CAP rows is not a cut"
    assert b"truncated" not in response.data
    assert response.headers["X-Exomirkg-Rows"] == str(CAP)
    expected = _expected(store, query)
    if fmt == "csv":
        assert len(_rows(response.data, fmt)) == CAP
    else:
        assert _rows(response.data, fmt) == expected, "fast path changed the answer"


@pytest.mark.parametrize(("fmt", "note"), [
    ("json", b'"exomirkg:truncated"'), ("xml", b"<!-- results truncated"),
    ("tsv", None), ("csv", None),
])
def test_large_answer_over_the_cap_is_cut_at_the_cap_and_flagged(
        capped: FlaskClient, store: pyoxigraph.Store, fmt: str, note: bytes | None) -> None:
    response = capped.get("/sparql", query_string={"query": f"{TRIPLES} LIMIT {CAP + 1}",
                                                   "format": fmt})
    assert response.status_code == 200, response.data
    assert response.headers["X-Exomirkg-Truncated"] == f"true; limit={CAP}"
    assert response.headers["X-Exomirkg-Rows"] == str(CAP)
    if note:
        assert note in response.data, "the body should carry the truncation note"
    rows = _rows(response.data, fmt)
    assert len(rows) == CAP, f"expected exactly {CAP} rows after the cut, got {len(rows)}"
    if fmt != "csv":
        assert rows == _expected(store, f"{TRIPLES} LIMIT {CAP}"), \
            "the cut must keep the first CAP rows in order"
    if fmt == "json":
        member = json.loads(response.data)["exomirkg:truncated"]
        assert member["limit"] == CAP


def test_awkward_literals_survive_on_both_sides_of_the_python_rows(
        capped: FlaskClient) -> None:
    awkward = ['"tab\\there"', '"new\\nline"', '"quote\\"d"@en', '"1.5"^^<http://x/dt>',
               '"back\\\\slash"', '"caf\\u00e9"']
    values = [f'"plain {i}"' for i in range(PYTHON_ROWS + 10)]
    values[1:1] = awkward  # among the rows written in Python
    values += awkward  # and among the rows written by pyoxigraph
    query = "SELECT ?x WHERE { VALUES ?x { " + " ".join(values) + " } }"
    response = capped.get("/sparql", query_string={"query": query, "format": "json"})
    bindings = json.loads(response.data)["results"]["bindings"]
    assert len(bindings) == len(values) - (len(values) - CAP if len(values) > CAP else 0)
    got = [b["x"] for b in bindings]
    for index in (1, len(got) - len(awkward)):
        assert got[index] == {"type": "literal", "value": "tab\there"}
        assert got[index + 1]["value"] == "new\nline"
        assert got[index + 2] == {"type": "literal", "value": 'quote"d', "xml:lang": "en"}
        assert got[index + 3] == {"type": "literal", "value": "1.5", "datatype": "http://x/dt"}
        assert got[index + 4]["value"] == "back\\slash"
        assert got[index + 5]["value"] == "café"


def test_truncated_json_from_the_python_writer_parses_with_a_strict_parser(
        store: pyoxigraph.Store) -> None:
    from exomirkg.sparql.results import write_solutions

    rows = list(store.query(f"{TRIPLES} LIMIT 10", use_default_graph_as_union=True))
    written = write_solutions(["s", "p", "o"], iter(rows), "application/sparql-results+json", 5)
    assert written.truncated and written.rows == 5
    parsed = pyoxigraph.parse_query_results(written.body,
                                            format=pyoxigraph.QueryResultsFormat.JSON)
    assert len(list(parsed)) == 5, "the truncation member must not break strict JSON parsers"
    assert json.loads(written.body)["exomirkg:truncated"]["limit"] == 5


@pytest.mark.parametrize("settings", [{}, {"QUERY_SPIN": False}], ids=["default", "sleeping"])
def test_query_processes_answer_with_and_without_polling(make_app, settings) -> None:
    """Polling is on unless turned off (it spares a short query two wake-ups)."""
    app = make_app(QUERY_WORKERS=1, **settings)
    assert app.extensions["exomirkg"].engine.source.spin is settings.get("QUERY_SPIN", True)
    client = app.test_client()
    for _ in range(3):  # the same worker, sleeping between jobs
        response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
        assert json.loads(response.data) == {"head": {}, "boolean": True}


def test_answers_are_complete_by_default(client) -> None:
    """No row cap unless one is set: a 20,000-row answer arrives whole (issue 12, 9)."""
    count = client.get("/sparql", query_string={
        "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o VALUES ?x { 1 2 3 } }"},
        headers={"Accept": "application/sparql-results+json"})
    expected = int(count.get_json()["results"]["bindings"][0]["n"]["value"])
    assert expected > 20_000
    response = client.get("/sparql", query_string={
        "query": "SELECT ?s ?p ?o ?x WHERE { ?s ?p ?o VALUES ?x { 1 2 3 } }"},
        headers={"Accept": "text/tab-separated-values"})
    assert response.status_code == 200 and "X-Exomirkg-Truncated" not in response.headers
    assert len(response.data.splitlines()) - 1 == expected
    assert response.headers["X-Exomirkg-Rows"] == str(expected)
