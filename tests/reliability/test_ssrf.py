"""Server-side request forgery: no query may make the endpoint contact another server.

Every attempt names a loopback canary that records each connection it accepts. The
endpoint must refuse each SERVICE attempt with a 4xx, and the canary must see nothing,
whether the attempt goes through the Flask test client or a real HTTP server. Dataset
clauses and graph-name parameters may be answered (as empty graphs) but never fetched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import fresh_app, serving

from exomirkg.build import BuildResult

from .support import Canary, internals_shown

pytestmark = pytest.mark.slow

#: The canary's address written the ways a URL parser accepts for the loopback host.
#: ``[::1]`` and ``https`` need no canary listening there: any attempt is already a leak,
#: and an https connection still reaches the canary's port (a TLS hello it counts).
ADDRESS_FORMS = {
    "loopback": "http://127.0.0.1:{port}/sparql",
    "localhost": "http://localhost:{port}/sparql",
    "short-ipv4": "http://127.1:{port}/sparql",
    "decimal-ipv4": "http://2130706433:{port}/sparql",
    "hex-ipv4": "http://0x7f000001:{port}/sparql",
    "ipv6": "http://[::1]:{port}/sparql",
    "https": "https://127.0.0.1:{port}/sparql",
}

#: Lexer/parser desync forms: ``?q<'a>'`` is a comparison with a string to the SPARQL
#: grammar, but a naive lexer reads ``<'a>`` as an IRI and then a string that swallows the
#: SERVICE clause that follows, so a keyword scan never sees it.
DESYNC = {
    "desync-lt": "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } "
                 "SERVICE <{c}> { ?x ?y ?z } BIND('' AS ?e) }",
    "desync-le": "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<='a>') } "
                 "SERVICE <{c}> { ?x ?y ?z } BIND('' AS ?e) }",
    "desync-long": "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'''a>''') } "
                   "SERVICE <{c}> { ?x ?y ?z } BIND('''x''' AS ?e) }",
    "desync-double": 'SELECT * WHERE { OPTIONAL { BIND("b" AS ?q) FILTER(?q<"a>") } '
                     'SERVICE <{c}> { ?x ?y ?z } BIND("" AS ?e) }',
    "desync-double-long": 'SELECT * WHERE { OPTIONAL { BIND("b" AS ?q) FILTER(?q<"""a>""") } '
                          'SERVICE <{c}> { ?x ?y ?z } BIND("""x""" AS ?e) }',
    "desync-sub-select-silent": "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) "
                                "FILTER(?q<'a>') } { SELECT * WHERE { SERVICE SILENT <{c}> "
                                "{ ?x ?y ?z } } } BIND('' AS ?e) }",
    # The filter holds here ('0' sorts before "a>"), so nothing lets the optimiser drop the
    # sub-SELECT as unreachable.
    "desync-filter-in-group": "SELECT * WHERE { BIND('0' AS ?q) FILTER(?q<'a>') "
                              "{ SELECT * WHERE { SERVICE SILENT <{c}> { ?x ?y ?z } } } "
                              "BIND('' AS ?e) }",
    "desync-ask": "ASK { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } "
                  "SERVICE SILENT <{c}> { ?x ?y ?z } BIND('' AS ?e) }",
}

ATTEMPTS = {
    "plain": "SELECT * WHERE { SERVICE <{c}> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{c}> { ?s ?p ?o } }",
    "lowercase": "select * where { service <{c}> { ?s ?p ?o } }",
    "mixed-case": "SeLeCt * WhErE { sErViCe SiLeNt <{c}> { ?s ?p ?o } }",
    "u-escape": "SELECT * WHERE { \\u0053ERVICE <{c}> { ?s ?p ?o } }",
    "U-escape": "SELECT * WHERE { \\U00000053ERVICE <{c}> { ?s ?p ?o } }",
    "mid-word-escape": "SELECT * WHERE { SERV\\u0049CE SILENT <{c}> { ?s ?p ?o } }",
    "escaped-iri": "SELECT * WHERE { SERVICE <http\\u003A//127.0.0.1:{port}/sparql> { } }",
    "optional": "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <{c}> { ?s ?q ?r } } } LIMIT 1",
    "union": "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <{c}> { ?s ?p ?o } } } LIMIT 1",
    "minus": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <{c}> { ?s ?p ?o } } } LIMIT 1",
    "filter-exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{c}> { ?s ?p ?o } } }"
                     " LIMIT 1",
    "filter-not-exists": "SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { SERVICE <{c}> { } } }"
                         " LIMIT 1",
    "bind-exists": "SELECT * WHERE { BIND(EXISTS { SERVICE <{c}> { } } AS ?b) }",
    "sub-select": "SELECT * WHERE { { SELECT * WHERE { SERVICE <{c}> { ?s ?p ?o } } } }",
    "graph": "SELECT * WHERE { GRAPH ?g { SERVICE <{c}> { ?s ?p ?o } } }",
    "nested-service": "SELECT * WHERE { SERVICE SILENT <{c}> { SERVICE <{c}> { ?s ?p ?o } } }",
    "ask": "ASK { SERVICE <{c}> { ?s ?p ?o } }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{c}> { ?s ?p ?o } }",
    "describe": "DESCRIBE ?s WHERE { SERVICE <{c}> { ?s ?p ?o } }",
    "prefixed-name": "PREFIX c: <{c}> SELECT * WHERE { SERVICE c: { ?s ?p ?o } }",
    "prefixed-local": "PREFIX c: <http://127.0.0.1:{port}/> SELECT * WHERE "
                      "{ SERVICE c:sparql { ?s ?p ?o } }",
    "base-relative": "BASE <http://127.0.0.1:{port}/> SELECT * WHERE "
                     "{ SERVICE <sparql> { ?s ?p ?o } }",
    "values-var": "SELECT * WHERE { VALUES ?svc { <{c}> } SERVICE ?svc { ?s ?p ?o } }",
    "values-after": "SELECT * WHERE { SERVICE ?svc { ?s ?p ?o } } VALUES ?svc { <{c}> }",
    "bind-var": "SELECT * WHERE { BIND(<{c}> AS ?svc) SERVICE ?svc { ?s ?p ?o } }",
    "bind-computed-iri": "SELECT * WHERE { BIND(IRI(CONCAT('http://127.0.0.1:', '{port}', "
                         "'/sparql')) AS ?svc) SERVICE ?svc { ?s ?p ?o } }",
    "unbound-var": "SELECT * WHERE { SERVICE ?unbound { ?s ?p ?o } }",
    "comment-between": "SELECT * WHERE { SERVICE#x\n<{c}>#y\n{ ?s ?p ?o } }",
    "comment-silent": "SELECT * WHERE { SERVICE #a\n SILENT #b\n <{c}> { } }",
    "no-space": "SELECT*WHERE{SERVICE<{c}>{?s ?p ?o}}",
    "newlines": "SELECT *\nWHERE\n{\nSERVICE\n<{c}>\n{\n?s ?p ?o\n}\n}",
    **DESYNC,
    # pyoxigraph 0.5 reads no escapes in keywords (a syntax error today), but the SPARQL
    # grammar applies them first, so an engine or version that does must still be refused.
    # pyoxigraph 0.5 fails on any SERVICE ?var ("variable ... is unbound", a RuntimeError)
    # even when VALUES binds it: an evaluation error the query caused, so a 4xx too.
    "desync-values-var": "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } "
                         "VALUES ?svc { <{c}> } SERVICE ?svc { ?x ?y ?z } BIND('' AS ?e) }",
    "desync-escaped-keyword": "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } "
                              "\\u0053ERVICE <{c}> { ?x ?y ?z } BIND('' AS ?e) }",
}


def _fill(template: str, canary: Canary, url: str | None = None) -> str:
    return template.replace("{c}", url or canary.url).replace("{port}", str(canary.port))


@pytest.fixture(scope="module")
def app(built: BuildResult, build_dir: Path) -> Iterator[Flask]:
    with fresh_app(build_dir, QUERY_WORKERS=2, QUERY_TIMEOUT=10) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _assert_refused(response_status: int, body: bytes, canary: Canary, before: int,
                    what: str) -> None:
    assert canary.hits == before, f"{what}: the endpoint contacted the canary: {canary.describe()}"
    assert 400 <= response_status < 500, (
        f"{what}: a SERVICE attempt should be refused with a 4xx, got {response_status}: "
        f"{body[:300]!r}")
    assert not internals_shown(body), body[:500]


# -- controls: the canary does see these attempts when nothing stands in the way --------------

@pytest.mark.parametrize("form", [f for f in ADDRESS_FORMS if f != "ipv6"])
def test_control_unguarded_pyoxigraph_reaches_the_canary(canary: Canary, form: str) -> None:
    """Without the endpoint's walls each address form reaches the canary (so 0 hits means
    the endpoint stopped it). The canary listens on 127.0.0.1 only, hence no ipv6 control."""
    before = canary.hits
    url = ADDRESS_FORMS[form].format(port=canary.port)
    try:
        list(pyoxigraph.Store().query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
    except OSError:
        pass  # https: the TLS handshake fails after the connection was made
    assert canary.hits > before, f"pyoxigraph did not reach the canary at {url}"


def test_control_desync_forms_are_valid_sparql(canary: Canary) -> None:
    """The desync forms are queries a SPARQL parser accepts, not mere syntax errors."""
    store = pyoxigraph.Store()
    before = canary.hits
    for name, template in DESYNC.items():
        list_or_bool = store.query(_fill(template, canary))
        if not isinstance(list_or_bool, pyoxigraph.QueryBoolean):
            list(list_or_bool)
        assert canary.hits > before, f"{name} did not run its SERVICE clause"
        before = canary.hits


# -- through the Flask test client -------------------------------------------------------------

@pytest.mark.parametrize("name", list(ATTEMPTS))
def test_service_attempt_is_refused(client: FlaskClient, canary: Canary, name: str) -> None:
    before = canary.hits
    response = client.post("/sparql", data={"query": _fill(ATTEMPTS[name], canary)})
    _assert_refused(response.status_code, response.data, canary, before, name)


@pytest.mark.parametrize("form", list(ADDRESS_FORMS))
@pytest.mark.parametrize("shape", ["plain", "desync-lt"])
def test_service_to_any_loopback_spelling_is_refused(client: FlaskClient, canary: Canary,
                                                     shape: str, form: str) -> None:
    before = canary.hits
    url = ADDRESS_FORMS[form].format(port=canary.port)
    response = client.get("/sparql", query_string={"query": _fill(ATTEMPTS[shape], canary, url)})
    _assert_refused(response.status_code, response.data, canary, before, f"{shape} via {url}")


@pytest.mark.parametrize("method", ["GET", "POST-direct"])
def test_service_with_a_relative_iri_against_the_endpoint_base(client: FlaskClient,
                                                               canary: Canary,
                                                               method: str) -> None:
    """A relative SERVICE IRI resolves against the endpoint's own URL (the protocol's base):
    asked as if the endpoint lived at the canary's address, it would call the canary."""
    base_url = f"http://127.0.0.1:{canary.port}"
    query = "SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }"
    before = canary.hits
    if method == "GET":
        response = client.get("/sparql", query_string={"query": query}, base_url=base_url)
    else:
        response = client.post("/sparql", data=query, base_url=base_url,
                               content_type="application/sparql-query")
    _assert_refused(response.status_code, response.data, canary, before, f"relative {method}")


