"""The downloads themselves: the whole dataset, a flat findings table, the SHACL shapes,
the checks and the SSSOM mappings, each made once per app from the loaded store.

Each file is byte-identical in every worker and every run over the same build
(:mod:`exomirkg.canonical`), so ``SHA256SUMS`` verifies whichever worker answered. The views
that send them are in :mod:`exomirkg.web.downloads`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pyoxigraph
import yaml
from rdflib import Graph

from exomirkg import about, paths
from exomirkg.canonical import canonical_triples
from exomirkg.namespaces import BASE, CURIE_PREFIXES, DOI, PREFIXES, SKOS
from exomirkg.release import release_files
from exomirkg.sparql.rdfout import union_triples
from exomirkg.store import plain, to_rdflib
from exomirkg.web.delivery import gzip_bytes, stable_rdf
from exomirkg.web.findings import FindingView, all_findings
from exomirkg.web.graphdata import select
from exomirkg.web.helpers import cached
from exomirkg.web.state import get_state

__all__ = ["CATALOGUE", "Download", "compact", "downloads", "findings_table", "sssom_table"]

#: IRI prefixes -> CURIE prefixes for tables (longest first, so mirbase.mature wins over mirbase).
_CURIES = sorted([(iri, prefix) for prefix, iri in CURIE_PREFIXES.items()]
                 + [(BASE, "ekg"), (str(DOI), "doi")], key=lambda p: -len(p[0]))
#: SSSOM predicate CURIEs of our skos:*Match properties.
_SKOS = str(SKOS)


@dataclass(frozen=True)
class Download:
    """One file offered on /download."""

    name: str
    title: str
    media_type: str
    body: bytes

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @cached_property
    def gzipped(self) -> bytes:
        """The body gzipped once, for clients that send ``Accept-Encoding: gzip``."""
        return gzip_bytes(self.body)

    @property
    def size(self) -> str:
        kib = len(self.body) / 1024
        return f"{kib / 1024:.1f} MB" if kib >= 1024 else f"{kib:.0f} kB"


def compact(iri: str) -> str:
    """An IRI as a CURIE where we know its prefix (``CHEBI:27899``, ``ekg:mir_21``)."""
    for namespace, prefix in _CURIES:
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _dataset(fmt: pyoxigraph.RdfFormat) -> bytes:
    return stable_rdf(get_state().store.quads_for_pattern(None, None, None), fmt)


def _merged(fmt: pyoxigraph.RdfFormat) -> bytes:
    """The union of all graphs as plain triples (duplicates across graphs merged)."""
    return stable_rdf(union_triples(get_state().store), fmt)


def _exact_ids() -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for row in select("sssom"):
        if plain(row["predicate"]) == _SKOS + "exactMatch":
            ids.setdefault(plain(row["subject"]), []).append(compact(plain(row["object"])))
    return ids


#: Columns of the findings table: header -> (finding role(s), what to take).
_TABLE_ROLES = [
    ("source_cell_type", ("source",)), ("mirna", ("mirna",)), ("other_cargo", ("protein", "cargo")),
    ("recipient_cell_type", ("recipient",)), ("cancer_type", ("cancer",)), ("drug", ("drug",)),
    ("effect", ("effect",)), ("downregulated_genes", ("gene_down",)),
    ("upregulated_genes", ("gene_up", "gene")),
    ("pathways", ("pathway_up", "pathway_down", "pathway")), ("mechanisms", ("mechanism",)),
]


def findings_table(findings: list[FindingView], delimiter: str) -> bytes:
    """One row per finding: labels, our IDs, external IDs, DOIs and the retraction flag."""
    ids = _exact_ids()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    header = ["finding_id", "finding_label"]
    for column, _ in _TABLE_ROLES:
        header += [column, f"{column}_id", f"{column}_xref"]
    header += ["stated_in", "references", "reference_dois", "retracted_support", "quote"]
    writer.writerow(header)
    join = " | ".join
    for f in findings:
        row = [compact(f.iri), f.label]
        for _, roles in _TABLE_ROLES:
            mentions = [m for role in roles for m in f.get(role)]
            row += [join(m.label for m in mentions), join(compact(m.iri) for m in mentions),
                    join(x for m in mentions for x in ids.get(m.iri, []))]
        refs = f.get("reference")
        row += [join(m.label for m in f.get("stated_in")), join(m.label for m in refs),
                join(m.doi or "" for m in refs), "true" if f.retracted else "false",
                join(" ".join(q.split()) for q in f.texts.get("quote", []))]
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


#: Column order of the SSSOM table (the spec's order, as sssom-py writes it).
SSSOM_COLUMNS = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                 "mapping_justification"]


def sssom_metadata(version: str, prefixes: dict[str, str]) -> dict[str, object]:
    """The mapping set's metadata block (SSSOM slots), before it is written as YAML."""
    built = str(get_state().info.get("built") or "")
    metadata: dict[str, object] = {
        "curie_map": {prefix: prefixes[prefix] for prefix in sorted(prefixes)},
        "mapping_set_id": about.MAPPING_SET_ID,
        "mapping_set_version": version,
        "mapping_set_title": "exomirkg entities mapped to external ontologies and databases",
        "mapping_set_description": "exomirkg entities mapped to external ontologies and "
                                   "databases (IDs checked against the verified reference "
                                   "table).",
        "license": about.DATA_LICENSE,
        "creator_label": list(about.CREATORS),
        "see_also": [about.REVIEW_IRI],
    }
    if built[:10]:
        metadata["publication_date"] = built[:10]
    return metadata


