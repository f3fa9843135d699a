"""Content negotiation: the one table of media types we write, and q-value Accept handling.

Modelled on curies' ``mapping_service/utils.py`` and rdflib-endpoint's ``utils.py``: the media
types we can write (:data:`MEDIA_TYPES`, from which every other list or map of media types is
derived), synonyms clients send, and ``handle_accept`` picking the best offer for an Accept
header. :func:`negotiate` adds the ``format=`` parameter on top; :func:`prefers_html` tells a
browser from an RDF or SPARQL client at the machine URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pyoxigraph

from exomirkg.namespaces import FORMATS

__all__ = [
    "BOOLEAN_TYPES",
    "DATASET_FORMATS",
    "DATASET_TYPES",
    "FORMAT_IRIS",
    "FORMAT_PARAMETER",
    "GRAPH_FORMATS",
    "GRAPH_TYPES",
    "MEDIA_TYPES",
    "MediaType",
    "SOLUTION_FORMATS",
    "SOLUTION_TYPES",
    "SUFFIX_MEDIA_TYPES",
    "MediaKind",
    "handle_accept",
    "negotiate",
    "parse_accept",
    "prefers_html",
    "rdf_format",
]

#: What a media type carries: SPARQL solutions, one graph (triples), or a dataset (quads).
MediaKind = Literal["solutions", "graph", "dataset"]
_W3C_FORMATS = str(FORMATS)


@dataclass(frozen=True)
class MediaType:
    """One media type we write: what it carries, pyoxigraph's format, its W3C format IRI."""

    name: str
    kind: MediaKind
    #: pyoxigraph's writer: a ``QueryResultsFormat`` for solutions, an ``RdfFormat`` otherwise.
    writer: pyoxigraph.QueryResultsFormat | pyoxigraph.RdfFormat
    #: http://www.w3.org/ns/formats/ name (Service Description ``sd:resultFormat``).
    format_iri: str
    #: URL suffix picking this type on entity views and naming download files ("" if none).
    suffix: str = ""


#: THE table of media types: every other list or map of media types is derived from it. Per
#: kind, the first entry is the default with no Accept header: SPARQL JSON for solutions (what
#: YASGUI, Comunica and people read most easily; XML stays for federated engines), Turtle for
#: graphs, TriG for datasets.
MEDIA_TYPES: tuple[MediaType, ...] = (
    MediaType("application/sparql-results+json", "solutions",
              pyoxigraph.QueryResultsFormat.JSON, _W3C_FORMATS + "SPARQL_Results_JSON"),
    MediaType("application/sparql-results+xml", "solutions",
              pyoxigraph.QueryResultsFormat.XML, _W3C_FORMATS + "SPARQL_Results_XML"),
    MediaType("text/csv", "solutions", pyoxigraph.QueryResultsFormat.CSV,
              _W3C_FORMATS + "SPARQL_Results_CSV"),
    MediaType("text/tab-separated-values", "solutions", pyoxigraph.QueryResultsFormat.TSV,
              _W3C_FORMATS + "SPARQL_Results_TSV"),
    MediaType("text/turtle", "graph", pyoxigraph.RdfFormat.TURTLE, _W3C_FORMATS + "Turtle",
              ".ttl"),
    MediaType("application/n-triples", "graph", pyoxigraph.RdfFormat.N_TRIPLES,
              _W3C_FORMATS + "N-Triples", ".nt"),
    MediaType("application/rdf+xml", "graph", pyoxigraph.RdfFormat.RDF_XML,
              _W3C_FORMATS + "RDF_XML", ".rdf"),
    MediaType("application/ld+json", "graph", pyoxigraph.RdfFormat.JSON_LD,
              _W3C_FORMATS + "JSON-LD", ".jsonld"),
    MediaType("application/trig", "dataset", pyoxigraph.RdfFormat.TRIG, _W3C_FORMATS + "TriG",
              ".trig"),
    MediaType("application/n-quads", "dataset", pyoxigraph.RdfFormat.N_QUADS,
              _W3C_FORMATS + "N-Quads", ".nq"),
)
_BY_NAME: dict[str, MediaType] = {m.name: m for m in MEDIA_TYPES}


def _names(kind: MediaKind) -> tuple[str, ...]:
    return tuple(m.name for m in MEDIA_TYPES if m.kind == kind)


