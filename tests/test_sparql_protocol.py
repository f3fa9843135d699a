"""The /sparql endpoint over the real build: request forms, conneg, errors, limits, SD, VoID."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from helpers import fresh_app

from exomirkg.build import BUILD_INFO, BuildResult

EKG = "https://w3id.org/exomirkg/"
REVIEW_GRAPH = EKG + "graph/review"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")


@pytest.fixture(scope="module")
def endpoint(built: BuildResult, build_dir: Path) -> Iterator[Flask]:
    """One app for the module: the endpoint is read-only, and worker start-up is not free."""
    with fresh_app(build_dir, QUERY_WORKERS=1) as app:
        yield app


@pytest.fixture
def http(endpoint: Flask) -> FlaskClient:
    return endpoint.test_client()


@pytest.fixture(scope="module")
def total(build_dir: Path, built: BuildResult) -> int:
    """Triples in the union default graph, from build-info.json."""
    return json.loads((build_dir / BUILD_INFO).read_text())["triples"]


def _count(response) -> int:
    assert response.status_code == 200, response.data
    return int(json.loads(response.data)["results"]["bindings"][0]["n"]["value"])


# -- request forms ----------------------------------------------------------------------------

def test_get_post_form_and_post_direct_give_the_same_union_count(http: FlaskClient,
                                                                  total: int) -> None:
    via_get = http.get("/sparql", query_string={"query": COUNT_ALL})
    via_form = http.post("/sparql", data={"query": COUNT_ALL})
    via_direct = http.post("/sparql", data=COUNT_ALL, content_type="application/sparql-query")
    assert _count(via_get) == _count(via_form) == _count(via_direct) == total, (
        "the default graph must be the union of all named graphs")


def test_default_graph_uri_selects_one_graph(http: FlaskClient, built: BuildResult) -> None:
    response = http.get("/sparql", query_string={"query": COUNT_ALL,
                                                 "default-graph-uri": REVIEW_GRAPH})
    expected = len(built.dataset.graph(rdflib.URIRef(REVIEW_GRAPH)))
    assert _count(response) == expected


def test_from_clause_selects_one_graph_and_protocol_params_win(http: FlaskClient,
                                                              built: BuildResult) -> None:
    query = f"SELECT (COUNT(*) AS ?n) FROM <{REVIEW_GRAPH}> WHERE {{ ?s ?p ?o }}"
    review = len(built.dataset.graph(rdflib.URIRef(REVIEW_GRAPH)))
    assert _count(http.get("/sparql", query_string={"query": query})) == review
    inferred = EKG + "graph/inferred"
    overridden = http.get("/sparql", query_string={"query": query, "default-graph-uri": inferred})
    assert _count(overridden) == len(built.dataset.graph(rdflib.URIRef(inferred)))


def test_unknown_graph_is_empty_not_fetched(http: FlaskClient) -> None:
    response = http.get("/sparql", query_string={
        "query": COUNT_ALL, "default-graph-uri": "http://example.org/not-here"})
    assert _count(response) == 0


def test_wrong_post_content_type_is_415(http: FlaskClient) -> None:
    response = http.post("/sparql", data="ASK {}", content_type="text/plain")
    assert response.status_code == 415 and b"application/sparql-query" in response.data


def test_two_query_parameters_are_400(http: FlaskClient) -> None:
    response = http.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert response.status_code == 400 and b"2 'query' parameters" in response.data


@pytest.mark.parametrize("charset", ["UTF-16", "ISO-8859-1"])
def test_non_utf8_charset_is_refused(http: FlaskClient, charset: str) -> None:
    response = http.post("/sparql", data="ASK {}".encode(charset.lower()),
                         content_type=f"application/sparql-query; charset={charset}")
    assert response.status_code == 415 and charset.encode() in response.data


def test_undeclared_non_utf8_bytes_are_400(http: FlaskClient) -> None:
    response = http.post("/sparql", data="ASK { ?s ?p 'é' }".encode("latin-1"),
                         content_type="application/sparql-query")
    assert response.status_code == 400 and b"not valid UTF-8" in response.data


# -- content negotiation ----------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("text/csv;q=0.4, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/sparql-results+xml;q=0.1, text/tab-separated-values",
     "text/tab-separated-values"),
    ("text/html, */*;q=0.1", "application/sparql-results+json"),
])
def test_select_conneg(http: FlaskClient, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = http.get("/sparql", query_string={"query": "SELECT ?x WHERE { BIND(1 AS ?x) }"},
                        headers=headers)
    assert response.status_code == 200 and response.mimetype == expected
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "text/turtle"),
    ("text/turtle", "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples;q=0.5, application/rdf+xml;q=0.8", "application/rdf+xml"),
])
@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
def test_graph_conneg_round_trips(http: FlaskClient, accept: str | None, expected: str,
                                  form: str) -> None:
    query = (f"CONSTRUCT {{ <{EKG}review> ?p ?o }} WHERE {{ <{EKG}review> ?p ?o }}"
             if form == "CONSTRUCT" else f"DESCRIBE <{EKG}review>")
    headers = {"Accept": accept} if accept else {}
    response = http.get("/sparql", query_string={"query": query}, headers=headers)
    assert response.status_code == 200 and response.mimetype == expected
    rdflib_format = {"text/turtle": "turtle", "application/n-triples": "nt",
                     "application/rdf+xml": "xml", "application/ld+json": "json-ld"}[expected]
    graph = rdflib.Graph().parse(data=response.data, format=rdflib_format)
    assert len(graph) > 0 and all(s == rdflib.URIRef(EKG + "review") for s in graph.subjects())


@pytest.mark.parametrize(("fmt", "expected"), [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values"), ("text/csv", "text/csv"),
])
def test_format_parameter_overrides_accept(http: FlaskClient, fmt: str, expected: str) -> None:
    response = http.get("/sparql", query_string={"query": "ASK {}", "format": fmt},
                        headers={"Accept": "application/sparql-results+xml;q=0.1"})
    assert response.status_code == 200 and response.mimetype == expected


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_fusekis_output_parameter_works_like_format(http: FlaskClient, method: str) -> None:
    params = {"query": "SELECT ?s { ?s a <https://w3id.org/exomirkg/Review> }", "output": "csv"}
    response = (http.get("/sparql", query_string=params) if method == "GET"
                else http.post("/sparql", data=params))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.decode() == "s\r\nhttps://w3id.org/exomirkg/review\r\n"


def test_format_parameter_on_construct_means_rdf(http: FlaskClient) -> None:
    response = http.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1",
                                                 "format": "xml"})
    assert response.mimetype == "application/rdf+xml"


@pytest.mark.parametrize(("query", "accept"), [
    ("SELECT * { ?s ?p ?o } LIMIT 1", "text/turtle"),
    ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "application/sparql-results+json"),
    ("ASK {}", "image/png"),
])
def test_nothing_acceptable_is_406_listing_what_is(http: FlaskClient, query: str,
                                                   accept: str) -> None:
    response = http.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406 and b"available:" in response.data


def test_results_in_each_format_carry_the_same_rows(http: FlaskClient) -> None:
    query = (f"SELECT ?g ?n WHERE {{ VALUES ?g {{ <{REVIEW_GRAPH}> }} "
             "BIND(\"a,b\"@en AS ?n) }")
    as_json = json.loads(http.get("/sparql", query_string={"query": query}).data)
    assert as_json["results"]["bindings"] == [{
        "g": {"type": "uri", "value": REVIEW_GRAPH},
        "n": {"type": "literal", "value": "a,b", "xml:lang": "en"}}]
    as_csv = http.get("/sparql", query_string={"query": query, "format": "csv"}).data.decode()
    assert list(csv.reader(io.StringIO(as_csv))) == [["g", "n"], [REVIEW_GRAPH, "a,b"]]
    as_tsv = http.get("/sparql", query_string={"query": query, "format": "tsv"}).data.decode()
    assert as_tsv.splitlines() == ["?g\t?n", f'<{REVIEW_GRAPH}>\t"a,b"@en']
    as_xml = http.get("/sparql", query_string={"query": query, "format": "xml"}).data.decode()
    assert f"<uri>{REVIEW_GRAPH}</uri>" in as_xml and '<literal xml:lang="en">a,b' in as_xml


# -- errors -----------------------------------------------------------------------------------

def test_malformed_query_is_400_with_position_and_no_traceback(http: FlaskClient) -> None:
    response = http.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p }"})
    text = response.data.decode()
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "error at 1:" in text, f"the parser's position should be in the message: {text}"
    assert "Traceback" not in text and "File \"" not in text


def test_post_without_query_is_400(http: FlaskClient) -> None:
    response = http.post("/sparql", data={"default-graph-uri": REVIEW_GRAPH})
    assert response.status_code == 400 and b"without a 'query'" in response.data


def test_bad_graph_iri_is_400(http: FlaskClient) -> None:
    response = http.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": "a b"})
    assert response.status_code == 400 and b"not an absolute IRI" in response.data


def test_body_over_cap_is_413(make_app) -> None:
    app = make_app(QUERY_WORKERS=1, BODY_CAP=100)
    big = "ASK {} #" + "x" * 200
    direct = app.test_client().post("/sparql", data=big, content_type="application/sparql-query")
    form = app.test_client().post("/sparql", data={"query": big})
    assert direct.status_code == 413 and b"100-byte limit" in direct.data
    assert form.status_code == 413 and form.mimetype == "text/plain" and form.data.strip()


# -- row cap: honest truncation ---------------------------------------------------------------

@pytest.fixture(scope="module")
def capped(built: BuildResult, build_dir: Path) -> Iterator[FlaskClient]:
    with fresh_app(build_dir, QUERY_WORKERS=1, ROW_CAP=5) as app:
        yield app.test_client()


@pytest.mark.parametrize(("fmt", "note"), [
    ("json", b'"exomirkg:truncated"'), ("xml", b"<!-- results truncated"),
    ("csv", None), ("tsv", None),
])
def test_select_over_the_cap_is_cut_and_flagged(capped: FlaskClient, fmt: str,
                                                note: bytes | None) -> None:
    response = capped.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }",
                                                   "format": fmt})
    assert response.status_code == 200
    assert response.headers["X-Exomirkg-Truncated"] == "true; limit=5"
    assert response.headers["Warning"].startswith("199 ")
    if note:
        assert note in response.data, "the body should carry the truncation note"
    if fmt == "json":
        assert len(json.loads(response.data)["results"]["bindings"]) == 5


def test_results_under_the_cap_are_not_flagged(capped: FlaskClient) -> None:
    response = capped.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 5"})
    assert "X-Exomirkg-Truncated" not in response.headers
    assert b"truncated" not in response.data


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
    ("application/ld+json", "json-ld")])
def test_construct_over_the_cap_is_cut_and_flagged(capped: FlaskClient, accept: str,
                                                   rdflib_format: str) -> None:
    response = capped.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                          headers={"Accept": accept})
    assert response.headers["X-Exomirkg-Truncated"] == "true; limit=5"
    assert len(rdflib.Graph().parse(data=response.data, format=rdflib_format)) == 5


# -- Service Description, VoID, health, CORS ---------------------------------------------------

def test_service_description_states_formats_graphs_and_limits(http: FlaskClient,
                                                              built: BuildResult) -> None:
    response = http.get("/sparql")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    service = rdflib.URIRef("http://localhost/sparql")
    assert (service, rdflib.RDF.type, SD.Service) in graph
    formats = set(graph.objects(service, SD.resultFormat))
    assert formats == {FORMATS[f] for f in ("SPARQL_Results_JSON", "SPARQL_Results_XML",
                                            "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
                                            "N-Triples", "RDF_XML", "JSON-LD")}
    names = {str(n) for n in graph.objects(None, SD.name)}
    expected = {str(g.identifier) for g in built.dataset.graphs()
                if isinstance(g.identifier, rdflib.URIRef) and len(g)}
    assert names == expected, "every named graph (and only those) should be described"
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, SD.feature, SD.BasicFederatedQuery) not in graph, "SERVICE is disabled"
    limits = {str(p).rsplit("#", 1)[1]: o.toPython() for p, o in graph.predicate_objects(service)
              if str(p).startswith(EKG + "service#")}
    # No resultRowCap: answers are complete by default (ROW_CAP 0), and the comment says so.
    assert limits == {"queryTimeoutSeconds": 30, "requestBodyCap": 1000000}
    assert "answers are complete (no row cap)" in str(graph.value(service, rdflib.RDFS.comment))


@pytest.mark.parametrize("accept", ["application/rdf+xml", "application/ld+json",
                                    "application/n-triples"])
def test_service_description_by_conneg(http: FlaskClient, accept: str) -> None:
    response = http.get("/sparql", headers={"Accept": accept})
    assert response.mimetype == accept
    fmt = {"application/rdf+xml": "xml", "application/ld+json": "json-ld",
           "application/n-triples": "nt"}[accept]
    assert len(rdflib.Graph().parse(data=response.data, format=fmt)) > 20


def test_void_counts_match_the_data(http: FlaskClient, built: BuildResult, total: int) -> None:
    response = http.get("/.well-known/void")
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    dataset = rdflib.URIRef(EKG + "dataset")
    union = rdflib.Graph()
    for s, p, o, _g in built.dataset.quads():
        union.add((s, p, o))
    # Distinct triples: one asserted in two graphs is one triple of the dataset (the merged
    # dump's count); ``total`` counts it once per graph.
    assert graph.value(dataset, VOID.triples).toPython() == len(union) <= total
    classes = set(union.objects(None, rdflib.RDF.type))
    assert graph.value(dataset, VOID.classes).toPython() == len(classes)
    assert graph.value(dataset, VOID.properties).toPython() == len(set(union.predicates()))
    dumps = {str(d) for d in graph.objects(dataset, VOID.dataDump)}
    assert dumps == {"http://localhost/download/exomirkg.trig",
                     "http://localhost/download/exomirkg.nt"}
    assert graph.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef("http://localhost/sparql")
    partitions = {graph.value(p, VOID["class"]): graph.value(p, VOID.entities).toPython()
                  for p in graph.objects(dataset, VOID.classPartition)}
    finding = rdflib.URIRef(EKG + "Finding")
    assert partitions[finding] == len(set(union.subjects(rdflib.RDF.type, finding)))
    subsets = {str(s) for s in graph.objects(dataset, VOID.subset)}
    assert REVIEW_GRAPH in subsets


def test_health_reports_count_version_and_build_time(http: FlaskClient, build_dir: Path,
                                                     total: int) -> None:
    info = json.loads((build_dir / BUILD_INFO).read_text())
    health = json.loads(http.get("/health").data)
    assert health["triples"] == total
    assert (health["version"], health["built"]) == (info["version"], info["built"])


def test_cors_simple_request(http: FlaskClient) -> None:
    response = http.get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://yasgui.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Exomirkg-Truncated" in response.headers["Access-Control-Expose-Headers"]


def test_cors_preflight(http: FlaskClient) -> None:
    response = http.options("/sparql", headers={
        "Origin": "https://yasgui.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "content-type"


def test_cors_origin_list_is_honoured(make_app) -> None:
    app = make_app(QUERY_WORKERS=1, CORS_ORIGINS="https://a.example, https://b.example")
    client = app.test_client()
    allowed = client.get("/health", headers={"Origin": "https://b.example"})
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Access-Control-Allow-Origin" not in other.headers


# -- named queries ----------------------------------------------------------------------------

def test_queries_listing_has_every_rq_with_its_summary(http: FlaskClient) -> None:
    from exomirkg import paths

    listing = json.loads(http.get("/queries").data)
    assert {q["name"] for q in listing} == {p.stem for p in paths.QUERIES_DIR.glob("*.rq")}
    assert all(q["summary"] for q in listing), "every .rq needs a '#+ summary:' header"


def test_named_query_runs_with_conneg(http: FlaskClient) -> None:
    listing = json.loads(http.get("/queries").data)
    if not listing:
        pytest.fail("server/queries/ holds no .rq file to run")
    name = listing[0]["name"]
    response = http.get(f"/queries/{name}", headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype in ("text/csv", "text/turtle")
    assert http.get("/queries/no-such-query").status_code == 404


def test_head_answers_like_get_without_a_body(http: FlaskClient) -> None:
    response = http.head("/sparql?query=ASK%7B%7D")
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json" and response.data == b""


def test_put_is_405_with_allow(http: FlaskClient) -> None:
    response = http.put("/sparql?query=ASK%7B%7D")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert b"GET or POST" in response.data
