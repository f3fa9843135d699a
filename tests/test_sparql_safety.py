"""A read-only public endpoint: no updates, no outbound requests, a timeout that stops queries."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import Canary, fresh_app, serving

from exomirkg.build import BuildResult

EKG = "https://w3id.org/exomirkg/"
COUNT_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
#: A cross product of the whole graph with itself three times: ~10^11 rows, never finishes.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def app(built: BuildResult, build_dir: Path) -> Iterator[Flask]:
    """One query process for the module's refusal tests (none of them kills it; the tests
    that do make their own apps)."""
    with fresh_app(build_dir, QUERY_WORKERS=1) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def canary() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records any request; yields (base URL, requests seen)."""
    bird = Canary().start()
    yield bird.url, bird.requests
    bird.stop()


def _quad_count(client: FlaskClient) -> int:
    response = client.get("/sparql", query_string={"query": COUNT_QUADS})
    return int(json.loads(response.data)["results"]["bindings"][0]["n"]["value"])


# -- updates ----------------------------------------------------------------------------------

INSERT = f"INSERT DATA {{ GRAPH <{EKG}graph/evil> {{ <{EKG}x> <{EKG}p> 1 }} }}"
DROP = "DROP ALL"


@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "query_string": {"update": INSERT}},
    {"method": "POST", "data": {"update": INSERT}},
    {"method": "POST", "data": {"update": DROP}},
    {"method": "POST", "data": INSERT, "content_type": "application/sparql-update"},
    {"method": "POST", "data": DROP, "content_type": "application/sparql-update"},
    {"method": "GET", "query_string": {"query": INSERT}},
    {"method": "POST", "data": {"query": DROP}},
    {"method": "POST", "data": f"LOAD <{EKG}x> INTO GRAPH <{EKG}graph/evil>",
     "content_type": "application/sparql-query"},
    {"method": "POST", "data": "SELECT * {} ; " + INSERT,
     "content_type": "application/sparql-query"},
    {"method": "POST", "data": {"query": "ASK {}", "update": DROP}},
    # \u0049 is I: the parser unescapes code points before reading keywords.
    {"method": "GET", "query_string": {"query": "\\u0049NSERT DATA { <a:x> <a:p> 1 }"}},
], ids=["get-update", "form-update", "form-drop", "direct-update", "direct-drop",
        "query-insert", "query-drop", "query-load", "query-then-update", "query-and-update",
        "escaped-insert"])
def test_update_in_any_form_is_refused_and_store_unchanged(client: FlaskClient,
                                                           request_kwargs: dict) -> None:
    before = _quad_count(client)
    method = request_kwargs.pop("method")
    response = client.open("/sparql", method=method, **request_kwargs)
    assert 400 <= response.status_code < 500, f"an update got {response.status_code}"
    assert response.data.strip(), "the refusal should say why"
    assert _quad_count(client) == before, "the store changed: an update reached it"
    graphs = client.get("/sparql", query_string={
        "query": f"ASK {{ GRAPH <{EKG}graph/evil> {{ ?s ?p ?o }} }}"})
    assert json.loads(graphs.data)["boolean"] is False


# -- no outbound requests ---------------------------------------------------------------------

