"""What every blueprint shares: the one negotiation function, plain-text errors, the per-app
cache, and the one place a refused query becomes a response.

Blueprint modules hold views only (flaskr's ``db.py`` beside ``blog.py``); anything two
blueprints need lives here or in another non-blueprint module (``delivery``, ``protocol``,
``facets``, ``artefacts``). ``tests/test_import_graph.py`` checks the rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, render_template, request
from werkzeug.http import HTTP_STATUS_CODES

from exomirkg.backends.sparql_http import BackendUnavailable
from exomirkg.sparql import negotiation
from exomirkg.sparql.engine import EngineTimeout
from exomirkg.sparql.guard import QueryRefused
from exomirkg.web.state import get_state

__all__ = ["PAGE_TYPES", "cached", "choose_media", "error_page", "install",
           "plain_error", "plain_text"]

T = TypeVar("T")
log = logging.getLogger(__name__)

#: A page for people, or one of its RDF views: HTML first, so a bare ``*/*`` gets the page.
PAGE_TYPES: tuple[str, ...] = ("text/html", *negotiation.GRAPH_TYPES)


def choose_media(offers: Sequence[str], *, fmt: str | None = None,
                 default: str | None = None, absent: str | None = None,
                 html: bool = False, req: Request | None = None) -> str | None:
    """The media type to answer the current request in: the one negotiation function.

    Every route picks its media type here, from media types of the one table
    (:mod:`exomirkg.sparql.negotiation`), by one rule (:func:`negotiation.negotiate`):
    ``fmt`` (the ``format=`` parameter, or a URL suffix's type such as ``/mir_21.ttl``) wins;
    then the Accept header by q-value, a named type before a wildcard, the client's order on
    ties, synonyms understood (``application/json`` is JSON-LD where graphs are offered); a
    wildcard takes our first offer.

    :param offers: the media types this route can write, its default first.
    :param fmt: a media type or ``format=`` name chosen in the URL.
    :param default: the answer when nothing offered matches (None: the caller answers 406).
    :param absent: the answer when the request has no (or a blank) Accept header.
    :param html: answer ``text/html`` when a browser asks for it by name and no ``fmt`` is
        given (:func:`negotiation.prefers_html`): the machine URLs' page for people.
    :param req: the request to answer (default: the current one; a request without a
        context, as :mod:`exomirkg.web.hotpath` has, is passed here).
    :returns: the chosen media type, or ``default``.
    """
    accept = (request if req is None else req).headers.get("Accept")
    if absent is not None and fmt is None and not (accept or "").strip():
        return absent
    if html and fmt is None and negotiation.prefers_html(accept):
        return "text/html"
    return negotiation.negotiate(accept, offers, fmt) or default


def plain_text(message: str) -> str:
    """The body of a plain-text error: the sentence and one line end."""
    return message.rstrip() + "\n"


def plain_error(status: int, message: str, **headers: str) -> Response:
    """A plain-text error response that says what happened (never a traceback)."""
    response = Response(plain_text(message), status=status, mimetype="text/plain")
    response.headers.update(headers)
    return response


def error_page(status: int, description: str) -> Response:
    """An error on a page for people: HTML for browsers, plain text for other clients.

    (The machine endpoints answer :func:`plain_error` whatever the Accept header.)
    """
    phrase = HTTP_STATUS_CODES[status]
    if choose_media(("text/html", "text/plain"), default="text/plain",
                    absent="text/plain") == "text/html":
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


def _unavailable(error: BackendUnavailable) -> Response:
    """The external engine is down: 503, one readable sentence, and when to retry."""
    log.error("%s", error)
    return plain_error(503, str(error), **{"Retry-After": "5"})


def _timed_out(_error: EngineTimeout) -> Response:
    """A page's query the engine did not finish (or refused as too costly): 503, not 500.

    ``/sparql`` words its own timeout answer; this covers the pages' queries.
    """
    limit = float(current_app.config.get("QUERY_TIMEOUT", 30))
    log.error("the SPARQL engine timed out on a page query")
    return plain_error(
        503, f"the SPARQL engine did not answer this page's query within {limit:g} s "
        "(QUERY_TIMEOUT), or refused it as too costly (Virtuoso: MaxQueryCostEstimationTime); "
        "try again shortly", **{"Retry-After": "5"})


def install(app: Flask) -> None:
    """The app's one set of handlers for query and engine errors, wherever they are raised:
    a refused query gets its status and sentence, an engine that is down or too slow a 503."""
    app.register_error_handler(QueryRefused, _refused)
    app.register_error_handler(BackendUnavailable, _unavailable)
    app.register_error_handler(EngineTimeout, _timed_out)
