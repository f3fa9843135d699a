"""The downloads: the whole dataset, a flat findings table, the SHACL shapes, the checks and
the SSSOM mappings, made from a built store.

Each file is byte-identical in every process and run over the same build
(:mod:`exomirkg.canonical`), so ``SHA256SUMS`` verifies whichever server process answered.
The web app serves them (:mod:`exomirkg.web.downloads`); nothing here needs Flask.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph
import yaml
from rdflib import Graph

from exomirkg import about, paths
from exomirkg.canonical import canonical_triples, gzip_bytes, stable_rdf
from exomirkg.evidence import FindingView, assemble_findings
from exomirkg.namespaces import BASE, CURIE_PREFIXES, DOI, PREFIXES, SKOS
from exomirkg.release import release_files
from exomirkg.sparql.rdfout import union_triples
from exomirkg.store import Row, plain, select_rows, to_rdflib

__all__ = ["CATALOGUE", "SSSOM_COLUMNS", "Download", "compact", "exact_ids", "findings_table",
           "make_downloads", "sssom_metadata", "sssom_table"]

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


def _page_rows(store: pyoxigraph.Store, layout: paths.DataLayout, name: str) -> list[Row]:
    text = (layout.page_queries_dir / f"{name}.rq").read_text(encoding="utf-8")
    return select_rows(store, text)


def exact_ids(sssom_rows: list[Row]) -> dict[str, list[str]]:
    """Entity IRI -> the CURIEs of its skos:exactMatch IDs (rows of ``sssom.rq``)."""
    ids: dict[str, list[str]] = {}
    for row in sssom_rows:
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


def findings_table(findings: list[FindingView], delimiter: str,
                   ids: Mapping[str, list[str]]) -> bytes:
    """One row per finding: labels, our IDs, external IDs, DOIs and the retraction flag.

    :param ids: entity IRI -> its exact-match CURIEs (:func:`exact_ids`).
    """
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


def sssom_metadata(version: str, prefixes: dict[str, str], built: str = "") -> dict[str, object]:
    """The mapping set's metadata block (SSSOM slots), before it is written as YAML.

    :param built: the build time (ISO 8601); its date is the publication date.
    """
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


def sssom_table(rows: list[Row], version: str, built: str = "") -> bytes:
    """The SSSOM TSV of our entities' skos:*Match mappings, with its metadata block.

    The block is YAML written by PyYAML (which quotes what YAML needs quoted, such as prefix
    IRIs ending in a colon), each line behind ``#`` as the SSSOM TSV format asks.

    :param rows: the rows of ``server/pages/sssom.rq``.
    """
    prefixes = {"ekg": BASE, "skos": _SKOS, "semapv": "https://w3id.org/semapv/vocab/",
                "doi": str(DOI)}
    for row in rows:
        curie = compact(plain(row["object"]))
        prefix = curie.split(":", 1)[0]
        if prefix in CURIE_PREFIXES:
            prefixes[prefix] = CURIE_PREFIXES[prefix]
    header = yaml.safe_dump(sssom_metadata(version, prefixes, built), sort_keys=False,
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


def checks_zip(checks_dir: Path) -> bytes:
    """The ``*-violation.rq`` checks, the other half of the data contract, as one zip.

    Fixed timestamps and order make the same bytes in every worker and run (SHA256SUMS).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(checks_dir.glob("*-violation.rq")):
            info = zipfile.ZipInfo(f"checks/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def shapes_turtle(shapes_dir: Path) -> bytes:
    """Every SHACL shapes file of validation/shapes/ merged into one Turtle document.

    rdflib writes the readable Turtle (property shapes and lists inline), ordering statements
    by blank-node label; parsed labels are random per process, so the blank nodes get their
    RDFC-1.0 labels (pyoxigraph) first.
    """
    triples: list[pyoxigraph.Triple] = []
    for path in sorted(shapes_dir.glob("*.ttl")) if shapes_dir.is_dir() else []:
        triples += pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for triple in canonical_triples(triples):
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate),
                   to_rdflib(triple.object)))
    return graph.serialize(format="turtle").encode("utf-8")