def test_canary_records_a_plain_pyoxigraph_service_call(canary: tuple[str, list[str]]) -> None:
    """Control: the canary does see a SERVICE call when nothing guards pyoxigraph."""
    url, hits = canary
    store = pyoxigraph.Store()
    list(store.query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
    assert hits, "the canary should record pyoxigraph's SERVICE request"


@pytest.mark.parametrize("build", [
    lambda u: {"query": f"SELECT * WHERE {{ SERVICE <{u}> {{ ?s ?p ?o }} }}"},
    lambda u: {"query": f"SELECT * WHERE {{ SERVICE SILENT <{u}> {{ ?s ?p ?o }} }}"},
    lambda u: {"query": f"select * where {{ service <{u}> {{ ?s ?p ?o }} }}"},
    lambda u: {"query": f"SELECT * WHERE {{ \\u0053ERVICE <{u}> {{ ?s ?p ?o }} }}"},
    lambda u: {"query": f"PREFIX c: <{u}#> SELECT * WHERE {{ SERVICE c: {{ ?s ?p ?o }} }}"},
    lambda u: {"query": f"SELECT * FROM <{u}> WHERE {{ ?s ?p ?o }}"},
    lambda u: {"query": f"SELECT * FROM NAMED <{u}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"},
    lambda u: {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "default-graph-uri": u},
    lambda u: {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": u},
    lambda u: {"query": f"LOAD <{u}>"},
    lambda u: {"update": f"LOAD <{u}>"},
], ids=["service", "service-silent", "service-lowercase", "service-escaped", "service-pname",
        "from", "from-named", "default-graph-uri", "named-graph-uri", "query-load", "update-load"])
def test_no_outbound_request(client: FlaskClient, canary: tuple[str, list[str]],
                             build) -> None:
    url, hits = canary
    response = client.post("/sparql", data=build(url))
    assert response.status_code < 500, response.data
    assert hits == [], f"the server contacted {url} on a client's behalf: {hits}"


def test_service_is_refused_with_a_reason(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={
        "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert response.status_code == 403 and b"SERVICE" in response.data


def test_the_word_service_in_data_positions_is_fine(client: FlaskClient) -> None:
    query = ("PREFIX service: <http://example.org/service#> "
             "SELECT ?service WHERE { BIND('SERVICE' AS ?service) } # SERVICE")
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.data


def test_a_text_that_cannot_name_service_is_read_by_pyoxigraph_alone(
        client: FlaskClient) -> None:
    """The guard's parse (rdflib's, in pure Python: 1.3-6.5 ms a new text) runs only where
    SERVICE can be written; elsewhere pyoxigraph reads the query itself. A SPARQL 1.2 query
    rdflib cannot read is answered; the same with a SERVICE inside is refused (the web
    process's lexer sees this one; a text it misses is refused unread by the parse)."""
    langdir = 'SELECT ?d WHERE { BIND(LANGDIR("a"@en--ltr) AS ?d) }'
    response = client.get("/sparql", query_string={"query": langdir},
                          headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.data == b"d\r\nltr\r\n"
    hidden = ('SELECT ?d WHERE { BIND(LANGDIR("a"@en--ltr) AS ?d) '
              "SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    response = client.get("/sparql", query_string={"query": hidden})
    assert response.status_code == 403 and b"SERVICE" in response.data
    response = client.get("/sparql", query_string={"query": "SELEC * WHERE { ?s ?p ?o }"})
    assert response.status_code == 400 and b"1:" in response.data  # pyoxigraph's line:column


# -- timeout ----------------------------------------------------------------------------------

def test_runaway_query_is_stopped_while_a_parallel_query_is_answered(make_app) -> None:
    # No answer cache: ASK {} is asked again after the kill, of the processes.
    app = make_app(QUERY_TIMEOUT=1.5, QUERY_WORKERS=2, ANSWER_CACHE=0)
    engine = app.extensions["exomirkg"].engine
    app.test_client().get("/sparql?query=ASK%7B%7D")  # start both workers
    with ThreadPoolExecutor(2) as pool:
        runaway = pool.submit(app.test_client().get, "/sparql",
                              query_string={"query": RUNAWAY})
        simple = pool.submit(app.test_client().get, "/sparql",
                             query_string={"query": "ASK { ?s a ?c }"})
        simple_response, runaway_response = simple.result(), runaway.result()
    assert simple_response.status_code == 200
    assert json.loads(simple_response.data)["boolean"] is True
    assert runaway_response.status_code == 503
    assert b"time limit" in runaway_response.data
    assert engine.kills == 1, "the runaway's worker process should have been killed"
    pids = [w.process.pid for w in engine._workers]
    assert len(pids) == 2, "a fresh worker should replace the killed one"
    after = app.test_client().get("/sparql?query=ASK%7B%7D")
    assert after.status_code == 200, "the endpoint should answer after a kill"


def test_killed_worker_process_is_gone(make_app) -> None:
    app = make_app(QUERY_TIMEOUT=0.5, QUERY_WORKERS=1)
    engine = app.extensions["exomirkg"].engine
    app.test_client().get("/sparql?query=ASK%7B%7D")
    old = engine._workers[0].process.pid
    assert app.test_client().get("/sparql", query_string={"query": RUNAWAY}).status_code == 503
    with pytest.raises(ProcessLookupError):
        os.kill(old, 0)


# -- many clients at once over real HTTP -------------------------------------------------------

@pytest.fixture
def live_url(make_app) -> Iterator[str]:
    # A queue as long as the clients: this test is about correct answers under concurrency;
    # admission (503 past the queue) is tested in tests/reliability.
    with serving(make_app(QUERY_WORKERS=2, QUERY_QUEUE=32)) as base_url:
        yield f"{base_url}/sparql"


def test_sixteen_parallel_clients_all_get_their_own_answer(live_url: str, store) -> None:
    graphs = sorted(g.value for g in store.named_graphs())[:16]
    expected = {g: len(list(store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(g))))
                for g in graphs}

    def ask(graph: str) -> tuple[str, int]:
        response = requests.get(live_url, params={
            "query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
            timeout=60)
        response.raise_for_status()
        return graph, int(response.json()["results"]["bindings"][0]["n"]["value"])

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, graphs * 2))
    wrong = [(g, n, expected[g]) for g, n in answers if n != expected[g]]
    assert len(answers) == 32 and not wrong, f"(graph, got, expected): {wrong}"


ORPHAN_SCRIPT = """
import sys
from pathlib import Path
from exomirkg.sparql.engine import Job, QueryEngine, StoreSource
engine = QueryEngine(StoreSource(trig=Path(sys.argv[1])), size=1, timeout=600)
engine.start()
worker = engine._workers[0]
worker.wait_ready(120)
print(worker.process.pid, flush=True)
engine.run(Job(query=sys.argv[2], media="application/sparql-results+json", row_cap=10,
               union=True))
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited orphan may wait for a reaper that never comes)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_query_process_dies_with_its_parent_even_mid_query(build_dir: Path,
                                                            built: BuildResult) -> None:
    """A web worker killed hard must not leave a runaway query process behind."""
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT,
                               str(build_dir / "exomirkg.trig"), RUNAWAY],
                              stdout=subprocess.PIPE, text=True)
    try:
        worker_pid = int(parent.stdout.readline())
        time.sleep(1.0)  # let the runaway start evaluating
        os.kill(worker_pid, 0)  # alive while its parent is
    finally:
        parent.kill()
        parent.wait(10)
        parent.stdout.close()
    for _ in range(100):  # the watchdog checks once a second
        if not _running(worker_pid):
            return
        time.sleep(0.1)
    os.kill(worker_pid, 9)
    pytest.fail(f"query process {worker_pid} outlived its parent; see _die_with_parent()")


@pytest.mark.parametrize(("query", "service", "update", "form"), [
    ("SELECT * { SERVICE <x:y> { ?s ?p ?o } }", True, False, "SELECT"),
    ("ASK { sErViCe ?g { } }", True, False, "ASK"),
    ("SELECT * { \\U00000053ERVICE <x:y> { } }", True, False, "SELECT"),
    ("# SERVICE in a comment\nSELECT ?service { ?service <x:p> 'SERVICE', \"\"\"a\nSERVICE\"\"\" }",
     False, False, "SELECT"),
    ("PREFIX service: <x:> SELECT * { ?s service:SERVICE <x:SERVICE> }", False, False, "SELECT"),
    ("PREFIX p: <x:> CONSTRUCT WHERE { ?s p:delete ?o }", False, False, "CONSTRUCT"),
    ("BASE <x:> DESCRIBE <a>", False, False, "DESCRIBE"),
    ("PREFIX p: <x:> DELETE WHERE { ?s ?p ?o }", False, True, None),
    ("CLEAR ALL", False, True, None),
], ids=["service", "service-mixed-case", "service-U-escape", "comment-and-strings",
        "prefixed-names", "prefixed-delete", "describe", "delete-where", "clear"])
def test_guard_finds_keywords_only_where_they_are_keywords(query: str, service: bool,
                                                           update: bool, form: str | None) -> None:
    from exomirkg.sparql.guard import inspect_query

    shape = inspect_query(query)
    assert (shape.has_service, shape.is_update, shape.form) == (service, update, form)
