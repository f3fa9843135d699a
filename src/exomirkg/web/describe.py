"""The SPARQL 1.1 Service Description (on GET /sparql) and the VoID description.

Both state only what the server really does: the result formats it writes, the named
graphs it holds, its limits, no federation, no update; and what the data is: its licence,
creators, description and source (:mod:`exomirkg.about`). Triple counts are of distinct
triples (a triple asserted in two graphs is one triple of the union). Blank nodes carry
fixed labels, so every worker writes the same bytes. The schema.org ``Dataset`` of the
landing page is made here too, from the same facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyoxigraph
from flask import current_app, request, url_for

from exomirkg import about
from exomirkg.namespaces import (
    BASE,
    DCTERMS,
    FOAF,
    FORMATS,
    OWL,
    PREFIXES,
    RDF,
    RDFS,
    SCHEMA,
    SD,
    VOID,
    XSD,
)
from exomirkg.sparql.negotiation import FORMAT_IRIS, GRAPH_FORMATS, GRAPH_TYPES, SOLUTION_TYPES
from exomirkg.sparql.rdfout import write_rdf
from exomirkg.web.helpers import cached
from exomirkg.web.state import get_state

__all__ = ["SERVICE_TERMS", "schema_org_dataset", "service_description", "service_vocabulary",
           "void_description"]

_RDF = str(RDF)
_RDFS = str(RDFS)
_SD = str(SD)
_VOID = str(VOID)
_FORMATS = str(FORMATS)
_DCTERMS = str(DCTERMS)
_XSD = str(XSD)
_FOAF = str(FOAF)
_OWL = str(OWL)
#: Terms for the limits, which SD has no words for.
_SERVICE_NS = about.SERVICE_NS
#: The dataset's IRI in VoID.
DATASET_IRI = about.DATASET_IRI
#: The service vocabulary (served at /service): local name -> (label, definition, range).
SERVICE_TERMS: dict[str, tuple[str, str, str]] = {
    "queryTimeoutSeconds": (
        "query time limit (seconds)",
        "Seconds a query may take, counted from its arrival (waiting for a query process "
        "included); a query still running then is stopped and answered with 503.",
        _XSD + "decimal"),
    "resultRowCap": (
        "result row cap",
        "Most rows (or triples) an answer holds; a longer answer is cut and flagged with an "
        "X-Exomirkg-Truncated header. Absent when answers are complete.",
        _XSD + "integer"),
    "requestBodyCap": (
        "request body cap (bytes)",
        "Largest request body accepted; a longer one is refused with 413.",
        _XSD + "integer"),
}

#: Downloads served by the pages blueprint, relative to the site root.
DUMPS = ("download/exomirkg.trig", "download/exomirkg.nt")


def _n(iri: str) -> pyoxigraph.NamedNode:
    return pyoxigraph.NamedNode(iri)


def _int(value: int) -> pyoxigraph.Literal:
    return pyoxigraph.Literal(str(value), datatype=_n(_XSD + "integer"))


def _serialize(triples: list[pyoxigraph.Triple], media: str) -> bytes:
    prefixes = {**PREFIXES, "sd": _SD, "void": _VOID, "formats": _FORMATS,
                "service": _SERVICE_NS, "foaf": _FOAF}
    return write_rdf(triples, GRAPH_FORMATS[media], prefixes)


def _about(subject: pyoxigraph.NamedNode | pyoxigraph.BlankNode) -> Iterator[pyoxigraph.Triple]:
    """Licence, creators, description and source of the data, said of ``subject``."""

    def t(s, p: str, o) -> pyoxigraph.Triple:
        return pyoxigraph.Triple(s, _n(p), o)

    yield t(subject, _DCTERMS + "description", pyoxigraph.Literal(about.DESCRIPTION,
                                                                  language="en"))
    yield t(subject, _DCTERMS + "license", _n(about.DATA_LICENSE))
    yield t(subject, _DCTERMS + "source", _n(about.REVIEW_IRI))
    for index, name in enumerate(about.CREATORS):
        creator = pyoxigraph.BlankNode(f"creator{index}")
        yield t(subject, _DCTERMS + "creator", creator)
        yield t(creator, _RDF + "type", _n(_FOAF + "Organization"))
        yield t(creator, _FOAF + "name", pyoxigraph.Literal(name))
    yield t(_n(about.REVIEW_IRI), _DCTERMS + "bibliographicCitation",
            pyoxigraph.Literal(about.REVIEW_CITATION))


def distinct_triples() -> int:
    """Triples of the union of all graphs, each counted once (what the merged dump holds)."""
    query = ("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
             "{ GRAPH ?g { ?s ?p ?o } } }")
    return cached("distinct_triples",
                  lambda: int(next(iter(get_state().store.query(query)))[0].value))


def _graph_sizes() -> dict[str, int]:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    return cached("graph_sizes", lambda: {row["g"].value: int(row["n"].value)
                                          for row in get_state().store.query(query)})


def service_description(media: str) -> bytes:
    """The SD graph of this endpoint, serialised as ``media``."""
    config = current_app.config
    endpoint = _n(request.base_url)
    sd = _SD
    out: list[pyoxigraph.Triple] = []

    def add(s, p: str, o) -> None:
        out.append(pyoxigraph.Triple(s, _n(p), o))

    add(endpoint, _RDF + "type", _n(sd + "Service"))
    add(endpoint, sd + "endpoint", endpoint)
    add(endpoint, sd + "supportedLanguage", _n(sd + "SPARQL11Query"))
    add(endpoint, sd + "feature", _n(sd + "UnionDefaultGraph"))
    for media_type in (*SOLUTION_TYPES, *GRAPH_TYPES):
        add(endpoint, sd + "resultFormat", _n(FORMAT_IRIS[media_type]))
    cap = int(config["ROW_CAP"] or 0)
    cap_note = (f"results are cut at {cap} rows with an X-Exomirkg-Truncated header" if cap
                else "answers are complete (no row cap)")
    add(endpoint, _RDFS + "comment", pyoxigraph.Literal(
        "Read-only: SPARQL Update and LOAD are refused. SERVICE is refused (no outbound "
        "requests). Graph IRIs in FROM, FROM NAMED, default-graph-uri and named-graph-uri "
        "select graphs held here; unknown IRIs are empty graphs, never fetched. "
        f"Queries stop after {float(config['QUERY_TIMEOUT']):g} s; {cap_note}; request "
        f"bodies above {int(config['BODY_CAP'])} bytes are refused.", language="en"))
    add(endpoint, _SERVICE_NS + "queryTimeoutSeconds",
        pyoxigraph.Literal(f"{float(config['QUERY_TIMEOUT']):g}", datatype=_n(_XSD + "decimal")))
    if cap:
        add(endpoint, _SERVICE_NS + "resultRowCap", _int(cap))
    add(endpoint, _SERVICE_NS + "requestBodyCap", _int(int(config["BODY_CAP"])))
    dataset = pyoxigraph.BlankNode("dataset")
    add(endpoint, sd + "defaultDataset", dataset)
    add(dataset, _RDF + "type", _n(sd + "Dataset"))
    out.extend(_about(dataset))
    add(dataset, _RDFS + "seeAlso", _n(DATASET_IRI))
    default = pyoxigraph.BlankNode("default")
    add(dataset, sd + "defaultGraph", default)
    add(default, _RDF + "type", _n(sd + "Graph"))
    add(default, _VOID + "triples", _int(distinct_triples()))
    for index, (name, size) in enumerate(sorted(_graph_sizes().items())):
        named = pyoxigraph.BlankNode(f"named{index}")
        graph = pyoxigraph.BlankNode(f"graph{index}")
        add(dataset, sd + "namedGraph", named)
        add(named, _RDF + "type", _n(sd + "NamedGraph"))
        add(named, sd + "name", _n(name))
        add(named, sd + "graph", graph)
        add(graph, _RDF + "type", _n(sd + "Graph"))
        add(graph, _VOID + "triples", _int(size))
    return _serialize(out, media)


def _void_stats() -> dict[str, object]:
    return cached("void_stats", _count_void_stats)


def _count_void_stats() -> dict[str, object]:
    store = get_state().store

    def one(query: str) -> int:
        row = next(iter(store.query(query, use_default_graph_as_union=True)))
        return int(row[0].value)

    stats = {
        "classes": one("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"),
        "properties": one("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }"),
        "subjects": one("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"),
        "objects": one("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"),
        "class_partitions": [
            (row["c"].value, int(row["n"].value)) for row in store.query(
                "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) } "
                "GROUP BY ?c ORDER BY ?c", use_default_graph_as_union=True)],
        "property_partitions": [
            (row["p"].value, int(row["n"].value)) for row in store.query(
                "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p",
                use_default_graph_as_union=True)],
    }
    return stats


def _void_triples() -> Iterator[pyoxigraph.Triple]:
    state = get_state()
    stats = _void_stats()
    root = request.url_root
    ds = _n(DATASET_IRI)

    def t(s, p: str, o) -> pyoxigraph.Triple:
        return pyoxigraph.Triple(s, _n(p), o)

    yield t(ds, _RDF + "type", _n(_VOID + "Dataset"))
    yield t(ds, _DCTERMS + "title", pyoxigraph.Literal("exomirkg", language="en"))
    yield from _about(ds)
    yield t(ds, _FOAF + "homepage", _n(root))
    if state.info.get("version"):
        yield t(ds, _DCTERMS + "hasVersion", pyoxigraph.Literal(str(state.info["version"])))
    if state.info.get("built"):
        yield t(ds, _DCTERMS + "modified", pyoxigraph.Literal(
            str(state.info["built"]), datatype=_n(_XSD + "dateTime")))
    yield t(ds, _VOID + "sparqlEndpoint", _n(root + "sparql"))
    for dump in DUMPS:
        yield t(ds, _VOID + "dataDump", _n(root + dump))
    yield t(ds, _VOID + "uriSpace", pyoxigraph.Literal(BASE))
    yield t(ds, _VOID + "triples", _int(distinct_triples()))
    yield t(ds, _VOID + "classes", _int(int(stats["classes"])))
    yield t(ds, _VOID + "properties", _int(int(stats["properties"])))
    yield t(ds, _VOID + "distinctSubjects", _int(int(stats["subjects"])))
    yield t(ds, _VOID + "distinctObjects", _int(int(stats["objects"])))
    for index, (cls, count) in enumerate(stats["class_partitions"]):  # type: ignore[arg-type]
        part = pyoxigraph.BlankNode(f"class{index}")
        yield t(ds, _VOID + "classPartition", part)
        yield t(part, _VOID + "class", _n(cls))
        yield t(part, _VOID + "entities", _int(count))
    for index, (prop, count) in enumerate(stats["property_partitions"]):  # type: ignore[arg-type]
        part = pyoxigraph.BlankNode(f"property{index}")
        yield t(ds, _VOID + "propertyPartition", part)
        yield t(part, _VOID + "property", _n(prop))
        yield t(part, _VOID + "triples", _int(count))
    for name, size in sorted(_graph_sizes().items()):
        # Each named graph is a subset; its graph IRI doubles as the subset's IRI.
        yield t(ds, _VOID + "subset", _n(name))
        yield t(_n(name), _RDF + "type", _n(_VOID + "Dataset"))
        yield t(_n(name), _VOID + "triples", _int(size))
        yield t(_n(name), _VOID + "sparqlEndpoint", _n(root + "sparql"))


def void_description(media: str) -> bytes:
    """The VoID graph of the dataset, serialised as ``media``."""
    return _serialize(list(_void_triples()), media)


def service_vocabulary(media: str) -> bytes:
    """The terms of :data:`SERVICE_TERMS` as RDF properties, serialised as ``media``."""
    document = _n(_SERVICE_NS.rstrip("#"))
    out = [pyoxigraph.Triple(document, _n(_RDF + "type"), _n(_OWL + "Ontology")),
           pyoxigraph.Triple(document, _n(_RDFS + "label"), pyoxigraph.Literal(
               "exomirkg service limits", language="en"))]
    for local, (label, definition, value_range) in SERVICE_TERMS.items():
        term = _n(_SERVICE_NS + local)
        for predicate, value in (
                (_RDF + "type", _n(_OWL + "DatatypeProperty")),
                (_RDFS + "label", pyoxigraph.Literal(label, language="en")),
                (_RDFS + "comment", pyoxigraph.Literal(definition, language="en")),
                (_RDFS + "domain", _n(_SD + "Service")), (_RDFS + "range", _n(value_range)),
                (_RDFS + "isDefinedBy", document)):
            out.append(pyoxigraph.Triple(term, _n(predicate), value))
    return _serialize(out, media)


#: schema.org properties whose values are IRIs (``"@type": "@id"`` in schema.org's context).
_SCHEMA_IRI_TERMS = ("url", "license", "contentUrl", "dct:conformsTo")


def schema_org_dataset(downloads: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The schema.org ``Dataset`` (Bioschemas Dataset profile) for the landing page's JSON-LD.

    Its context is inline (``@vocab`` plus the IRI-valued properties schema.org's own context
    declares as ``@id``), so JSON-LD processors read it without fetching schema.org's context
    over the network, and the body keeps the plain strings search engines expect.

    :param downloads: (file name, title, media type) of each download.
    """
    info = get_state().info
    root = request.url_root
    dataset: dict[str, Any] = {
        "@context": {"@vocab": str(SCHEMA), "dct": _DCTERMS,
                     **{term: {"@type": "@id"} for term in _SCHEMA_IRI_TERMS}},
        "@type": "Dataset",
        "@id": DATASET_IRI,
        "dct:conformsTo": "https://bioschemas.org/profiles/Dataset/1.0-RELEASE",
        "name": about.TITLE,
        "description": about.DESCRIPTION,
        "identifier": DATASET_IRI,
        "url": root,
        "keywords": list(about.KEYWORDS),
        "license": about.DATA_LICENSE,
        "creator": [{"@type": "Organization", "name": name} for name in about.CREATORS],
        "isBasedOn": {"@id": about.REVIEW_IRI, "@type": "ScholarlyArticle",
                      "name": about.REVIEW_CITATION},
        "citation": {"@id": about.REVIEW_IRI},
        "isAccessibleForFree": True,
        "distribution": [
            {"@type": "DataDownload", "name": title, "encodingFormat": media,
             "contentUrl": url_for("pages.downloads.file", name=name, _external=True)}
            for name, title, media in downloads],
    }
    if info.get("version"):
        dataset["version"] = str(info["version"])
    if info.get("built"):
        dataset["dateModified"] = str(info["built"])
    return dataset
