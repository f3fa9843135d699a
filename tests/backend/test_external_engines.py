"""The external-engine backend gives the embedded store's answers, honestly capped and safe."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from helpers import free_port

from exomirkg import paths
from exomirkg.backends.sparql_http import BackendUnavailable, SparqlHttpEngine, SparqlHttpStore
from exomirkg.queries import load_queries
from exomirkg.sparql.engine import Job, evaluate
from exomirkg.sparql.results import truncation_note

from .conftest import VIRTUOSO_MAX_ROWS, graph_names

pytestmark = pytest.mark.backend

EXAMPLES = load_queries(paths.QUERIES_DIR)
ENGINES = ["virtuoso", "oxigraph_server"]


def _store(request: pytest.FixtureRequest, engine: str, build_dir: Path) -> SparqlHttpStore:
    url = request.getfixturevalue(engine)
    # Virtuoso's default graph also holds its system graphs: name ours explicitly.
    graphs = graph_names(build_dir) if engine == "virtuoso" else None
    return SparqlHttpStore(url, graphs=graphs, timeout=60)


def _key(term: object) -> str:
    # Blank node labels differ between engines; their presence is what can be compared.
    return "_:" if isinstance(term, pyoxigraph.BlankNode) else str(term)


def _rows(result: object) -> Counter:
    if isinstance(result, pyoxigraph.QueryBoolean):
        return Counter([str(bool(result))])
    names = [v.value for v in result.variables]
    return Counter(tuple(_key(row[n]) for n in names) for row in result)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_query_gives_embedded_answer(request: pytest.FixtureRequest, engine: str,
                                             name: str, store: pyoxigraph.Store,
                                             build_dir: Path) -> None:
    text = EXAMPLES[name].text
    expected = _rows(store.query(text, use_default_graph_as_union=True))
    got = _rows(_store(request, engine, build_dir).query(text, use_default_graph_as_union=True))
    missing, extra = expected - got, got - expected
    assert not missing and not extra, (
        f"server/queries/{name}.rq differs on {engine}: missing {list(missing)[:5]}, "
        f"extra {list(extra)[:5]}; rewrite the query in portable SPARQL 1.1 or map the "
        "engine's quirk in exomirkg/backends/sparql_http.py")


CORE_JOBS = [
    pytest.param(Job("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "text/csv", 100, True),
                 id="count-union"),
    pytest.param(Job("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g "
                     "ORDER BY ?g", "text/csv", 100, True), id="per-graph-counts"),
    pytest.param(Job("ASK { ?f a <https://w3id.org/exomirkg/Finding> }",
                     "application/sparql-results+json", 100, True), id="ask"),
    pytest.param(Job("SELECT ?l WHERE { ?d a <https://w3id.org/exomirkg/Drug> ; "
                     "<http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l",
                     "text/tab-separated-values", 1000, True), id="drug-labels-tsv"),
    pytest.param(Job("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "text/csv", 100, False,
                     default_graphs=("https://w3id.org/exomirkg/graph/ontology",),
                     named_graphs=()), id="protocol-dataset"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("job", CORE_JOBS)
def test_endpoint_case_gives_embedded_bytes(request: pytest.FixtureRequest, engine: str,
                                            job: Job, store: pyoxigraph.Store,
                                            build_dir: Path) -> None:
    """Same job, same serialiser: the response body is byte-identical on both backends."""
    expected = evaluate(store, job, {})
    got = SparqlHttpEngine(_store(request, engine, build_dir)).run(job)
    assert got.kind == "ok", got.message
    assert got.body == expected.body, (
        f"{engine} answered {got.body[:300]!r}, embedded {expected.body[:300]!r}")


def test_construct_gives_embedded_triples(virtuoso: str, store: pyoxigraph.Store,
                                          build_dir: Path) -> None:
    query = ("CONSTRUCT { ?d <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE { "
             "?d a <https://w3id.org/exomirkg/Drug> ; "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?l }")
    remote = SparqlHttpStore(virtuoso, graphs=graph_names(build_dir))
    got = {str(t) for t in remote.query(query, use_default_graph_as_union=True)}
    expected = {str(t) for t in store.query(query, use_default_graph_as_union=True)}
    assert got == expected and got


def test_engine_cut_is_reported_not_silent(virtuoso: str, build_dir: Path) -> None:
    """Virtuoso stops at ResultSetMaxRows without an error; we must say the answer is partial."""
    engine = SparqlHttpEngine(SparqlHttpStore(virtuoso, graphs=graph_names(build_dir)))
    cap = VIRTUOSO_MAX_ROWS * 4
    outcome = engine.run(Job("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json",
                             cap, True))
    assert outcome.kind == "ok"
    assert outcome.truncated, "Virtuoso's silent ResultSetMaxRows cut reached the user as full"
    doc = json.loads(outcome.body)
    assert len(doc["results"]["bindings"]) == outcome.rows < VIRTUOSO_MAX_ROWS
    assert doc["exomirkg:truncated"]["note"] == truncation_note(outcome.rows)


@pytest.mark.parametrize("engine", ENGINES)
def test_row_cap_truncates_with_note(request: pytest.FixtureRequest, engine: str,
                                     build_dir: Path) -> None:
    engine_ = SparqlHttpEngine(_store(request, engine, build_dir))
    outcome = engine_.run(Job("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+xml",
                              50, True))
    assert outcome.truncated and outcome.rows == 50
    assert truncation_note(50).encode() in outcome.body


@pytest.mark.parametrize("engine", ENGINES)
def test_malformed_query_is_a_syntax_outcome(request: pytest.FixtureRequest, engine: str,
                                             build_dir: Path) -> None:
    outcome = SparqlHttpEngine(_store(request, engine, build_dir)).run(
        Job("SELECT * WHERE { ?s ?p ", "text/csv", 10, True))
    assert outcome.kind == "syntax" and outcome.message, outcome


@pytest.mark.parametrize("text", [
    "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
    "LOAD <http://example.org/data.ttl>",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
])
def test_updates_and_service_never_reach_the_engine(text: str) -> None:
    # Port 9 on loopback has no listener: a request sent would fail as unreachable instead.
    engine = SparqlHttpEngine(SparqlHttpStore("sparql+http://127.0.0.1:9/sparql"))
    outcome = engine.run(Job(text, "text/csv", 10, True))
    assert outcome.kind == "error" and "never sent" in outcome.message


def test_virtuoso_refuses_anonymous_updates(virtuoso: str) -> None:
    """Defence in depth: even a request that bypassed our checks cannot write."""
    import urllib.error
    import urllib.parse
    import urllib.request

    url = virtuoso.removeprefix("sparql+")
    data = urllib.parse.urlencode({"query": "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> "
                                            "<urn:c> } }"}).encode()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30)  # noqa: S310
    # The HTTPError holds the engine's response and its socket: close it, or the garbage
    # collector reports it (a ResourceWarning, an error here) in whichever test runs next.
    info.value.close()
    assert info.value.code in (400, 401, 403, 500)
    ask = SparqlHttpStore(virtuoso).query("ASK { GRAPH <urn:x> { ?s ?p ?o } }")
    assert not bool(ask), "the anonymous SPARQL user could write: check the REVOKEs in " \
                          "scripts/virtuoso.sh start"


def test_unreachable_engine_fails_fast_with_a_sentence() -> None:
    store = SparqlHttpStore(f"sparql+http://127.0.0.1:{free_port()}/sparql", timeout=60)
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        store.check()
    with pytest.raises(BackendUnavailable, match="start it"):
        SparqlHttpEngine(store).run(Job("ASK {}", "text/csv", 1, True))
    assert time.monotonic() - start < 30, "an unreachable engine must not hang a request"


def test_silent_engine_times_out_instead_of_hanging() -> None:
    """A port that accepts connections but never answers: the read timeout ends the wait."""
    from exomirkg.sparql.engine import EngineTimeout

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"sparql+http://127.0.0.1:{server.getsockname()[1]}/sparql"
        with pytest.raises(EngineTimeout):
            SparqlHttpEngine(SparqlHttpStore(url)).run(Job("ASK {}", "text/csv", 1, True),
                                                       timeout=1)


@pytest.mark.parametrize("method", ["graphs", "dataset"])
def test_load_into_oxigraph_keeps_named_graphs(writable_oxigraph: str, method: str,
                                               build_dir: Path,
                                               store: pyoxigraph.Store) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exomirkg", "load", "--into", f"{writable_oxigraph}/store",
         "--method", method, "--out", str(build_dir)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    remote = SparqlHttpStore(f"{writable_oxigraph}/query")
    counts = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    assert _rows(remote.query(counts)) == _rows(store.query(counts)), (
        f"exomirkg load --method {method} lost or duplicated triples in some named graph")


def test_load_into_unreachable_engine_exits_2(build_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exomirkg", "load", "--into",
         f"http://127.0.0.1:{free_port()}/store", "--out", str(build_dir)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot reach" in result.stderr and "Traceback" not in result.stderr


def test_virtuoso_script_stop_leaves_nothing_running(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "virtuoso.sh"
    result = subprocess.run(["bash", str(script), "stop", str(tmp_path)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and "nothing to stop" in result.stdout



def _drugs_with_links(store: pyoxigraph.Store) -> list[str]:
    query = ("SELECT DISTINCT ?drug WHERE { ?link <https://w3id.org/exomirkg/linkDrug> ?drug } "
             "ORDER BY ?drug")
    return [row[0].value for row in store.query(query, use_default_graph_as_union=True)]


@pytest.mark.parametrize("engine", ENGINES)
def test_explain_query_gives_embedded_rows_for_every_drug(request: pytest.FixtureRequest,
                                                         engine: str, store: pyoxigraph.Store,
                                                         build_dir: Path) -> None:
    from exomirkg.explain import explanation_rows

    external = _store(request, engine, build_dir)
    drugs = _drugs_with_links(store)
    assert len(drugs) > 10, "the build has too few drugs with inferred links to compare"
    for drug in drugs:
        expected, got = explanation_rows(store, drug), explanation_rows(external, drug)
        assert got == expected, (
            f"ontology/explain/explain-links.rq gives other rows for {drug} on {engine}: "
            f"{got[:2]} vs embedded {expected[:2]}; see docs/scale.md (Virtuoso quirks)")
