"""HTML for people at the machine URLs: ``/sparql`` and ``/queries/<name>`` opened in a browser.

RDF and SPARQL clients keep their answers (the Service Description, query results): a page is
sent only when the Accept header names ``text/html`` itself, at least as high as any other
type it names. A wildcard alone (``*/*``, curl's and most libraries' default) never counts, and
neither does no Accept header, as the SPARQL protocol's tests ask.
"""

from __future__ import annotations

from exomirkg.sparql.negotiation import parse_accept

__all__ = ["wants_html"]

_HTML = {"text/html", "application/xhtml+xml"}


def wants_html(accept: str | None) -> bool:
    """True when a browser asks: ``text/html`` named, and no other named type preferred.

    >>> wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    True
    >>> wants_html(None), wants_html("*/*"), wants_html("text/turtle, text/html;q=0.5")
    (False, False, False)
    """
    ranges = parse_accept(accept)
    html = max((q for media, q in ranges if media in _HTML), default=0.0)
    other = max((q for media, q in ranges if media not in _HTML and "*" not in media),
                default=0.0)
    return html > 0 and html >= other