def sssom_table(version: str) -> bytes:
    """The SSSOM TSV of our entities' skos:*Match mappings, with its metadata block.

    The block is YAML written by PyYAML (which quotes what YAML needs quoted, such as prefix
    IRIs ending in a colon), each line behind ``#`` as the SSSOM TSV format asks.
    """
    prefixes = {"ekg": BASE, "skos": _SKOS, "semapv": "https://w3id.org/semapv/vocab/",
                "doi": str(DOI)}
    rows = select("sssom")
    for row in rows:
        curie = compact(plain(row["object"]))
        prefix = curie.split(":", 1)[0]
        if prefix in CURIE_PREFIXES:
            prefixes[prefix] = CURIE_PREFIXES[prefix]
    header = yaml.safe_dump(sssom_metadata(version, prefixes), sort_keys=False,
                            allow_unicode=True, width=100_000)
    buffer = io.StringIO()
    buffer.writelines("#" + line for line in header.splitlines(keepends=True))
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(SSSOM_COLUMNS)
    for row in rows:
        writer.writerow([compact(plain(row["subject"])), plain(row["subjectLabel"]),
                         "skos:" + plain(row["predicate"]).rsplit("#", 1)[-1],
                         compact(plain(row["object"])), plain(row.get("objectLabel")) or "",
                         "semapv:ManualMappingCuration"])
    return buffer.getvalue().encode("utf-8")


def checks_zip() -> bytes:
    """The ``*-violation.rq`` checks, the other half of the data contract, as one zip.

    Fixed timestamps and order make the same bytes in every worker and run (SHA256SUMS).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(paths.CHECKS_DIR.glob("*-violation.rq")):
            info = zipfile.ZipInfo(f"checks/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def shapes_turtle() -> bytes:
    """Every SHACL shapes file of validation/shapes/ merged into one Turtle document.

    rdflib writes the readable Turtle (property shapes and lists inline), ordering statements
    by blank-node label; parsed labels are random per process, so the blank nodes get their
    RDFC-1.0 labels (pyoxigraph) first.
    """
    triples: list[pyoxigraph.Triple] = []
    for path in sorted(paths.SHAPES_DIR.glob("*.ttl")) if paths.SHAPES_DIR.is_dir() else []:
        triples += pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for triple in canonical_triples(triples):
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate),
                   to_rdflib(triple.object)))
    return graph.serialize(format="turtle").encode("utf-8")


_FILES: list[tuple[str, str, str, Callable[[str], bytes]]] = [
    ("exomirkg.trig", "The whole dataset with its named graphs (TriG)", "application/trig",
     lambda v: _dataset(pyoxigraph.RdfFormat.TRIG)),
    ("exomirkg.jsonld", "The whole dataset with its named graphs (JSON-LD)",
     "application/ld+json", lambda v: _dataset(pyoxigraph.RdfFormat.JSON_LD)),
    ("exomirkg.ttl", "All graphs merged (Turtle)", "text/turtle",
     lambda v: _merged(pyoxigraph.RdfFormat.TURTLE)),
    ("exomirkg.nt", "All graphs merged (N-Triples)", "application/n-triples",
     lambda v: _merged(pyoxigraph.RdfFormat.N_TRIPLES)),
    ("exomirkg.rdf", "All graphs merged (RDF/XML)", "application/rdf+xml",
     lambda v: _merged(pyoxigraph.RdfFormat.RDF_XML)),
    ("exomirkg.owl", "The ontology release: TBox with owl:imports of its import modules "
     "(RDF/XML; also at /releases/<version>/)", "application/rdf+xml",
     lambda v: release_files(get_state().store, v)["exomirkg.owl"]),
    ("exomirkg-full.owl", "The ontology release with its import modules merged (RDF/XML)",
     "application/rdf+xml", lambda v: release_files(get_state().store, v)["exomirkg-full.owl"]),
    ("findings.tsv", "Findings table, one row per finding (TSV)", "text/tab-separated-values",
     lambda v: findings_table(all_findings(), "\t")),
    ("findings.csv", "Findings table, one row per finding (CSV)", "text/csv",
     lambda v: findings_table(all_findings(), ",")),
    ("exomirkg-shapes.ttl", "SHACL shapes (validation/shapes/*.ttl merged)", "text/turtle",
     lambda v: shapes_turtle()),
    ("exomirkg-checks.zip", "Graph checks that go with the shapes (validation/checks/"
     "*-violation.rq; any row is a failure)", "application/zip", lambda v: checks_zip()),
    ("exomirkg.sssom.tsv", "SSSOM mappings to external IDs (skos:*Match)",
     "text/tab-separated-values", sssom_table),
]
#: (name, title, media type) of every download, known without making any of them.
CATALOGUE: list[tuple[str, str, str]] = [(name, title, media) for name, title, media, _ in _FILES]


def downloads() -> dict[str, Download]:
    """Every download, generated once per app from the loaded store."""
    def make_all() -> dict[str, Download]:
        version = str(get_state().info.get("version", ""))
        return {name: Download(name, title, media_type, make(version))
                for name, title, media_type, make in _FILES}

    return cached("downloads", make_all)