#: SELECT results, default first.
SOLUTION_TYPES: tuple[str, ...] = _names("solutions")
#: ASK results: the same four (CSV/TSV write one ``_askResult`` column, as Jena does).
BOOLEAN_TYPES: tuple[str, ...] = SOLUTION_TYPES
#: One graph: CONSTRUCT/DESCRIBE results, the Service Description / VoID, the ontology, entity
#: views, a graph of /store. Turtle is the default.
GRAPH_TYPES: tuple[str, ...] = _names("graph")
#: The whole dataset with its named graphs (/store with no graph); TriG is the default.
DATASET_TYPES: tuple[str, ...] = _names("dataset")
#: Media type -> pyoxigraph's query results format.
SOLUTION_FORMATS: dict[str, pyoxigraph.QueryResultsFormat] = {
    m.name: m.writer for m in MEDIA_TYPES if isinstance(m.writer, pyoxigraph.QueryResultsFormat)}
#: Media type -> pyoxigraph's RDF format, for one graph.
GRAPH_FORMATS: dict[str, pyoxigraph.RdfFormat] = {
    m.name: m.writer for m in MEDIA_TYPES if m.kind == "graph"}  # type: ignore[misc]
#: Media type -> pyoxigraph's RDF format, for a dataset.
DATASET_FORMATS: dict[str, pyoxigraph.RdfFormat] = {
    m.name: m.writer for m in MEDIA_TYPES if m.kind == "dataset"}  # type: ignore[misc]
#: Media type -> W3C format IRI (http://www.w3.org/ns/formats/).
FORMAT_IRIS: dict[str, str] = {m.name: m.format_iri for m in MEDIA_TYPES}
#: URL suffixes that pick a graph media type without an Accept header (``/mir_21.ttl``).
SUFFIX_MEDIA_TYPES: dict[str, str] = {m.suffix: m.name for m in MEDIA_TYPES
                                      if m.kind == "graph" and m.suffix}


def rdf_format(media: str) -> pyoxigraph.RdfFormat:
    """pyoxigraph's RDF format of a graph or dataset media type (parameters ignored).

    >>> rdf_format("application/rdf+xml; charset=utf-8")
    <RdfFormat RDF/XML>

    :raises KeyError: for a media type that is not RDF.
    """
    writer = _BY_NAME[media.split(";")[0].strip().lower()].writer
    if not isinstance(writer, pyoxigraph.RdfFormat):
        raise KeyError(media)
    return writer


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
    # Where graphs and no solutions are offered (an entity page and its RDF views included),
    # generic JSON and XML mean JSON-LD and RDF/XML.
    if media in _GRAPH_SYNONYMS and any(o in GRAPH_TYPES for o in offers) \
            and not any(o in SOLUTION_TYPES for o in offers):
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


#: ``format=`` names that mean SPARQL results, read as their graph counterparts when only graphs
#: can be written (``format=json`` on a CONSTRUCT is JSON-LD, as Virtuoso reads it).
_GRAPH_FORMAT_PARAMETER: dict[str, str] = {
    "application/sparql-results+xml": "application/rdf+xml",
    "application/sparql-results+json": "application/ld+json",
}


def negotiate(accept: str | None, offers: Sequence[str], fmt: str | None = None) -> str | None:
    """The SPARQL protocol's choice: ``format=`` (a short name or a media type) wins over the
    Accept header, which is read with q-values (:func:`handle_accept`).

    :param accept: the Accept header.
    :param offers: the media types we can write, default first.
    :param fmt: the ``format=`` (or ``output=``) parameter, if given and not empty.
    :returns: the chosen media type, or None when nothing offered is acceptable (406).

    >>> negotiate(None, GRAPH_TYPES, "json")
    'application/ld+json'
    >>> negotiate("text/csv", SOLUTION_TYPES, "xml")
    'application/sparql-results+xml'
    >>> negotiate("image/png", SOLUTION_TYPES) is None
    True
    """
    if fmt:
        wanted = FORMAT_PARAMETER.get(fmt.lower(), fmt.lower())
        if tuple(offers) == GRAPH_TYPES:
            wanted = _GRAPH_FORMAT_PARAMETER.get(wanted, wanted)
        return handle_accept(wanted, offers)
    return handle_accept(accept, offers)


#: Media types of a page for people.
_HTML = {"text/html", "application/xhtml+xml"}


def prefers_html(accept: str | None) -> bool:
    """True when a browser asks: ``text/html`` named, and no other named type preferred.

    RDF and SPARQL clients keep their answers at the machine URLs (``/sparql``,
    ``/queries/<name>``): a wildcard alone (``*/*``, curl's and most libraries' default) never
    counts, and neither does no Accept header, as the SPARQL protocol's tests ask.

    >>> prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    True
    >>> prefers_html(None), prefers_html("*/*"), prefers_html("text/turtle, text/html;q=0.5")
    (False, False, False)
    """
    ranges = parse_accept(accept)
    html = max((q for media, q in ranges if media in _HTML), default=0.0)
    other = max((q for media, q in ranges if media not in _HTML and "*" not in media),
                default=0.0)
    return html > 0 and html >= other