@pytest.mark.parametrize("params", [
    {"query": "LOAD <{c}>"},
    {"update": "LOAD <{c}>"},
    {"update": "LOAD SILENT <{c}> INTO GRAPH <http://example.org/g>"},
    {"query": "SELECT * {} ; LOAD <{c}>"},
], ids=["query-load", "update-load", "update-load-silent", "query-then-load"])
def test_load_is_refused(client: FlaskClient, canary: Canary, params: dict) -> None:
    before = canary.hits
    response = client.post("/sparql", data={k: _fill(v, canary) for k, v in params.items()})
    _assert_refused(response.status_code, response.data, canary, before, str(params))


# -- dataset clauses and parameters: answered from the store, never fetched --------------------

@pytest.mark.parametrize("form", ["loopback", "localhost", "decimal-ipv4", "https"])
@pytest.mark.parametrize("how", ["default-graph-uri", "named-graph-uri", "FROM", "FROM NAMED",
                                 "GRAPH", "DESCRIBE"])
def test_graph_names_are_never_fetched(client: FlaskClient, canary: Canary, how: str,
                                       form: str) -> None:
    url = ADDRESS_FORMS[form].format(port=canary.port)
    query = {
        "default-graph-uri": "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
        "named-graph-uri": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1",
        "FROM": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }} LIMIT 1",
        "FROM NAMED": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "GRAPH": f"SELECT * WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
        "DESCRIBE": f"DESCRIBE <{url}>",
    }[how]
    params = {"query": query}
    if how.endswith("-uri"):
        params[how] = url
    before = canary.hits
    response = client.get("/sparql", query_string=params)
    assert canary.hits == before, f"{how} fetched {url}: {canary.describe()}"
    assert response.status_code < 500, response.data[:300]
    if response.status_code == 200 and how != "DESCRIBE":
        # A graph the store does not hold is empty: nothing may come from the canary.
        assert b'"bindings":[]' in response.data.replace(b" ", b""), response.data[:300]


