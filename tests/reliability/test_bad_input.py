"""Bad input to /sparql: malformed bytes, oversized and deeply nested queries, odd headers
and methods, updates, and malformed HTTP sent over raw sockets to a real gunicorn server.

The endpoint must never answer 5xx for a client's mistake: a wrong request gets a 4xx
with a plain sentence (never a traceback), and the server keeps answering afterwards.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import free_port, fresh_app, stop_server

from exomirkg.build import BuildResult

from .support import internals_shown

pytestmark = pytest.mark.slow

#: Small, so that "one byte over" stays cheap to send.
BODY_CAP = 10_000
#: The gunicorn server gets more room, so nested and quadratic bodies reach the query checks.
LIVE_BODY_CAP = 100_000
QUERY_TIMEOUT = 5
#: Answers to these inputs must not take longer: they are cheap to refuse.
FAST = 5.0
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
EKG = "https://w3id.org/exomirkg/"
COUNT_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

#: The nested inputs are balanced, so only their depth is wrong.
DEEP = 5000
NESTED = {
    "braces": "SELECT * WHERE " + "{" * DEEP + "}" * DEEP,
    "parens": "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * DEEP + "1" + ")" * DEEP + ") }",
    "brackets": "SELECT * WHERE { ?s ?p " + "[ <x:p> " * DEEP + "1" + " ]" * DEEP + " }",
    "sub-selects": "SELECT * WHERE " + "{ SELECT * WHERE " * 500 + "{}" + " }" * 500,
}
#: A run of '\ pairs: each quote opens a string whose escape swallows the next quote.
QUOTE_BACKSLASH = "'\\" * 20_000


@dataclass(frozen=True)
class Case:
    """One request; ``expect`` is the statuses that count as right for it."""

    method: str
    kwargs: dict = field(default_factory=dict)
    path: str = "/sparql"
    expect: Callable[[int], bool] = lambda status: 400 <= status < 500
    #: Words one of which the refusal must contain (it says what was wrong).
    says: str | None = None


def client_error(status: int) -> bool:
    return 400 <= status < 500


def answered(status: int) -> bool:
    """Input that is odd but not wrong: any answer but a server error."""
    return status < 500


def exactly(*statuses: int) -> Callable[[int], bool]:
    return lambda status: status in statuses


def _get(query: str, **params) -> dict:
    return {"query_string": {"query": query, **params}}


def _direct(body: bytes | str, content_type: str = DIRECT) -> dict:
    return {"data": body.encode("utf-8") if isinstance(body, str) else body,
            "content_type": content_type}


def _padded(size: int) -> bytes:
    """A valid query padded with spaces to exactly ``size`` bytes."""
    query = b"ASK {}"
    return query + b" " * (size - len(query))


CASES: dict[str, Case] = {
    # -- text that is not UTF-8 ----------------------------------------------------------------
    "get-invalid-utf8": Case("GET", path="/sparql?query=ASK%20%7B%7D%20%FF%FE"),
    # The byte sits inside a string literal: silently replacing it with U+FFFD would answer
    # a different query than the one sent.
    "get-invalid-utf8-in-literal": Case(
        "GET", path="/sparql?query=" + quote("SELECT * WHERE { ?s ?p 'caf") + "%E9"
        + quote("' }")),
    "direct-invalid-utf8": Case("POST", _direct(b"ASK { ?s ?p ?o } \xff\xfe")),
    "direct-overlong-utf8": Case("POST", _direct(b"SELECT * WHERE { ?s ?p '\xc0\xa7' }")),
    "direct-encoded-surrogate": Case("POST", _direct(b"SELECT * WHERE { ?s ?p '\xed\xa0\x80' }")),
    "direct-truncated-utf8": Case("POST", _direct(b"SELECT * WHERE { ?s ?p '\xe2\x82' }")),
    "form-invalid-utf8-in-literal": Case("POST", _direct(
        b"query=" + quote_from_bytes("SELECT * WHERE { ?s ?p 'caf\xe9' }".encode("latin-1"))
        .encode(), FORM)),
    "direct-utf16": Case("POST", _direct("ASK {}".encode("utf-16"),
                                         DIRECT + "; charset=utf-16")),
    "form-utf16": Case("POST", _direct("query=ASK%20%7B%7D".encode("utf-16"),
                                       FORM + "; charset=utf-16")),
    "direct-latin1": Case("POST", _direct("SELECT * WHERE { ?s ?p 'café' }".encode("latin-1"))),
    "direct-latin1-declared": Case("POST", _direct(b"ASK {}", DIRECT + "; charset=iso-8859-1")),
    "direct-bom": Case("POST", _direct(b"\xef\xbb\xbfASK {}"), expect=answered),
    "get-nul-after": Case("GET", _get("ASK {}\x00")),
    "direct-nul-inside": Case("POST", _direct(b"AS\x00K {}")),
    # NUL is allowed inside a SPARQL string literal: odd, not wrong.
    "get-nul-in-literal": Case("GET", _get("SELECT * WHERE { ?s ?p '\x00' }"), expect=answered),
    "escaped-lone-surrogate": Case("GET", _get("SELECT * WHERE { ?s ?p '\\uD800' }")),
    "escaped-beyond-unicode": Case("GET", _get("SELECT * WHERE { ?s ?p '\\U00110000' }")),
    # -- size ----------------------------------------------------------------------------------
    "direct-at-cap": Case("POST", _direct(_padded(BODY_CAP)), expect=exactly(200)),
    "direct-one-byte-over-cap": Case("POST", _direct(_padded(BODY_CAP + 1)),
                                     expect=exactly(413)),
    "form-one-byte-over-cap": Case("POST", _direct(b"query=" + _padded(BODY_CAP - 5), FORM),
                                   expect=exactly(413)),
    # 200 kB sent in the URL (no body cap applies): answered, or refused as too long.
    "get-200k-whitespace": Case(
        "GET", _get("SELECT * WHERE { ?s ?p ?o }" + " \n\t" * 66_000 + " LIMIT 1"),
        expect=exactly(200, 400, 413, 414), says="long|length|characters|bytes|size|limit"),
    "get-200k-comment": Case(
        "GET", _get("#" + "x" * 200_000 + "\nASK {}"),
        expect=exactly(200, 400, 413, 414), says="long|length|characters|bytes|size|limit"),
    **{f"nested-{name}": Case("GET", _get(text), expect=exactly(400), says="nest|deep|depth")
       for name, text in NESTED.items()},
    "open-braces": Case("GET", _get("{" * DEEP), expect=exactly(400)),
    "open-parens": Case("GET", _get("(" * DEEP), expect=exactly(400)),
    "open-brackets": Case("GET", _get("[" * DEEP), expect=exactly(400)),
    "quote-backslash-40k": Case("GET", _get(QUOTE_BACKSLASH)),
    "double-quote-backslash-40k": Case("GET", _get('"\\' * 20_000)),
    "long-quote-backslash-40k": Case("GET", _get("'''\\" * 10_000)),
    # -- unusual but valid text ----------------------------------------------------------------
    "unicode-iri": Case("GET", _get("SELECT * WHERE { <http://例え.jp/𝄞/é> ?p ?o }"),
                        expect=exactly(200)),
    "unicode-prefix": Case("GET", _get("PREFIX é: <http://example.org/é#> "
                                       "SELECT ?ñ WHERE { ?ñ é:ü ?o }"), expect=exactly(200)),
    "unicode-literal": Case("GET", _get("SELECT * WHERE { ?s ?p '🧬 ملف ✓'@ar }"),
                            expect=exactly(200)),
    "escaped-iri": Case("GET", _get("SELECT * WHERE { <http://example.org/\\u00E9> ?p ?o }"),
                        expect=exactly(200)),
    # -- content types -------------------------------------------------------------------------
    "post-no-content-type": Case("POST", {"data": b"ASK {}"}),
    "post-text-plain": Case("POST", _direct(b"ASK {}", "text/plain")),
    "post-json": Case("POST", _direct(b'{"query": "ASK {}"}', "application/json")),
    "post-multipart": Case("POST", _direct(b"--x\r\n\r\nASK {}\r\n--x--\r\n",
                                           "multipart/form-data; boundary=x")),
    "post-garbage-content-type": Case("POST", _direct(b"ASK {}", ";;;===\x7f/\x01")),
    "post-odd-params-content-type": Case("POST", _direct(b"ASK {}", DIRECT + ";;; a=\"b"),
                                         expect=answered),
    "post-update-type-with-query": Case("POST", _direct(b"ASK {}", UPDATE)),
    "post-empty-body": Case("POST", _direct(b"")),
    # -- parameters ----------------------------------------------------------------------------
    "form-two-queries": Case("POST", _direct(b"query=ASK%20%7B%7D&query=ASK%20%7B%7D", FORM),
                             expect=exactly(400)),
    "get-two-queries": Case("GET", path="/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D",
                            expect=exactly(400)),
    "direct-and-url-query": Case("POST", {**_direct(b"ASK {}"),
                                          "query_string": {"query": "ASK {}"}},
                                 expect=exactly(400)),
    "unknown-parameters": Case("GET", _get("ASK {}", foo="bar", timeout="999999",
                                           callback="x"), expect=exactly(200)),
    "empty-query": Case("GET", _get(""), expect=exactly(400)),
    "blank-query": Case("GET", _get(" \n\t "), expect=exactly(400)),
    "comment-only-query": Case("GET", _get("# nothing\n")),
    "graph-uri-not-an-iri": Case("GET", _get("ASK {}", **{"default-graph-uri": "not an iri"})),
    "graph-uri-control-chars": Case("GET", _get("ASK {}",
                                                **{"named-graph-uri": "http://x/\x01\x7f"})),
    "many-parameters": Case("GET", path="/sparql?query=ASK%7B%7D&" + "&".join(
        f"p{i}=1" for i in range(5000)), expect=answered),
    "format-garbage": Case("GET", _get("ASK {}", format="<script>alert(1)</script>")),
    "format-nul": Case("GET", _get("ASK {}", format="json\x00")),
    "format-empty": Case("GET", _get("ASK {}", format=""), expect=exactly(200)),
    # -- headers -------------------------------------------------------------------------------
    "accept-garbage": Case("GET", {**_get("ASK {}"),
                                   "headers": {"Accept": "\x01\x02;;;q=abc,,,*/*;q=-1"}},
                           expect=answered),
    "accept-10k": Case("GET", {**_get("ASK {}"),
                               "headers": {"Accept": "application/x-" + "a" * 10_000}},
                       expect=answered),
    "accept-2000-types": Case("GET", {**_get("ASK {}"), "headers": {"Accept": ", ".join(
        f"type/sub{i};q=0.{i % 10}" for i in range(2000))}}, expect=answered),
    # -- methods -------------------------------------------------------------------------------
    "head": Case("HEAD", _get("ASK {}"), expect=exactly(200)),
    "options": Case("OPTIONS", expect=exactly(200, 204)),
    "put": Case("PUT", _direct(b"ASK {}"), expect=exactly(405)),
    "delete": Case("DELETE", expect=exactly(405)),
    "patch": Case("PATCH", _direct(b"ASK {}"), expect=exactly(405)),
    "trace": Case("TRACE", expect=exactly(405)),
    # -- evaluation errors the query causes ----------------------------------------------------
    "service-unbound": Case("GET", _get("SELECT * WHERE { SERVICE ?nowhere { ?s ?p ?o } }")),
    # Found by the fuzzer: an IRI followed by "(" is a call to a function pyoxigraph lacks.
    "unknown-function": Case("GET", _get("SELECT (<urn:no-such-function>(1) AS ?x) {}")),
    "unknown-function-relative": Case("GET", _get("SELECT * WHERE { FILTER(<>('x')) }")),
    "service-unbound-desync": Case("GET", _get(
        "SELECT * WHERE { OPTIONAL { BIND('b' AS ?q) FILTER(?q<'a>') } "
        "SERVICE ?nowhere { ?x ?y ?z } BIND('' AS ?e) }")),
}

#: Updates in every syntax SPARQL 1.1 Update has.
UPDATES = {
    "insert-data": f"INSERT DATA {{ GRAPH <{EKG}graph/evil> {{ <{EKG}x> <{EKG}p> 1 }} }}",
    "delete-data": f"DELETE DATA {{ <{EKG}x> <{EKG}p> 1 }}",
    "delete-where": "DELETE WHERE { ?s ?p ?o }",
    "modify": f"WITH <{EKG}graph/evil> DELETE {{ ?s ?p ?o }} INSERT {{ ?s ?p 1 }} "
              "WHERE { ?s ?p ?o }",
    "insert-where": f"INSERT {{ GRAPH <{EKG}graph/evil> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
    "load": f"LOAD <{EKG}x> INTO GRAPH <{EKG}graph/evil>",
    "clear": "CLEAR ALL",
    "create": f"CREATE GRAPH <{EKG}graph/evil>",
    "drop": "DROP DEFAULT",
    "copy": f"COPY DEFAULT TO <{EKG}graph/evil>",
    "move": f"MOVE SILENT <{EKG}graph/review> TO DEFAULT",
    "add": f"ADD <{EKG}graph/review> TO <{EKG}graph/evil>",
    "lowercase": f"insert data {{ <{EKG}x> <{EKG}p> 1 }}",
    "escaped": f"\\u0049NSERT DATA {{ <{EKG}x> <{EKG}p> 1 }}",
    "sequence": "CLEAR SILENT GRAPH <x:a> ; DROP ALL",
    "prologue": f"PREFIX e: <{EKG}> BASE <{EKG}> INSERT DATA {{ e:x e:p 1 }}",
}
UPDATE_TRANSPORTS = {
    "get-query": lambda u: ("GET", _get(u)),
    "get-update": lambda u: ("GET", {"query_string": {"update": u}}),
    "form-update": lambda u: ("POST", _direct(b"update=" + quote(u).encode(), FORM)),
    "direct-update": lambda u: ("POST", _direct(u, UPDATE)),
    "direct-query": lambda u: ("POST", _direct(u)),
}


@pytest.fixture(scope="module")
def app(built: BuildResult, build_dir: Path) -> Iterator[Flask]:
    with fresh_app(build_dir, BODY_CAP=BODY_CAP, QUERY_TIMEOUT=QUERY_TIMEOUT,
                   QUERY_WORKERS=2) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _check_answer(name: str, status: int, body: bytes, content_type: str, seconds: float,
                  case: Case) -> None:
    shown = body[:300]
    assert not internals_shown(body), f"{name}: the answer shows a traceback: {shown!r}"
    assert status < 500, f"{name}: a client's mistake answered {status}: {shown!r}"
    assert case.expect(status), f"{name}: unexpected status {status}: {shown!r}"
    assert seconds < FAST, f"{name}: took {seconds:.1f} s"
    if 400 <= status < 500:
        # A refusal is a sentence for people, in text (gunicorn's own refusals are HTML).
        assert content_type.startswith("text/"), f"{name}: {content_type}: {shown!r}"
        text = body.decode("utf-8")
        assert len(text.split()) >= 3, f"{name}: the refusal does not say why: {text!r}"
        if case.says:
            assert re.search(case.says, text, re.IGNORECASE), (
                f"{name}: the refusal should say what was wrong ({case.says}): {text!r}")


def _still_serving(client: FlaskClient) -> None:
    assert client.get("/health").status_code == 200
    answer = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert answer.status_code == 200 and json.loads(answer.data)["boolean"] is True


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(client: FlaskClient, name: str) -> None:
    case = CASES[name]
    started = time.monotonic()
    response = client.open(case.path, method=case.method, **case.kwargs)
    seconds = time.monotonic() - started
    _check_answer(name, response.status_code, response.get_data(),
                  response.headers.get("Content-Type", ""), seconds, case)
    if response.status_code == 405:
        assert "POST" in response.headers.get("Allow", ""), "a 405 should say what is allowed"
    _still_serving(client)


@pytest.mark.parametrize("transport", list(UPDATE_TRANSPORTS))
@pytest.mark.parametrize("update", list(UPDATES))
def test_update_is_refused(client: FlaskClient, update: str, transport: str) -> None:
    before = json.loads(client.get("/sparql", query_string={"query": COUNT_QUADS}).data)
    method, kwargs = UPDATE_TRANSPORTS[transport](UPDATES[update])
    response = client.open("/sparql", method=method, **kwargs)
    case = Case(method, expect=exactly(400, 403))
    _check_answer(f"{update} as {transport}", response.status_code, response.get_data(),
                  response.headers.get("Content-Type", ""), 0.0, case)
    after = json.loads(client.get("/sparql", query_string={"query": COUNT_QUADS}).data)
    assert after == before, "the store changed: an update reached it"


# -- a real gunicorn server ---------------------------------------------------------------------

@dataclass
class Live:
    base: str
    port: int
    process: subprocess.Popen
    stderr: Path


@pytest.fixture(scope="module")
def live(built: BuildResult, build_dir: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``exomirkg serve`` under gunicorn; its output goes to files (a full pipe would block it)."""
    logs = tmp_path_factory.mktemp("serve-logs")
    port = free_port()
    with open(logs / "stdout", "wb") as out, open(logs / "stderr", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "exomirkg", "serve", "--out", str(build_dir),
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "4",
             "--query-workers", "1", "--timeout", str(QUERY_TIMEOUT),
             "--body-cap", str(LIVE_BODY_CAP)],
            stdout=out, stderr=err, start_new_session=True)
    server = Live(f"http://127.0.0.1:{port}", port, process, logs / "stderr")
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"server exited: {server.stderr.read_text()}"
            assert time.monotonic() < deadline, "the server did not answer within 90 s"
            try:
                if requests.get(f"{server.base}/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        yield server
    finally:
        # Only the process group this fixture started: gunicorn and its query processes.
        stop_server(process)


def _live_health(server: Live) -> None:
    assert server.process.poll() is None, "the server process exited"
    assert requests.get(f"{server.base}/health", timeout=10).status_code == 200


LIVE_CASES = ["get-invalid-utf8-in-literal", "direct-invalid-utf8", "direct-utf16",
              "get-nul-after", "nested-braces", "nested-parens", "nested-brackets",
              "quote-backslash-40k", "form-two-queries", "put", "accept-garbage",
              "service-unbound-desync", "unknown-function", "unicode-prefix"]


def _requests_kwargs(case: Case) -> dict:
    kwargs: dict = {"headers": dict(case.kwargs.get("headers", {}))}
    if "query_string" in case.kwargs:
        kwargs["params"] = case.kwargs["query_string"]
    if "data" in case.kwargs:
        kwargs["data"] = case.kwargs["data"]
        kwargs["headers"]["Content-Type"] = case.kwargs["content_type"]
    return kwargs


@pytest.mark.parametrize("name", LIVE_CASES)
def test_bad_input_through_gunicorn(live: Live, name: str) -> None:
    case = CASES[name]
    kwargs = _requests_kwargs(case)
    if name == "quote-backslash-40k" or name.startswith("nested-"):
        # Too long for a request line (gunicorn stops at 4 kB): the same text as a body.
        kwargs = {"data": case.kwargs["query_string"]["query"].encode(),
                  "headers": {"Content-Type": DIRECT}}
        method = "POST"
    else:
        method = case.method
    started = time.monotonic()
    response = requests.request(method, live.base + case.path, timeout=30, **kwargs)
    _check_answer(f"live {name}", response.status_code, response.content,
                  response.headers.get("Content-Type", ""), time.monotonic() - started, case)
    _live_health(live)


def test_one_byte_over_the_cap_through_gunicorn(live: Live) -> None:
    at_cap = requests.post(f"{live.base}/sparql", data=_padded(LIVE_BODY_CAP), timeout=30,
                           headers={"Content-Type": DIRECT})
    over = requests.post(f"{live.base}/sparql", data=_padded(LIVE_BODY_CAP + 1), timeout=30,
                         headers={"Content-Type": DIRECT})
    assert (at_cap.status_code, over.status_code) == (200, 413), over.text[:300]


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


#: Malformed HTTP, as raw bytes. ``shut`` half-closes the connection after sending, as a
#: client that gave up would.
RAW: dict[str, tuple[bytes, bool]] = {
    "request-line-garbage": (b"GARBAGE\r\n\r\n", False),
    "request-line-binary": (b"\x00\xff\x16\x03\x01\x02\x00\x01\x00\r\n\r\n", False),
    "tls-hello": (bytes.fromhex("160301002e0100002a0303") + b"\x00" * 40, True),
    "unknown-http-version": (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", False),
    "method-with-nul": (b"G\x00T /health HTTP/1.1\r\nHost: x\r\n\r\n", False),
    "request-line-10k": (b"GET /sparql?query=" + b"A" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                         False),
    "header-without-colon": (b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", False),
    "header-with-nul": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", False),
    "header-folding": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", False),
    "100-headers-of-8k": (b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"v" * 8000) for i in range(100)) + b"\r\n", False),
    "content-length-short-body": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 100\r\n\r\nASK {}", True),
    "content-length-long-body": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 3\r\n\r\nASK { ?s ?p ?o } GARBAGE AFTER THE BODY\r\n\r\n", False),
    "content-length-negative": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: -5\r\n\r\nASK {}", True),
    "content-length-not-a-number": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: abc\r\n\r\nASK {}", True),
    "content-length-twice": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 6\r\nContent-Length: 60\r\n\r\nASK {}", True),
    "chunked-bad-size": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nASK {}\r\n0\r\n\r\n", True),
    "chunked-huge-size": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nASK {}\r\n0\r\n\r\n", True),
    "chunked-short-chunk": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n20\r\nASK {}\r\n0\r\n\r\n", True),
    "chunked-and-content-length": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"ASK {}"), True),
    "chunked-over-the-cap": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        # Cut at the cap, this body would be a valid query; whole, it is over the cap.
        b"Transfer-Encoding: chunked\r\n\r\n"
        + _chunked(_padded(LIVE_BODY_CAP) + b"} tail past the cap"), True),
    "transfer-encoding-unknown": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: gzip\r\n\r\nASK {}", True),
    "invalid-utf8-request-target": (b"GET /sparql?query=ASK%7B%7D\xff\xfe HTTP/1.1\r\n"
                                    b"Host: x\r\n\r\n", False),
}
#: Seconds a malformed request may take to be refused or dropped.
RAW_LIMIT = 10.0
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def _raw_exchange(port: int, data: bytes, shut: bool) -> tuple[int | None, bytes, float]:
    """Send raw bytes; return (status of the first answer or None if closed, bytes, seconds).

    :raises AssertionError: neither an answer nor a close within RAW_LIMIT.
    """
    started = time.monotonic()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=RAW_LIMIT) as sock:
        try:
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading early; its answer may still be there
        try:
            while b"\r\n" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            pass  # dropped: an acceptable way to refuse
        except TimeoutError:
            raise AssertionError(f"no answer and no close within {RAW_LIMIT} s") from None
    match = _STATUS_LINE.match(received)
    if received and match is None:
        raise AssertionError(f"the server answered something that is not HTTP: {received[:200]!r}")
    return (int(match.group(1)) if match else None), received, time.monotonic() - started


@pytest.mark.parametrize("name", list(RAW))
def test_malformed_http_is_refused_or_dropped(live: Live, name: str) -> None:
    data, shut = RAW[name]
    status, received, seconds = _raw_exchange(live.port, data, shut)
    assert seconds < RAW_LIMIT
    assert status is None or 400 <= status < 500, (
        f"{name}: expected a 4xx or a closed connection, got {received[:300]!r}")
    _live_health(live)


def test_gunicorn_logs_no_traceback_for_bad_input(live: Live) -> None:
    """Send the whole bad-input corpus again, then read the server's log."""
    for data, shut in RAW.values():
        _raw_exchange(live.port, data, shut)
    for name in LIVE_CASES:
        requests.request(CASES[name].method, live.base + CASES[name].path, timeout=30,
                         **_requests_kwargs(CASES[name]))
    _live_health(live)
    log = live.stderr.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 500:][:3000]
