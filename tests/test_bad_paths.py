"""Client mistakes in paths and parameters get a 4xx, never a 500, and never echo raw markup.

Each case is a request a client (or an attacker) may send, with the status it must get.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from exomirkg import paths

#: Ten kilobytes: longer than any name of ours, shorter than Werkzeug's URL limits.
LONG = "a" * 10_000
#: Markup that must never come back unescaped in an HTML page.
PAYLOADS = ["<script>alert(1)</script>", '"><script>', "<img src=x onerror=alert(1)>"]
#: Text of files outside the served data (the repository's pyproject.toml, /etc/passwd).
OUTSIDE = ["[project]", "requires-python", "root:x:0:0"]

#: (request path with query string, status it must get).
CASES: list[tuple[str, int]] = [
    # Entity paths that cannot be an IRI of ours (pyoxigraph refuses them): 404.
    ("/a%20b", 404),
    ("/x%22%3E%3Cscript%3E", 404),
    ("/x%22%3E%3Cscript%3Ealert(1)%3C/script%3E", 404),
    ("/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404),
    ("/'%3E%3Cimg%20src=x%20onerror=alert(1)%3E", 404),
    ("/%FF", 404),
    ("/%C0%AF", 404),
    ("/%ED%A0%80", 404),
    ("/%EF%BF%BF", 404),
    ("/%E2%80%AE", 404),
    ("/%00", 404),
    ("/a%00b", 404),
    ("/a%09b", 404),
    ("/a%0Ab", 404),
    ("/a%0D%0Ab", 404),
    ("/a%7Bb%7D", 404),
    ("/a%7Cb", 404),
    ("/a%5Cb", 404),
    ("/a%60b", 404),
    ("/a%5Eb", 404),
    ("/%C3%BC", 404),
    ("/%F0%9F%92%A5", 404),
    ("/" + LONG, 404),
    ("/" + "%FF" * 3_400, 404),
    ("/" + "a%20" * 2_500, 404),
    ("/%5C%5Cevil.example", 404),
    ("/javascript:alert(1)", 404),
    ("/http://evil.example/", 404),
    ("/graph/section/%FF", 404),
    # Format suffixes on paths that are no entity.
    ("/a%20b.ttl", 404),
    ("/mir_21%20.ttl", 404),
    ("/mir_21.jsonld%FF", 404),
    ("/a.ttl%00", 404),
    ("/mir_21.nt.ttl", 404),
    ("/mir_21.TTL", 404),
    ("/mir_21.ttl/", 404),
    ("/mir_21.", 404),
    ("/.ttl", 404),
    ("/%2Ettl", 404),
    ("/graph/section/2-2%20.ttl", 404),
    ("/mir_21.ttl%0D%0AX-Injected:%201", 404),
    # Traversal and odd slashes: never a file outside the data.
    ("/../../etc/passwd", 404),
    ("/%2e%2e/%2e%2e/etc/passwd", 404),
    ("/..%2f..%2fetc%2fpasswd", 404),
    ("//etc/passwd", 404),
    ("/a//b", 404),
    ("/static/..%2f..%2f..%2f..%2fpyproject.toml", 404),
    ("/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml", 404),
    ("/static/..%5c..%5c..%5c..%5cpyproject.toml", 404),
    ("/static/site.css%00", 404),
    ("/static/%FF", 404),
    # Ontology terms.
    ("/ontology/%FF", 404),
    ("/ontology/a%20b", 404),
    ("/ontology/%22%3E%3Cscript%3E", 404),
    ("/ontology/%00", 404),
    ("/ontology/%2e%2e", 404),
    ("/ontology/..%2f..%2fpyproject.toml", 404),
    ("/ontology/Finding.ttl", 404),
    ("/ontology/" + LONG, 404),
    # Named queries.
    ("/queries/%FF", 404),
    ("/queries/..%2f..%2fpyproject.toml", 404),
    ("/queries/%2e%2e", 404),
    ("/queries/%3Cscript%3E", 404),
    ("/queries/a%00b", 404),
    ("/queries/" + LONG, 404),
    ("/queries/autophagy-mirnas?format=%FF", 406),
    # Downloads.
    ("/download/..%2f..%2fpyproject.toml", 404),
    ("/download/..%5C..%5Cpyproject.toml", 404),
    ("/download/%2e%2e", 404),
    ("/download/%FF", 404),
    ("/download/exomirkg.ttl%00", 404),
    ("/download/%3Cscript%3E", 404),
    ("/download/" + LONG, 404),
    # Graph Store: a graph name that is no IRI is malformed (400); an unknown one is 404.
    ("/store?graph=%FF", 400),
    ("/store?graph=a%20b", 400),
    ("/store?graph=%3Cscript%3E", 400),
    ("/store?graph=", 400),
    ("/store?graph=https://w3id.org/exomirkg/a%20b", 400),
    ("/store?graph=https://w3id.org/exomirkg/%FF", 404),
    ("/store?graph=file:///etc/passwd", 404),
    # SPARQL protocol parameters.
    ("/sparql?query=ASK%7B%7D&default-graph-uri=%FF", 400),
    ("/sparql?query=ASK%7B%7D&named-graph-uri=a%20b", 400),
    ("/sparql?query=ASK%7B%7D&default-graph-uri=%3Cscript%3E", 400),
    # Invalid UTF-8 anywhere in the query string is refused before anything is read from it.
    ("/sparql?query=ASK%7B%7D&format=%FF", 400),
    ("/sparql?query=%FF", 400),
    ("/sparql?query=%00", 400),
    ("/sparql?query=SELECT%20*%20FROM%20%3Cx%20y%3E%20%7B%3Fs%20%3Fp%20%3Fo%7D", 400),
    ("/.well-known/void?format=%FF", 406),
    # Network filters outside their choices, and flags that are not 1/0.
    ("/network.json?drug=%FF", 400),
    ("/network.json?drug=%3Cscript%3E", 400),
    ("/network.json?cell=nope", 400),
    ("/network.json?cancer=%00", 400),
    ("/network.json?drug=" + LONG, 400),
    ("/network.json?genes=maybe", 400),
    ("/network.json?exclude_retracted=%FF", 400),
    # Search takes any text: a 200 whose page escapes it.
    ("/search?q=%3Cscript%3Ealert(1)%3C/script%3E", 200),
    ("/search?q=%22%3E%3Cscript%3E", 200),
    ("/search?q=%3Cimg%20src=x%20onerror=alert(1)%3E", 200),
    ("/search?q=%FF", 200),
    ("/search?q=%00", 200),
    ("/search?q=%0D%0A", 200),
    ("/search?q=" + LONG, 200),
    # The network page reads its filters from the query string: a bad one is a 400 that
    # quotes it escaped.
    ("/network?cell=%22%3E%3Cscript%3E", 400),
    ("/network?drug=%FF", 400),
    ("/network.json?mechanisms=%3Cscript%3E", 400),
]


def _id(path: str) -> str:
    return path if len(path) < 60 else f"{path[:40]}...({len(path)} chars)"


@pytest.mark.parametrize(("path", "status"), [pytest.param(p, s, id=_id(p)) for p, s in CASES])
@pytest.mark.parametrize("accept", ["text/html,*/*;q=0.8", None], ids=["browser", "no-accept"])
def test_bad_request_gets_its_status_and_a_safe_body(client: FlaskClient, path: str,
                                                     status: int, accept: str | None) -> None:
    response = client.get(path, headers={"Accept": accept} if accept else {})
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{path}: a client mistake must not be a server error"
    assert response.status_code == status, f"{path}: expected {status}, got {body[:200]!r}"
    assert "Traceback" not in body
    assert not any(text in body for text in OUTSIDE), f"{path}: served a file outside the data"
    if response.status_code >= 400:
        assert len(body) < 8_000, f"{path}: error bodies stay short (quote input, cut long)"
        assert LONG not in body
    if response.mimetype == "text/html":
        reflected = [p for p in PAYLOADS if p in body]
        assert not reflected, f"{path}: unescaped {reflected} in an HTML page"
    assert "X-Injected" not in response.headers


@pytest.mark.parametrize(("path", "escaped"), [
    ("/x%22%3E%3Cscript%3Ealert(1)%3C/script%3E", "&#34;&gt;&lt;script&gt;alert(1)"),
    ("/ontology/%3Cimg%20src=x%20onerror=alert(1)%3E", "&lt;img src=x onerror=alert(1)&gt;"),
    ("/search?q=%3Cscript%3Ealert(1)%3C/script%3E", "&lt;script&gt;alert(1)&lt;/script&gt;"),
])
def test_reflected_input_is_html_escaped(client: FlaskClient, path: str, escaped: str) -> None:
    """Pages that quote the request show it escaped (and the raw form is nowhere)."""
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert escaped in body, f"{path}: the page should quote the input, escaped"
    assert not any(p in body for p in PAYLOADS)


def test_plain_text_errors_are_not_html(client: FlaskClient) -> None:
    """Non-browser clients get text/plain errors, which a browser never renders as HTML."""
    response = client.get("/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404 and response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_traversal_targets_exist_so_the_corpus_can_catch_a_leak() -> None:
    """The files the traversal cases aim at are real, so a leak would show their text."""
    pyproject = (paths.DATA_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "[project]" in pyproject and "requires-python" in pyproject


def test_long_error_messages_are_cut(client: FlaskClient) -> None:
    body = client.get("/" + LONG).get_data(as_text=True)
    assert "a" * 80 in body and "a" * 81 not in body and "…" in body
