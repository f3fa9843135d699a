"""Security headers on every response; a strict Content Security Policy on HTML pages.

Our pages run only our own scripts from ``/static`` (no inline ``<script>``, no event
handler attributes): data a script needs travels in ``data-*`` attributes or a
``<script type="application/json">`` block, which the browser never executes (so is the
landing page's ``<script type="application/ld+json">`` schema.org Dataset: a data block is
not a script, and the CSP's script-src does not apply to it; tests/browser load the page
and fail on any CSP violation). The two
vendored libraries need small style allowances on their own page only (see
:data:`PAGE_ALLOWANCES`); every other page gets :data:`BASE_POLICY` as it is.
"""

from __future__ import annotations

from flask import Flask, Response, request

__all__ = ["BASE_POLICY", "PAGE_ALLOWANCES", "content_security_policy", "install"]

#: The policy of every HTML page: our own origin only, nothing inline, never framed.
BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    # YASGUI and the network page fetch from this server only (/sparql, /network.json).
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

#: Endpoint -> sources added to directives of the base policy, for what a vendored library
#: really does (read in static/vendor; the browser tests fail on any CSP violation).
PAGE_ALLOWANCES: dict[str, dict[str, list[str]]] = {
    "pages.editor": {
        # YASGUI's result table sizes its columns by writing <style> elements whose text
        # holds the measured widths, and its tooltips are HTML with style="" attributes;
        # neither can be hashed ahead of time.
        "style-src": ["'unsafe-inline'"],
        # CodeMirror (YASGUI's query editor) sets a data: GIF as the drag image of text.
        "img-src": ["data:"],
    },
    "pages.network.page": {
        # Cytoscape.js inserts one fixed <style> element:
        # ".__________cytoscape_container { position: relative; }" (this is its sha256).
        "style-src": ["'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"],
    },
}

#: Headers on every response, whatever its type.
COMMON_HEADERS: dict[str, str] = {
    # Browsers must take our Content-Type as given: a text/plain error quoting "<script>"
    # or a Turtle download is never sniffed into HTML.
    "X-Content-Type-Options": "nosniff",
    # For browsers without CSP frame-ancestors: no page of ours inside another site's frame.
    "X-Frame-Options": "DENY",
    # Other sites see our origin, never the path or query string a user came from.
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def content_security_policy(endpoint: str | None) -> str:
    """The CSP header value for an HTML page served by ``endpoint``.

    >>> "'unsafe-inline'" in content_security_policy("pages.landing")
    False
    >>> "style-src 'self' 'unsafe-inline'" in content_security_policy("pages.editor")
    True
    """
    extra = PAGE_ALLOWANCES.get(endpoint or "", {})
    return "; ".join(f"{name} {' '.join(sources + extra.get(name, []))}"
                     for name, sources in BASE_POLICY.items())


def _add_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the headers instead of a scan per setdefault (~10 µs of every response).
    present = {name.lower() for name, _ in headers.items()}
    for name, value in COMMON_HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    # Only documents obey a CSP; on JSON, Turtle or CSS it would do nothing (or, on text a
    # browser shows itself, block the browser's own viewer styles).
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy",
                                    content_security_policy(request.endpoint))
    return response


def install(app: Flask) -> None:
    """Add the security headers to every response of ``app`` (errors included)."""
    app.after_request(_add_headers)
