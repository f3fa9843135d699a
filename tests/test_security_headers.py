"""Security headers: nosniff, no framing and a referrer policy everywhere; a CSP on HTML."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from exomirkg.web.security import PAGE_ALLOWANCES

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
#: Requests and the media type of their answer (HTML pages, data, errors).
RESPONSES = [
    pytest.param("/", "text/html", id="landing"),
    pytest.param("/mir_21", "text/html", id="entity"),
    pytest.param("/ontology/Finding", "text/html", id="ontology-term"),
    pytest.param("/download", "text/html", id="downloads-page"),
    pytest.param("/editor", "text/html", id="editor"),
    pytest.param("/network", "text/html", id="network"),
    pytest.param("/no-such-entity", "text/html", id="404-html"),
    pytest.param("/download/exomirkg.ttl", "text/turtle", id="download-file"),
    pytest.param("/sparql?query=ASK%7B%7D", "application/sparql-results+json", id="sparql-answer"),
    pytest.param("/mir_21.ttl", "text/turtle", id="entity-turtle"),
    pytest.param("/health", "application/json", id="health"),
    pytest.param("/static/site.css", "text/css", id="static"),
]


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize(("path", "media"), RESPONSES)
def test_every_response_has_the_common_headers(client: FlaskClient, path: str,
                                               media: str) -> None:
    accept = "text/html" if media == "text/html" else "*/*"
    response = client.get(path, headers={"Accept": accept})
    response.close()  # a static file's handle; the headers are what is tested
    assert response.mimetype == media, f"{path}: {response.status} {response.mimetype}"
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, f"{path}: {name} missing or wrong"


@pytest.mark.parametrize(("path", "media"), RESPONSES)
def test_html_gets_a_strict_csp_and_other_types_none(client: FlaskClient, path: str,
                                                     media: str) -> None:
    accept = "text/html" if media == "text/html" else "*/*"
    response = client.get(path, headers={"Accept": accept})
    response.close()
    policy = response.headers.get("Content-Security-Policy")
    if media != "text/html":
        assert policy is None, f"{path}: a CSP on {media} does nothing for it"
        return
    assert policy, f"{path}: HTML without a Content-Security-Policy"
    directives = _directives(policy)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"], "no inline or eval'd script on any page"
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]
    if response.request.path not in ("/editor", "/network"):
        assert directives["style-src"] == ["'self'"] and directives["img-src"] == ["'self'"]


def test_404_pages_get_the_headers_in_both_forms(client: FlaskClient) -> None:
    html = client.get("/nothing-here", headers={"Accept": "text/html"})
    plain = client.get("/nothing-here", headers={"Accept": "text/plain"})
    assert html.status_code == plain.status_code == 404
    assert "Content-Security-Policy" in html.headers
    assert plain.mimetype == "text/plain" and "Content-Security-Policy" not in plain.headers
    assert plain.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_editor_allows_inline_styles(client: FlaskClient) -> None:
    """YASGUI needs 'unsafe-inline' styles; no other page gets them, no page gets inline script."""
    editor = _directives(client.get("/editor").headers["Content-Security-Policy"])
    landing = _directives(client.get("/").headers["Content-Security-Policy"])
    assert "'unsafe-inline'" in editor["style-src"]
    assert "'unsafe-inline'" not in landing["style-src"]
    assert "'unsafe-inline'" not in editor["script-src"]


def test_network_style_hash_matches_the_vendored_cytoscape() -> None:
    """The hash allowed on /network is that of the one <style> text Cytoscape.js inserts."""
    source = _vendored("cytoscape/cytoscape.min.js")
    klass = re.search(r's="(_+cytoscape_container)"', source)
    rule = re.search(r'u\.textContent="\."\+s\+"([^"]+)"', source)
    assert klass and rule, "Cytoscape.js changed how it inserts its style: re-derive the hash"
    text = "." + klass.group(1) + rule.group(1)
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert PAGE_ALLOWANCES["pages.network.page"]["style-src"] == [f"'sha256-{digest}'"]


class _InlineCode(HTMLParser):
    """Collects what a strict script-src would block: inline scripts and on* handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.found += [f"<{tag} {k}=...>" for k in names if k.startswith("on")]
        self.found += [f"<{tag} style=...>" for k in names if k == "style"]
        executable = names.get("type") in (None, "", "text/javascript", "module")
        self._in_script = tag == "script" and executable and "src" not in names

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}</script>")


@pytest.mark.parametrize("path", ["/", "/editor", "/network", "/mir_21", "/ontology",
                                  "/ontology/Finding", "/download", "/search?q=mir-21",
                                  "/graph/section/2-2", "/no-such-page"])
def test_pages_have_no_inline_script_or_style(client: FlaskClient, path: str) -> None:
    """What the CSP forbids is not in our templates (it would break the page silently)."""
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.mimetype == "text/html"
    parser = _InlineCode()
    parser.feed(page.get_data(as_text=True))
    assert not parser.found, f"{path}: move {parser.found} into a static file"


def _vendored(name: str) -> str:
    from importlib.resources import files

    return (files("exomirkg.web") / "static" / "vendor" / name).read_text(encoding="utf-8")


def test_every_allowance_is_for_a_real_page(client: FlaskClient) -> None:
    endpoints = {rule.endpoint for rule in client.application.url_map.iter_rules()}
    assert set(PAGE_ALLOWANCES) <= endpoints, "an allowance names a page that does not exist"
