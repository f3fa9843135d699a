"""Queries to /sparql (GET, POST form, POST direct) answered beside Flask
(``exomirkg.web.hotpath``): the same bytes and headers as the Flask view, the same limits,
and everything it does not handle left to Flask, with the body it was sent."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

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


FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


def _call(wsgi: Callable[..., Any], params: dict[str, Any], headers: dict[str, str],
          post: dict[str, Any] | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
    """One request: a GET of ``params``, or a POST of ``post`` (EnvironBuilder's arguments;
    ``environ`` updates the environ built) with ``params`` in the URL."""
    if post is None:
        environ = EnvironBuilder(path="/sparql", method="GET", query_string=params,
                                 headers=headers).get_environ()
    else:
        post = dict(post)
        extra = post.pop("environ", {})
        environ = EnvironBuilder(path="/sparql", method="POST", query_string=params,
                                 headers=headers, **post).get_environ()
        environ.update(extra() if callable(extra) else extra)
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


def _both(app: Flask, params: dict[str, Any], headers: dict[str, str],
          post: dict[str, Any] | None = None) -> tuple[tuple, tuple]:
    wsgi = app.wsgi_app
    assert isinstance(wsgi, SparqlHotPath)
    return _call(app, params, headers, post), _call(wsgi.inner, params, headers, post)


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


def _form(fields: dict[str, Any], content_type: str = FORM) -> dict[str, Any]:
    return {"data": urlencode(fields, doseq=True), "content_type": content_type}


def _direct(query: str | bytes, content_type: str = DIRECT) -> dict[str, Any]:
    return {"data": query, "content_type": content_type}


@pytest.mark.parametrize(("url", "post", "accept"), [
    ({}, _form({"query": LOOKUP}), "application/sparql-results+json"),
    ({}, _form({"query": LOOKUP}), "application/sparql-results+xml"),
    ({}, _form({"query": JOIN}), "text/csv"),
    ({}, _form({"query": JOIN, "format": "xml"}), "text/csv"),
    ({"format": "tsv"}, _form({"query": JOIN}), "*/*"),
    ({}, _form({"query": ASK}), "*/*"),
    ({}, _form({"query": CONSTRUCT}), "text/turtle"),
    ({}, _form({"query": CONSTRUCT}), ""),
    ({}, _form({"query": LOOKUP}, FORM + "; charset=UTF-8"), "*/*"),
    ({}, _form({"query": JOIN, "default-graph-uri": "https://w3id.org/exomirkg/graph/nothing"}),
     "*/*"),
    ({"default-graph-uri": "https://w3id.org/exomirkg/graph/nothing"}, _form({"query": JOIN}),
     "*/*"),
    ({}, _form({"query": JOIN, "named-graph-uri": ["https://w3id.org/exomirkg/graph/a",
                                                  "https://w3id.org/exomirkg/graph/b"]}), "*/*"),
    ({}, _form({"query": "SELECT * WHERE { ?s ?p }"}), "*/*"),  # malformed: 400 from evaluation
    ({}, _direct(LOOKUP), "application/sparql-results+json"),
    ({}, _direct(JOIN), "text/csv"),
    ({}, _direct(LOOKUP, DIRECT + "; charset=utf-8"), "*/*"),
    ({"format": "xml"}, _direct(JOIN), "*/*"),
    ({"default-graph-uri": "https://w3id.org/exomirkg/graph/nothing"}, _direct(JOIN), "*/*"),
    ({}, _direct(CONSTRUCT), "text/turtle"),
    ({}, _direct('SELECT ?s { ?s ?p "caf\u00e9" }'.encode()), "*/*"),  # UTF-8 in the body
    ({}, _direct("SELECT * WHERE { ?s ?p }"), "*/*"),
], ids=lambda value: None)
def test_a_post_is_answered_as_the_flask_view_does(app: Flask, flask_seen: list[str],
                                                   url: dict[str, Any], post: dict[str, Any],
                                                   accept: str) -> None:
    headers = {"Accept": accept} if accept else {}
    hot, flask = _both(app, url, headers, post)
    assert hot == flask
    assert flask_seen == ["/sparql"], "only the call to the Flask view went through Flask"


class _FailingStream:
    """A request body whose connection breaks after ``data``."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(min(size, 4) if size >= 0 else 4)
        if not chunk:
            raise OSError("connection reset")
        return chunk


