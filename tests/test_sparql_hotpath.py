"""GET /sparql answered beside Flask (``exomirkg.web.hotpath``): the same bytes and headers as
the Flask view, the same limits, and everything it does not handle left to Flask."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request_started
from helpers import serving
from werkzeug.test import EnvironBuilder

from exomirkg.web.hotpath import SparqlHotPath

PREFIXES = ("PREFIX ekg: <https://w3id.org/exomirkg/> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")
LOOKUP = PREFIXES + 'SELECT ?s WHERE { ?s rdfs:label "paclitaxel"@en }'
JOIN = PREFIXES + "SELECT ?f ?d WHERE { ?f ekg:concernsDrug ?d } ORDER BY ?f ?d"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?d a ekg:Drug } WHERE { ?d a ekg:Drug } ORDER BY ?d"
#: A cross product of the whole graph with itself three times: never finishes.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _call(wsgi: Callable[..., Any], params: dict[str, Any],
          headers: dict[str, str]) -> tuple[str, list[tuple[str, str]], bytes]:
    environ = EnvironBuilder(path="/sparql", method="GET", query_string=params,
                             headers=headers).get_environ()
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    body = wsgi(environ, lambda status, headers, exc_info=None: seen.append((status, headers)))
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return seen[0][0], list(seen[0][1]), data


@pytest.fixture
def flask_seen(app: Flask) -> Iterator[list[str]]:
    """Paths of the requests Flask itself handled while the test ran."""
    paths: list[str] = []

    def record(sender: Flask, **extra: Any) -> None:
        from flask import request

        paths.append(request.path)

    request_started.connect(record, app)
    yield paths
    request_started.disconnect(record, app)


def _both(app: Flask, params: dict[str, Any], headers: dict[str, str]) -> tuple[tuple, tuple]:
    wsgi = app.wsgi_app
    assert isinstance(wsgi, SparqlHotPath)
    return _call(app, params, headers), _call(wsgi.inner, params, headers)


@pytest.mark.parametrize(("params", "accept"), [
    ({"query": LOOKUP}, "application/sparql-results+json"),
    ({"query": LOOKUP}, "application/sparql-results+xml"),
    ({"query": JOIN}, "application/sparql-results+json"),
    ({"query": JOIN}, "text/csv"),
    ({"query": JOIN}, "text/tab-separated-values"),
    ({"query": JOIN, "format": "xml"}, "text/csv"),
    ({"query": ASK}, "*/*"),
    ({"query": CONSTRUCT}, "text/turtle"),
    ({"query": CONSTRUCT}, ""),
    ({"query": JOIN, "default-graph-uri": "https://w3id.org/exomirkg/graph/nothing"}, "*/*"),
    ({"query": "SELECT * WHERE { ?s ?p }"}, "*/*"),  # malformed: the query process says so
    ({"query": "SELECT (<x:f>(1) AS ?v) {}"}, "*/*"),  # fails in evaluation: 400
])
def test_the_hot_path_answers_as_the_flask_view_does(app: Flask, flask_seen: list[str],
                                                     params: dict[str, Any],
                                                     accept: str) -> None:
    headers = {"Accept": accept} if accept else {}
    hot, flask = _both(app, params, headers)
    assert hot == flask
    assert flask_seen == ["/sparql"], "only the call to the Flask view went through Flask"


@pytest.mark.parametrize("origin", [None, "https://elsewhere.example"])
def test_cors_and_security_headers_are_those_of_the_app_hooks(app: Flask, origin: str | None,
                                                              flask_seen: list[str]) -> None:
    headers = {"Origin": origin} if origin else {}
    hot, flask = _both(app, {"query": LOOKUP}, headers)
    assert hot == flask
    names = {name for name, _ in hot[1]}
    assert {"Access-Control-Allow-Origin", "X-Content-Type-Options", "X-Frame-Options",
            "Referrer-Policy", "X-Exomirkg-Rows", "Vary", "Content-Length"} <= names
    assert flask_seen == ["/sparql"]


def test_a_truncated_answer_carries_the_same_note(make_app: Callable[..., Flask]) -> None:
    app = make_app(ROW_CAP=2)
    hot, flask = _both(app, {"query": JOIN}, {"Accept": "application/sparql-results+json"})
    assert hot == flask
    assert ("X-Exomirkg-Truncated", "true; limit=2") in hot[1]


@pytest.mark.parametrize("params", [
    {"query": "INSERT DATA { <x:a> <x:b> <x:c> }"},  # 403
    {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},  # 403
    {"query": LOOKUP, "update": "DROP ALL"},  # 403
    {"query": "   "},  # 400
    {"query": ASK, "default-graph-uri": "not an IRI"},  # 400
    {"format": "turtle"},  # no query: the Service Description
])
def test_refusals_and_the_service_description_are_left_to_flask(
        app: Flask, flask_seen: list[str], params: dict[str, Any]) -> None:
    hot, flask = _both(app, params, {"Accept": "*/*"})
    assert hot == flask
    assert flask_seen == ["/sparql", "/sparql"], "both went through the Flask view"


def test_a_406_is_left_to_flask(app: Flask, flask_seen: list[str]) -> None:
    hot, flask = _both(app, {"query": LOOKUP}, {"Accept": "image/png"})
    assert hot == flask and hot[0].startswith("406")
    assert flask_seen == ["/sparql", "/sparql"]


def test_an_origin_granted_by_name_is_left_to_flask(make_app: Callable[..., Flask]) -> None:
    app = make_app(CORS_ORIGINS="https://a.example")
    hot, flask = _both(app, {"query": LOOKUP}, {"Origin": "https://a.example"})
    assert hot == flask
    assert ("Vary", "Accept, Origin") in hot[1]


def test_over_real_http_the_timeout_still_kills_a_runaway_get(
        make_app: Callable[..., Flask]) -> None:
    """A real client, a real socket: the runaway sent by GET is stopped at the time limit,
    its query process killed, and the endpoint answers the next query."""
    app = make_app(QUERY_TIMEOUT=1.5, QUERY_WORKERS=1)
    engine = app.extensions["exomirkg"].engine
    engine.start()
    with serving(app) as base:
        started = time.monotonic()
        response = requests.get(f"{base}/sparql", params={"query": RUNAWAY}, timeout=60)
        took = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert "time limit" in response.text and response.headers["Retry-After"] == "1"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert took < 20, f"the runaway was answered after {took:.1f} s"
        assert engine.kills == 1
        after = requests.get(f"{base}/sparql", params={"query": ASK}, timeout=60,
                             headers={"Accept": "application/sparql-results+json"})
        assert after.status_code == 200 and after.json()["boolean"] is True
        assert after.headers["Access-Control-Allow-Origin"] == "*"


def test_the_hooks_the_hot_path_stands_in_for_are_the_only_ones(app: Flask) -> None:
    """The hot path adds what these hooks add and runs no others: a new request hook must be
    mirrored in exomirkg.web.hotpath (or make it leave such requests to Flask)."""
    # App-wide hooks (key None) and those of the blueprint serving /sparql.
    scopes = (None, "sparql")
    assert not any(app.before_request_funcs.get(scope) for scope in scopes)
    assert not any(app.url_value_preprocessors.get(scope) for scope in scopes)
    after = sorted(f"{f.__module__}.{f.__name__}" for scope in scopes
                   for f in app.after_request_funcs.get(scope, []))
    assert after == ["exomirkg.web.security._add_headers", "exomirkg.web.sparql.cors"], after
