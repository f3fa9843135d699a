"""Downloads: the whole dataset, a flat findings table, the SHACL shapes and SSSOM mappings."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph
from flask import Blueprint, Response, abort, current_app, render_template
from rdflib import Graph

from exomirkg import paths
from exomirkg.namespaces import BASE, CURIE_PREFIXES, DOI, PREFIXES
from exomirkg.web.findings import FindingView, assemble_findings
from exomirkg.web.graphdata import plain, quote_input, select
from exomirkg.sparql.rdfout import union_triples, write_rdf
from exomirkg.web.state import get_state

__all__ = ["Download", "bp", "compact", "downloads"]

bp = Blueprint("downloads", __name__)

#: IRI prefixes -> CURIE prefixes for tables (longest first, so mirbase.mature wins over mirbase).
_CURIES = sorted([(iri, prefix) for prefix, iri in CURIE_PREFIXES.items()]
                 + [(BASE, "ekg"), (str(DOI), "doi")], key=lambda p: -len(p[0]))
#: SSSOM predicate CURIEs of our skos:*Match properties.
_SKOS = "http://www.w3.org/2004/02/skos/core#"


@dataclass(frozen=True)
class Download:
    """One file offered on /download."""

    name: str
    title: str
    media_type: str
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

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
    return write_rdf(get_state().store.quads_for_pattern(None, None, None), fmt)


def _merged(fmt: pyoxigraph.RdfFormat) -> bytes:
    """The union of all graphs as plain triples (duplicates across graphs merged)."""
    return write_rdf(union_triples(get_state().store), fmt)


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


def sssom_table(version: str) -> bytes:
    """The SSSOM TSV (with its YAML header) of our entities' skos:*Match mappings."""
    prefixes = {"ekg": BASE, "skos": _SKOS, "semapv": "https://w3id.org/semapv/vocab/",
                "doi": str(DOI)}
    rows = select("sssom")
    for row in rows:
        curie = compact(plain(row["object"]))
        prefix = curie.split(":", 1)[0]
        if prefix in CURIE_PREFIXES:
            prefixes[prefix] = CURIE_PREFIXES[prefix]
    lines = ["# curie_map:"] + [f"#   {p}: {prefixes[p]}" for p in sorted(prefixes)]
    lines += [f"# mapping_set_id: {BASE}mappings/exomirkg.sssom.tsv",
              f"# mapping_set_version: {version}",
              "# license: https://creativecommons.org/licenses/by/4.0/",
              "# mapping_set_description: exomirkg entities mapped to external ontologies and "
              "databases (IDs checked against the verified reference table)."]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                     "mapping_justification"])
    for row in rows:
        writer.writerow([compact(plain(row["subject"])), plain(row["subjectLabel"]),
                         "skos:" + plain(row["predicate"]).rsplit("#", 1)[-1],
                         compact(plain(row["object"])), plain(row.get("objectLabel")) or "",
                         "semapv:ManualMappingCuration"])
    return ("\n".join(lines) + "\n").encode("utf-8") + buffer.getvalue().encode("utf-8")


def shapes_turtle() -> bytes:
    """Every SHACL shapes file of validation/shapes/ merged into one Turtle document."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    for path in sorted(paths.SHAPES_DIR.glob("*.ttl")) if paths.SHAPES_DIR.is_dir() else []:
        graph.parse(path, format="turtle")
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
    ("findings.tsv", "Findings table, one row per finding (TSV)", "text/tab-separated-values",
     lambda v: findings_table(assemble_findings(select("all-findings")), "\t")),
    ("findings.csv", "Findings table, one row per finding (CSV)", "text/csv",
     lambda v: findings_table(assemble_findings(select("all-findings")), ",")),
    ("exomirkg-shapes.ttl", "SHACL shapes (validation/shapes/*.ttl merged)", "text/turtle",
     lambda v: shapes_turtle()),
    ("exomirkg.sssom.tsv", "SSSOM mappings to external IDs (skos:*Match)",
     "text/tab-separated-values", sssom_table),
]


def downloads() -> dict[str, Download]:
    """Every download, generated once per app from the loaded store."""
    cache = current_app.extensions.setdefault("exomirkg_pages", {})
    if "downloads" not in cache:
        version = str(get_state().info.get("version", ""))
        cache["downloads"] = {name: Download(name, title, media_type, make(version))
                              for name, title, media_type, make in _FILES}
    return cache["downloads"]


@bp.route("/download")
def page() -> str:
    """The list of downloads with size, sha256 and data version."""
    info = get_state().info
    return render_template("download.html", title="Downloads", files=list(downloads().values()),
                           version=info.get("version"), built=info.get("built"))


@bp.route("/download/<name>")
def file(name: str) -> Response:
    """One download, as an attachment, with its checksum and the data version in headers."""
    item = downloads().get(name)
    if item is None:
        abort(404, description=f"No download called {quote_input(name)!r}; see /download.")
    response = Response(item.body, mimetype=item.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{item.name}"'
    response.headers["X-Checksum-Sha256"] = item.sha256
    response.headers["X-Data-Version"] = str(get_state().info.get("version", ""))
    return response


@bp.route("/download/SHA256SUMS")
def checksums() -> Response:
    """``sha256sum -c`` compatible list of the downloads."""
    body = "".join(f"{d.sha256}  {d.name}\n" for d in downloads().values())
    return Response(body, mimetype="text/plain")
