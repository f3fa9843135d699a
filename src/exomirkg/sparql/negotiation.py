"""Content negotiation: one constant map per result kind, and q-value Accept handling.

Modelled on curies' ``mapping_service/utils.py``: the media types we can write, synonyms
clients send, and ``handle_accept`` picking the best offer for an Accept header.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "BOOLEAN_TYPES",
    "FORMAT_PARAMETER",
    "GRAPH_TYPES",
    "SOLUTION_TYPES",
    "handle_accept",
    "parse_accept",
]

#: SELECT results. The first entry is the default with no Accept header: SPARQL JSON, the
#: format browsers' tools (YASGUI, Comunica) and people read most easily; XML stays on offer
#: for federated engines that ask for it.
SOLUTION_TYPES: tuple[str, ...] = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
#: ASK results: the same four (CSV/TSV write one ``_askResult`` column, as Jena does).
BOOLEAN_TYPES: tuple[str, ...] = SOLUTION_TYPES
#: CONSTRUCT/DESCRIBE results (and the Service Description / VoID). Turtle is the default.
GRAPH_TYPES: tuple[str, ...] = (
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
)

#: Other names clients use for the same media types.
CONTENT_TYPE_SYNONYMS: dict[str, str] = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "text/plain": "application/n-triples",
    "application/x-turtle": "text/turtle",
    "application/turtle": "text/turtle",
    "text/n3": "text/turtle",
    "text/rdf+n3": "text/turtle",
    "application/json-ld": "application/ld+json",
    "text/tsv": "text/tab-separated-values",
}
#: Graph-side reading of the generic XML and JSON types.
_GRAPH_SYNONYMS: dict[str, str] = {
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "application/json": "application/ld+json",
}

#: Values of the ``format=`` parameter (SPARQLWrapper and Virtuoso style) -> media type.
FORMAT_PARAMETER: dict[str, str] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "n3": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "n-triples": "application/n-triples",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "json-ld": "application/ld+json",
    "jsonld": "application/ld+json",
}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Split an Accept header into (media range, q) pairs, best first, q=0 dropped.

    >>> parse_accept("text/csv;q=0.5, application/sparql-results+json")
    [('application/sparql-results+json', 1.0), ('text/csv', 0.5)]
    """
    ranges: list[tuple[str, float, int]] = []
    for index, part in enumerate((header or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            # Specific ranges beat wildcards at equal q (RFC 9110 precedence).
            ranges.append((media, q, index + (1000 if "*" in media else 0)))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(media, q) for media, q, _ in ranges]


def _canonical(media: str, offers: Sequence[str]) -> str:
    if media in offers:
        return media
    if offers and offers[0] in GRAPH_TYPES and media in _GRAPH_SYNONYMS:
        return _GRAPH_SYNONYMS[media]
    return CONTENT_TYPE_SYNONYMS.get(media, media)


def handle_accept(header: str | None, offers: Sequence[str]) -> str | None:
    """Pick the offered media type the Accept header likes best.

    :param header: the Accept header; missing or empty means the first offer (the default).
    :param offers: the media types we can write, default first.
    :returns: the chosen media type, or None when nothing offered is acceptable (406).

    >>> handle_accept("text/csv;q=0.9, application/sparql-results+xml", SOLUTION_TYPES)
    'application/sparql-results+xml'
    >>> handle_accept("*/*", GRAPH_TYPES)
    'text/turtle'
    >>> handle_accept("image/png", GRAPH_TYPES) is None
    True
    """
    if not header or not header.strip():
        return offers[0]
    if len(header) <= 512 and isinstance(offers, tuple):
        # Clients send the same few headers again and again (bounded, so memory stays small).
        return _best_offer_cached(header, offers)
    return _best_offer(header, offers)


@lru_cache(maxsize=512)
def _best_offer_cached(header: str, offers: tuple[str, ...]) -> str | None:
    return _best_offer(header, offers)


def _best_offer(header: str, offers: Sequence[str]) -> str | None:
    for media, _q in parse_accept(header):
        if media == "*/*":
            return offers[0]
        if media.endswith("/*"):
            family = media[:-1]
            for offer in offers:
                if offer.startswith(family):
                    return offer
            continue
        chosen = _canonical(media, offers)
        if chosen in offers:
            return chosen
    return None
