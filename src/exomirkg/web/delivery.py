"""How downloads and RDF views are sent: stable bytes, validators, gzip, CORS and Link headers.

Every worker writes the same bytes for the same build (blank nodes relabelled canonically,
statements in a fixed order: :mod:`exomirkg.canonical`), so an ETag taken from the body's
sha256 is the same whichever worker answers, and a client or cache holding it gets
``304 Not Modified``. ``Last-Modified`` is the build time. Werkzeug's
``make_conditional`` does the If-None-Match / If-Modified-Since comparison.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, request

from exomirkg.web.state import get_state

__all__ = ["allow_cross_origin", "allowed_origin", "cors_for_data", "link_header", "send"]

#: Headers a script on another origin may read from a download or an RDF view.
EXPOSED_HEADERS = "ETag, Link, Content-Disposition, X-Checksum-Sha256, X-Data-Version"
#: Let caches keep a copy but ask us (cheaply, by ETag) before each use: a rebuild shows at once.
CACHE_CONTROL = "public, no-cache"


def link_header(links: Sequence[tuple[str, str, str | None]]) -> str:
    """A ``Link`` header value from (target, rel, media type) triples (RFC 8288)."""
    parts = []
    for target, rel, media_type in links:
        part = f'<{target}>; rel="{rel}"'
        if media_type:
            part += f'; type="{media_type}"'
        parts.append(part)
    return ", ".join(parts)


def _built() -> datetime | None:
    built = get_state().info.get("built")
    try:
        return datetime.fromisoformat(str(built)) if built else None
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _allowed_origins(origins: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(o.strip() for o in origins.split(",")) if isinstance(origins, str) else origins


def allowed_origin(config: Mapping[str, Any], origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` that ``CORS_ORIGINS`` grants a request from
    ``origin``: ``*``, the origin itself (the answer then varies by Origin), or None."""
    origins = config.get("CORS_ORIGINS") or ""
    allowed = _allowed_origins(origins if isinstance(origins, str) else tuple(origins))
    if "*" in allowed:
        return "*"
    if origin and origin in allowed:
        return origin
    return None


def allow_cross_origin(response: Response, *, expose: str = EXPOSED_HEADERS,
                       methods: str = "GET, HEAD, OPTIONS",
                       request_headers: str = "Accept, If-None-Match") -> Response:
    """CORS as ``CORS_ORIGINS`` grants it: the one rule for the endpoint, files and RDF views.

    :param expose: response headers a script on another origin may read.
    :param methods: methods a preflight is told are allowed.
    :param request_headers: headers a preflight is told are allowed, when it names none.
    """
    # From the environ: ``headers.get`` raises and catches an exception when it is absent.
    granted = allowed_origin(current_app.config, request.environ.get("HTTP_ORIGIN"))
    if granted is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = granted
    if granted != "*":
        response.vary.add("Origin")
    response.headers["Access-Control-Expose-Headers"] = expose
    if request.method == "OPTIONS":
        # A preflight (for files: If-None-Match is not a CORS-safelisted request header).
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", request_headers)
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def cors_for_data(bp: Blueprint) -> None:
    """CORS on every response of ``bp`` except its HTML pages (which are for people)."""

    @bp.after_request
    def _cors(response: Response) -> Response:
        if response.mimetype == "text/html" and request.method != "OPTIONS":
            return response
        return allow_cross_origin(response)


def send(body: bytes, media_type: str, *, digest: str | None = None,
         gzipped: bytes | None = None, links: Sequence[tuple[str, str, str | None]] = (),
         vary_accept: bool = False) -> Response:
    """A cacheable response: ETag, Last-Modified, 304, gzip when offered and accepted, Link.

    :param digest: the body's sha256 (computed when not given); the ETag.
    :param gzipped: the gzip of ``body``; sent with ``Content-Encoding: gzip`` to clients
        that accept it (the ETag then gets a ``-gzip`` suffix: another representation).
    :param vary_accept: the media type was negotiated from the Accept header.
    """
    digest = digest or hashlib.sha256(body).hexdigest()
    use_gzip = gzipped is not None and request.accept_encodings["gzip"] > 0
    response = Response(gzipped if use_gzip else body, mimetype=media_type)
    if gzipped is not None:
        response.vary.add("Accept-Encoding")
    if use_gzip:
        response.content_encoding = "gzip"
    if vary_accept:
        response.vary.add("Accept")
    response.set_etag(digest + ("-gzip" if use_gzip else ""))
    built = _built()
    if built is not None:
        response.last_modified = built
    response.headers["Cache-Control"] = CACHE_CONTROL
    if links:
        response.headers["Link"] = link_header(links)
    return response.make_conditional(request)