#: (name, title, media type) of every download, known without making any of them.
CATALOGUE: list[tuple[str, str, str]] = [
    ("exomirkg.trig", "The whole dataset with its named graphs (TriG)", "application/trig"),
    ("exomirkg.jsonld", "The whole dataset with its named graphs (JSON-LD)",
     "application/ld+json"),
    ("exomirkg.ttl", "All graphs merged (Turtle)", "text/turtle"),
    ("exomirkg.nt", "All graphs merged (N-Triples)", "application/n-triples"),
    ("exomirkg.rdf", "All graphs merged (RDF/XML)", "application/rdf+xml"),
    ("exomirkg.owl", "The ontology release: TBox with owl:imports of its import modules "
     "(RDF/XML; also at /releases/<version>/)", "application/rdf+xml"),
    ("exomirkg-full.owl", "The ontology release with its import modules merged (RDF/XML)",
     "application/rdf+xml"),
    ("findings.tsv", "Findings table, one row per finding (TSV)", "text/tab-separated-values"),
    ("findings.csv", "Findings table, one row per finding (CSV)", "text/csv"),
    ("exomirkg-shapes.ttl", "SHACL shapes (validation/shapes/*.ttl merged)", "text/turtle"),
    ("exomirkg-checks.zip", "Graph checks that go with the shapes (validation/checks/"
     "*-violation.rq; any row is a failure)", "application/zip"),
    ("exomirkg.sssom.tsv", "SSSOM mappings to external IDs (skos:*Match)",
     "text/tab-separated-values"),
]


def make_downloads(store: pyoxigraph.Store, info: Mapping[str, object],
                   layout: paths.DataLayout | None = None,
                   findings: list[FindingView] | None = None) -> dict[str, Download]:
    """Every download of a built store, in :data:`CATALOGUE` order.

    :param info: the build info (``version``, ``built``).
    :param layout: where the shapes, checks and page queries are (default: the data root).
    :param findings: the store's findings, when the caller has them assembled already.
    """
    layout = layout or paths.layout()
    version, built = str(info.get("version", "")), str(info.get("built") or "")
    sssom_rows = _page_rows(store, layout, "sssom")
    if findings is None:
        findings = assemble_findings(_page_rows(store, layout, "all-findings"))
    ids = exact_ids(sssom_rows)
    releases: dict[str, bytes] = {}

    def release(name: str) -> bytes:
        if not releases:
            releases.update(release_files(store, version))
        return releases[name]

    makers: dict[str, Callable[[], bytes]] = {
        "exomirkg.trig": lambda: stable_rdf(store.quads_for_pattern(None, None, None),
                                            pyoxigraph.RdfFormat.TRIG),
        "exomirkg.jsonld": lambda: stable_rdf(store.quads_for_pattern(None, None, None),
                                              pyoxigraph.RdfFormat.JSON_LD),
        "exomirkg.ttl": lambda: stable_rdf(union_triples(store), pyoxigraph.RdfFormat.TURTLE),
        "exomirkg.nt": lambda: stable_rdf(union_triples(store), pyoxigraph.RdfFormat.N_TRIPLES),
        "exomirkg.rdf": lambda: stable_rdf(union_triples(store), pyoxigraph.RdfFormat.RDF_XML),
        "exomirkg.owl": lambda: release("exomirkg.owl"),
        "exomirkg-full.owl": lambda: release("exomirkg-full.owl"),
        "findings.tsv": lambda: findings_table(findings, "\t", ids),
        "findings.csv": lambda: findings_table(findings, ",", ids),
        "exomirkg-shapes.ttl": lambda: shapes_turtle(layout.shapes_dir),
        "exomirkg-checks.zip": lambda: checks_zip(layout.checks_dir),
        "exomirkg.sssom.tsv": lambda: sssom_table(sssom_rows, version, built),
    }
    return {name: Download(name, title, media_type, makers[name]())
            for name, title, media_type in CATALOGUE}