@pytest.mark.parametrize(("url", "post", "status"), [
    ({}, _form({"query": "INSERT DATA { <x:a> <x:b> <x:c> }"}), 403),
    ({}, _form({"query": LOOKUP, "update": "DROP ALL"}), 403),
    ({}, _direct("DROP ALL", "application/sparql-update"), 403),
    ({}, _direct("INSERT DATA { <x:a> <x:b> <x:c> }"), 403),
    ({}, _form({"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}), 403),
    ({}, _form({}), 400),  # an empty body
    ({}, _direct(""), 400),
    ({}, _form({"query": "  "}), 400),
    ({}, _form({"query": [ASK, ASK]}), 400),
    ({"query": ASK}, _direct(ASK), 400),  # a query in the URL and in the body
    ({}, _form({"query": ASK, "default-graph-uri": "not an IRI"}), 400),
    ({}, {"data": "query=ASK%20%7B%7D%FF", "content_type": FORM}, 400),  # not UTF-8
    ({}, _direct(b"ASK { ?s ?p \"\xff\" }"), 400),  # not UTF-8
    ({}, _form({"query": ASK}, FORM + "; charset=latin-1"), 415),
    ({}, _direct(ASK, "text/plain"), 415),
    ({}, {"data": ASK}, 415),  # no Content-Type
    ({}, {**_direct(ASK), "environ": {"CONTENT_LENGTH": "100"}}, 400),  # the body came short
    ({}, {**_direct(ASK), "environ": lambda: {"wsgi.input": _FailingStream(b"ASK {")}},
     400),  # the connection broke
], ids=lambda value: None)
def test_a_refused_post_is_left_to_flask_with_its_body(app: Flask, flask_seen: list[str],
                                                       url: dict[str, Any],
                                                       post: dict[str, Any],
                                                       status: int) -> None:
    hot, flask = _both(app, url, {"Accept": "*/*"}, post)
    assert hot == flask
    assert hot[0].startswith(str(status)), hot
    assert flask_seen == ["/sparql", "/sparql"], "both went through the Flask view"


def test_a_chunked_post_is_answered_by_flask(app: Flask, flask_seen: list[str]) -> None:
    chunked = {**_direct(ASK), "environ": lambda: {
        "wsgi.input": io.BytesIO(ASK.encode()), "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}}
    hot, flask = _both(app, {}, {"Accept": "application/sparql-results+json"}, chunked)
    assert hot == flask and hot[0].startswith("200")
    assert flask_seen == ["/sparql", "/sparql"]


@pytest.mark.parametrize("post", [
    _form({"query": ASK + " " * 300}),
    _direct(ASK + " " * 300),
    {**_direct(ASK + " " * 300), "environ": lambda: {  # chunked, over the cap
        "wsgi.input": io.BytesIO((ASK + " " * 300).encode()), "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}},
], ids=["form", "direct", "chunked"])
def test_an_over_cap_post_gets_flasks_413(make_app: Callable[..., Flask],
                                          post: dict[str, Any]) -> None:
    app = make_app(BODY_CAP=200)
    hot, flask = _both(app, {}, {"Accept": "*/*"}, post)
    assert hot == flask and hot[0].startswith("413"), hot


class _CountingStream(io.BytesIO):
    """A body that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


@pytest.mark.parametrize(("length", "taken"), [(len(ASK), len(ASK)), (10_000, 0)])
def test_the_hot_path_never_reads_past_the_length_or_the_cap(make_app: Callable[..., Flask],
                                                             length: int, taken: int) -> None:
    """Content-Length within the cap: that many bytes are read, never more (the stream holds
    more); over the cap: none (Flask answers 413 without reading)."""
    stream = _CountingStream(ASK.encode() + b" " * 20_000)
    environ = EnvironBuilder(path="/sparql", method="POST", content_type=DIRECT,
                             headers={"Accept": "*/*"}).get_environ()
    environ.update({"wsgi.input": stream, "CONTENT_LENGTH": str(length)})
    hot = SparqlHotPath(make_app(BODY_CAP=1000), lambda environ, start_response: [b"to Flask"])
    body = hot(environ, lambda *args: None)
    assert stream.taken == taken
    assert (body == [b"to Flask"]) == (taken == 0)


def test_over_real_http_a_post_is_answered_and_a_runaway_killed(
        make_app: Callable[..., Flask]) -> None:
    """A real client and socket, both POST forms: answered; the runaway stopped at the time
    limit; a refused update words the Flask refusal."""
    app = make_app(QUERY_TIMEOUT=1.5, QUERY_WORKERS=1)
    engine = app.extensions["exomirkg"].engine
    engine.start()
    accept = {"Accept": "application/sparql-results+json"}
    with serving(app) as base:
        form = requests.post(f"{base}/sparql", data={"query": ASK}, headers=accept, timeout=60)
        assert form.status_code == 200 and form.json()["boolean"] is True
        direct = requests.post(f"{base}/sparql", data=ASK.encode(), timeout=60,
                               headers={**accept, "Content-Type": DIRECT})
        assert direct.status_code == 200 and direct.json()["boolean"] is True
        assert direct.headers["X-Content-Type-Options"] == "nosniff"
        runaway = requests.post(f"{base}/sparql", data={"query": RUNAWAY}, timeout=60)
        assert runaway.status_code == 503 and "time limit" in runaway.text
        assert engine.kills == 1
        update = requests.post(f"{base}/sparql", data={"update": "DROP ALL"}, timeout=60)
        assert update.status_code == 403 and "read-only" in update.text
