"""RDF namespaces and named-graph IRIs used across the project (one place, like Brick)."""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

__all__ = [
    "FOAF",
    "FORMATS",
    "SCHEMA",
    "SD",
    "SPARQL_RESULTS",
    "VOID",
    "CURIE_PREFIXES",
    "curie_to_iri",
    "BASE",
    "DCTERMS",
    "DOI",
    "EKG",
    "GRAPH",
    "GRAPH_INFERRED",
    "GRAPH_ONTOLOGY",
    "GRAPH_REVIEW",
    "IAO_DEFINITION",
    "IDORG",
    "OBO",
    "OBOINOWL",
    "ONTOLOGY",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "REASONER_GRAPHS",
    "GRAPH_STATEMENTS",
    "SH",
    "SKOS",
    "XSD",
    "entity_graph",
    "local_name",
    "import_graph",
    "import_module_iri",
    "release_iri",
    "section_graph",
]

#: The project's one namespace; ends in "/" on purpose (owlready2 note on # vs /).
BASE = "https://w3id.org/exomirkg/"
EKG = Namespace(BASE)
OBO = Namespace("http://purl.obolibrary.org/obo/")
OBOINOWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
#: identifiers.org resolver, used for miRBase, HGNC, Reactome, MeSH, Cellosaurus, ...
IDORG = Namespace("https://identifiers.org/")
DOI = Namespace("https://doi.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")
#: Vocabularies the endpoint describes itself with (Service Description, VoID, W3C format
#: IRIs, SPARQL results XML, FOAF).
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
SPARQL_RESULTS = Namespace("http://www.w3.org/2005/sparql-results#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SCHEMA = Namespace("https://schema.org/")
#: IAO:0000115 "definition": the definition property OBO tools (ROBOT, OLS) read.
IAO_DEFINITION = URIRef(OBO["IAO_0000115"])

#: The ontology (the TBox of ontology/exomirkg-edit.ttl); its documentation is at /ontology.
ONTOLOGY = URIRef(BASE + "ontology")

#: Named graphs: one per source file, plus the reasoner's output.
GRAPH = Namespace(BASE + "graph/")
GRAPH_ONTOLOGY = URIRef(GRAPH["ontology"])
GRAPH_REVIEW = URIRef(GRAPH["review"])
GRAPH_INFERRED = URIRef(GRAPH["inferred"])
#: The reasoner's working graphs (its statements, a step's candidates) begin so; they live in
#: the build's store only while it reasons and validates.
REASONER_GRAPHS = "urn:exomirkg:reasoner:"
#: The asserted graphs' union, in one graph: what the checks of scope ``asserted`` read while
#: the build validates, and the incremental reasoning's statements. pyoxigraph evaluates a
#: query over many graphs named as the default graph several times slower than over their
#: union in one (at 10^6 triples in 100 section files, 27 s against 4 s for those checks).
GRAPH_STATEMENTS = REASONER_GRAPHS + "statements"


def section_graph(stem: str) -> URIRef:
    """Return the named graph of a section file.

    ``s2-2-caf-mirnas`` -> ``graph/section/2-2``; a stem not of the ``s<N>-`` form
    (``abstract``, ``table-1``) names its own graph: ``graph/section/table-1``.

    :param stem: the file name without ``.ttl``.
    :returns: the graph IRI.
    """
    match = re.match(r"s(\d+(?:-\d+)*)(?:-|$)", stem)
    label = match.group(1) if match else stem
    return URIRef(GRAPH[f"section/{label}"])


def entity_graph(kind: str) -> URIRef:
    """Return the named graph of an entity file, e.g. ``drugs`` -> ``graph/entities/drugs``."""
    return URIRef(GRAPH[f"entities/{kind}"])


def import_graph(source: str) -> URIRef:
    """Return the named graph of an import module, e.g. ``chebi`` -> ``graph/imports/chebi``."""
    return URIRef(GRAPH[f"imports/{source}"])


def import_module_iri(source: str) -> URIRef:
    """The ontology IRI of an import module, e.g. ``chebi`` -> ``ontology/imports/chebi_import``;
    the ontology's ``owl:imports`` name these."""
    return URIRef(f"{BASE}ontology/imports/{source}_import")


def release_iri(version: str, name: str = "ontology") -> URIRef:
    """A versioned release IRI: ``releases/0.1.0/ontology`` (the ontology's ``owl:versionIRI``)
    or ``releases/0.1.0/exomirkg.owl`` (a release file)."""
    return URIRef(f"{BASE}releases/{version}/{name}")


#: Prefixes bound in every graph we write or serve.
PREFIXES: dict[str, str] = {
    "ekg": BASE,
    "obo": str(OBO),
    "oboInOwl": str(OBOINOWL),
    "owl": str(OWL),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "xsd": str(XSD),
    "sh": str(SH),
}

#: CURIE prefixes of entities.tsv (bioregistry spelling) -> IRI prefixes. OBO ontologies use
#: their PURLs; the rest resolve through identifiers.org.
CURIE_PREFIXES: dict[str, str] = {
    "CHEBI": str(OBO) + "CHEBI_",
    "CL": str(OBO) + "CL_",
    "GO": str(OBO) + "GO_",
    "DOID": str(OBO) + "DOID_",
    "MONDO": str(OBO) + "MONDO_",
    "RO": str(OBO) + "RO_",
    "ECO": str(OBO) + "ECO_",
    "IAO": str(OBO) + "IAO_",
    "SO": str(OBO) + "SO_",
    "HGNC": str(IDORG) + "hgnc:",
    "NCBIGene": str(IDORG) + "ncbigene:",
    "mirbase": str(IDORG) + "mirbase:",
    "mirbase.mature": str(IDORG) + "mirbase.mature:",
    "mesh": str(IDORG) + "mesh:",
    "reactome": str(IDORG) + "reactome:",
    "drugbank": str(IDORG) + "drugbank:",
    "cellosaurus": str(IDORG) + "cellosaurus:CVCL_",
}


def curie_to_iri(curie: str) -> URIRef:
    """Expand a CURIE of the reference table to its IRI.

    >>> str(curie_to_iri("CHEBI:27899"))
    'http://purl.obolibrary.org/obo/CHEBI_27899'
    >>> str(curie_to_iri("cellosaurus:0031"))
    'https://identifiers.org/cellosaurus:CVCL_0031'

    :raises ValueError: for a prefix not in :data:`CURIE_PREFIXES`.
    """
    prefix, _, local = curie.partition(":")
    if prefix not in CURIE_PREFIXES or not local:
        raise ValueError(f"unknown CURIE prefix in {curie!r}; known: {sorted(CURIE_PREFIXES)}")
    return URIRef(CURIE_PREFIXES[prefix] + local)


def local_name(iri: str) -> str | None:
    """The path of an IRI of our namespace on this server, or None for external IRIs."""
    return iri[len(BASE):] if iri.startswith(BASE) else None
