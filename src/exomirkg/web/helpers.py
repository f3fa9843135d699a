"""What every blueprint shares: the one negotiation function, plain-text errors, the per-app
cache, and the one place a refused query becomes a response.

Blueprint modules hold views only (flaskr's ``db.py`` beside ``blog.py``); anything two
blueprints need lives here or in another non-blueprint module (``delivery``, ``protocol``,
``facets``, ``artefacts``). ``tests/test_import_graph.py`` checks the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from flask import Flask, Response, render_template, request
from werkzeug.http import HTTP_STATUS_CODES

from exomirkg.sparql import negotiation
from exomirkg.sparql.guard import QueryRefused
from exomirkg.web.state import get_state

__all__ = ["PAGE_TYPES", "Rule", "cached", "choose_media", "error_page", "install",
           "plain_error"]

T = TypeVar("T")

#: How an Accept header is read (see :func:`choose_media`).
Rule = Literal["sparql", "page", "first"]
#: A page for people, or one of its RDF views: HTML first, so it wins ties (browsers).
PAGE_TYPES: tuple[str, ...] = ("text/html", *negotiation.GRAPH_TYPES)


def choose_media(offers: Sequence[str], *, fmt: str | None = None, rule: Rule = "sparql",
                 default: str | None = None, absent: str | None = None,
                 html: bool = False) -> str | None:
    """The media type to answer the current request in: the one negotiation function.

    Every route picks its media type here, from media types of the one table
    (:mod:`exomirkg.sparql.negotiation`). Routes read the Accept header by one of three rules,
    kept as they were when they were separate mechanisms (each route's answers unchanged):

    - ``"sparql"``: ``format=`` wins, then Accept with q-values, the client's order on ties
      and synonyms (``application/json``) understood (:func:`negotiation.negotiate`); None
      means 406. The SPARQL protocol, the Graph Store, VoID.
    - ``"page"``: our order of ``offers`` wins ties (HTML first, so a browser's ``*/*`` gets
      the page), no synonyms, ``default`` when nothing matches (Werkzeug's ``best_match``).
      Entity pages and other pages with RDF views, and error pages.
    - ``"first"``: the client's single most preferred type, if offered, else ``default``.

    :param fmt: the ``format=`` parameter (``"sparql"`` rule only).
    :param default: the answer when nothing offered matches (``"page"``/``"first"``).
    :param absent: the answer when the request has no (or a blank) Accept header.
    :param html: answer ``text/html`` when a browser asks for it by name and no ``fmt`` is
        given (:func:`negotiation.prefers_html`): the machine URLs' page for people.
    :returns: the chosen media type, or None (the caller answers 406 or falls back).
    """
    accept = request.headers.get("Accept")
    if absent is not None and not (accept or "").strip():
        return absent
    if html and fmt is None and negotiation.prefers_html(accept):
        return "text/html"
    if rule == "sparql":
        return negotiation.negotiate(accept, offers, fmt)
    if rule == "page":
        return request.accept_mimetypes.best_match(offers, default=default) or default
    best = request.accept_mimetypes.best
    return best if best in offers else default


def plain_error(status: int, message: str, **headers: str) -> Response:
    """A plain-text error response that says what happened (never a traceback)."""
    response = Response(message.rstrip() + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers)
    return response


def error_page(status: int, description: str) -> Response:
    """An error on a page for people: HTML for browsers, plain text for other clients.

    (The machine endpoints answer :func:`plain_error` whatever the Accept header.)
    """
    phrase = HTTP_STATUS_CODES[status]
    if choose_media(("text/html", "text/plain"), rule="page") == "text/html":
        name = phrase.capitalize()
        body = render_template("error.html", title=name, code=status, name=name,
                               description=description)
        return Response(body, status=status, mimetype="text/html")
    return Response(f"{phrase}: {description}\n", status=status, mimetype="text/plain")


def cached(key: str, make: Callable[[], T]) -> T:
    """The app's one cache of things computed once from its (read-only) store.

    Pages, downloads, the findings table and the service descriptions all keep what they
    compute here, under distinct keys, so two views needing the same thing (the findings of
    /findings and of the network) compute it once. Two requests racing on a cold key both
    compute it and one result is kept: harmless, as both are the same.
    """
    cache: dict[str, Any] = get_state().cache
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _refused(error: QueryRefused) -> Response:
    """A query the protocol or the query core refuses (``ProtocolError`` included)."""
    return plain_error(error.status, error.message)


def install(app: Flask) -> None:
    """Answer a refused query, wherever it is raised, with its status and sentence."""
    app.register_error_handler(QueryRefused, _refused)