# -- the query process itself: no socket even when a SERVICE query gets past the guard ---------

@pytest.mark.parametrize("form", ["loopback", "localhost", "https"])
def test_query_process_cannot_reach_the_network(app: Flask, canary: Canary, form: str) -> None:
    """The second wall: a query process handed a SERVICE query directly (no guard in front)
    must fail to connect, not reach the canary."""
    from exomirkg.sparql.engine import Job

    url = ADDRESS_FORMS[form].format(port=canary.port)
    engine = app.extensions["exomirkg"].engine
    before = canary.hits
    outcome = engine.run(Job(query=f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
                             media="application/sparql-results+json", row_cap=10, union=True),
                         timeout=20)
    assert canary.hits == before, f"a query process connected to {url}: {canary.describe()}"
    assert outcome.kind != "ok", "a SERVICE call with no network should fail, not answer"


# -- through a real HTTP server ----------------------------------------------------------------

LIVE_ATTEMPTS = ["plain", "u-escape", "U-escape", "values-var", "desync-lt", "desync-le",
                 "desync-long", "desync-double", "desync-sub-select-silent"]


@pytest.fixture(scope="module")
def live(built: BuildResult, build_dir: Path) -> Iterator[tuple[str, Counter]]:
    """A real server; every request it receives is counted, so a SERVICE call the endpoint
    makes to itself (a relative IRI resolved against its own URL) shows up."""
    with fresh_app(build_dir, QUERY_WORKERS=2, QUERY_TIMEOUT=10) as app:
        received: Counter = Counter()
        inner = app.wsgi_app

        def counting(environ, start_response):
            received[environ.get("PATH_INFO", "")] += 1
            return inner(environ, start_response)

        app.wsgi_app = counting
        with serving(app) as base_url:
            yield base_url, received


@pytest.mark.parametrize("name", LIVE_ATTEMPTS)
@pytest.mark.parametrize("method", ["GET", "POST-form"])
def test_live_server_refuses_service(live: tuple[str, Counter], canary: Canary, name: str,
                                     method: str) -> None:
    base_url, _received = live
    query = _fill(ATTEMPTS[name], canary)
    before = canary.hits
    if method == "GET":
        response = requests.get(f"{base_url}/sparql", params={"query": query}, timeout=30)
    else:
        response = requests.post(f"{base_url}/sparql", data={"query": query}, timeout=30)
    _assert_refused(response.status_code, response.content, canary, before, f"live {name}")


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } SERVICE <sparql> "
    "{ ?x ?y ?z } BIND('' AS ?e) }",
    "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } SERVICE <> "
    "{ ?x ?y ?z } BIND('' AS ?e) }",
], ids=["relative", "relative-desync", "empty-iri-desync"])
def test_live_server_never_calls_itself(live: tuple[str, Counter], query: str) -> None:
    base_url, received = live
    before = received["/sparql"]
    response = requests.get(f"{base_url}/sparql", params={"query": query}, timeout=30)
    assert received["/sparql"] == before + 1, "the endpoint sent a SERVICE request to itself"
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
