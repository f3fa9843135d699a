"""The ontology release files, ODK-style, made from a built store.

- ``exomirkg.owl`` (RDF/XML) and ``exomirkg.ttl`` (Turtle): the TBox of
  ``ontology/exomirkg-edit.ttl`` with ``owl:imports`` of each import module
  (``https://w3id.org/exomirkg/ontology/imports/<source>_import``, served by the server);
- ``exomirkg-full.owl`` and ``exomirkg-full.ttl``: the same with the import modules merged in
  (no ``owl:imports``), what a tool with no access to the modules loads.

Each header gets the version of the code (``exomirkg.__version__``) as ``owl:versionInfo`` and a
versioned ``owl:versionIRI`` (``https://w3id.org/exomirkg/releases/<version>/ontology``, and
``.../exomirkg-full.owl`` for the full variant). The release holds the ontology only, not the
entities or findings (those are the dataset downloads). Blank nodes get canonical labels and
statements a fixed order, so the same build gives the same bytes in every process.

``exomirkg build`` writes these files beside ``exomirkg.trig``, with ``imports/<source>_import.owl``
and a ``catalog-v001.xml`` that maps each import IRI to its local file (Protégé, ROBOT);
the server makes the same bytes from its store (``/releases/<version>/<file>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pyoxigraph

from exomirkg.canonical import canonical_lines
from exomirkg.namespaces import (
    GRAPH,
    GRAPH_ONTOLOGY,
    ONTOLOGY,
    OWL,
    RDF,
    import_module_iri,
    release_iri,
)
from exomirkg.sparql.negotiation import rdf_format
from exomirkg.sparql.rdfout import write_rdf

__all__ = [
    "CATALOG_FILE",
    "RELEASE_FILES",
    "import_modules",
    "module_triples",
    "ontology_triples",
    "release_bytes",
    "release_files",
    "write_release",
]

#: Release file -> media type. Base variant first.
RELEASE_FILES: dict[str, str] = {
    "exomirkg.owl": "application/rdf+xml",
    "exomirkg.ttl": "text/turtle",
    "exomirkg-full.owl": "application/rdf+xml",
    "exomirkg-full.ttl": "text/turtle",
}
#: The XML catalogue (OASIS, as Protégé and ROBOT read it) of the import modules' local files.
CATALOG_FILE = "catalog-v001.xml"

_N = pyoxigraph.NamedNode
_TYPE, _ONTOLOGY_CLASS = _N(str(RDF.type)), _N(str(OWL.Ontology))
_IMPORTS, _VERSION_IRI = _N(str(OWL.imports)), _N(str(OWL.versionIRI))
_VERSION_INFO = _N(str(OWL.versionInfo))
_IMPORT_GRAPHS = str(GRAPH) + "imports/"


def import_modules(store: pyoxigraph.Store) -> dict[str, pyoxigraph.NamedNode]:
    """Import module name (``chebi``) -> its named graph, for every module in the store."""
    return {graph.value[len(_IMPORT_GRAPHS):]: graph
            for graph in sorted(store.named_graphs(), key=lambda g: g.value)
            if isinstance(graph, pyoxigraph.NamedNode) and graph.value.startswith(_IMPORT_GRAPHS)}


#: A named graph's N-Triples lines as read once for a release (graph IRI -> lines): each
#: module is in the ontology, the full ontology and its own file, and at 10^6 triples reading
#: a large module three times cost 5 s of the write step.
_Read = dict[str, list[bytes]]


def _graph(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode,
           read: _Read | None = None) -> list[bytes]:
    # Its N-Triples from Rust, not a Python object per statement (a third of the time).
    if read is not None and graph.value in read:
        return read[graph.value]
    lines = (store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=graph)
             or b"").splitlines(keepends=True)
    if read is not None:
        read[graph.value] = lines
    return lines


def _lines(triples: Iterable[pyoxigraph.Triple]) -> list[bytes]:
    return (pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES)
            or b"").splitlines(keepends=True)


def _triples(lines: list[bytes]) -> list[pyoxigraph.Triple]:
    return [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in pyoxigraph.parse(
        b"".join(lines), format=pyoxigraph.RdfFormat.N_TRIPLES)]


#: How an N-Triples line stating that its (IRI) subject is an ontology ends.
_HEADER_END = f" <{_TYPE.value}> <{_ONTOLOGY_CLASS.value}> .\n".encode()


def _headers(lines: Iterable[bytes]) -> set[str]:
    """The IRIs of a module's ontology headers (its ``owl:Ontology`` subjects)."""
    # An N-Triples IRI holds no "> " (nor any space), so the subject ends at the first.
    return {line[1:line.index(b"> ")].decode() for line in lines
            if line.endswith(_HEADER_END) and line.startswith(b"<")}


def _module_lines(store: pyoxigraph.Store, module: str, read: _Read | None = None
                  ) -> list[bytes]:
    graph = import_modules(store).get(module)
    return canonical_lines(_graph(store, graph, read)) if graph is not None else []


def module_triples(store: pyoxigraph.Store, module: str, read: _Read | None = None
                   ) -> list[pyoxigraph.Triple]:
    """One import module (``chebi``) with its header, in canonical order; [] if unknown."""
    return _triples(_module_lines(store, module, read))


def _ontology_lines(store: pyoxigraph.Store, version: str, *, full: bool = False,
                    read: _Read | None = None) -> list[bytes]:
    ontology = _N(str(ONTOLOGY))
    # The edit file's own version statements give way to the release's (one version source).
    versions = tuple(f"<{ontology.value}> <{p.value}> ".encode()
                     for p in (_VERSION_IRI, _VERSION_INFO))
    lines = [line for line in _graph(store, _N(str(GRAPH_ONTOLOGY)), read)
             if not line.startswith(versions)]
    name = "exomirkg-full.owl" if full else "ontology"
    lines += _lines([pyoxigraph.Triple(ontology, _VERSION_IRI, _N(str(release_iri(version, name)))),
                     pyoxigraph.Triple(ontology, _VERSION_INFO, pyoxigraph.Literal(version))])
    for graph in import_modules(store).values():
        module = _graph(store, graph, read)
        headers = _headers(module)
        if full:
            subjects = tuple(f"<{header}> ".encode() for header in headers)
            lines += [line for line in module if not line.startswith(subjects)]
        else:
            lines += _lines(pyoxigraph.Triple(ontology, _IMPORTS, _N(header))
                            for header in headers)
    return canonical_lines(lines)


def ontology_triples(store: pyoxigraph.Store, version: str, *, full: bool = False,
                     read: _Read | None = None) -> list[pyoxigraph.Triple]:
    """The release ontology: the TBox with ``owl:imports`` of the modules, or them merged.

    :param version: written as ``owl:versionInfo`` and into the ``owl:versionIRI``.
    :param full: merge the import modules (their headers dropped) instead of importing them.
    :param read: graphs already read for this release, and where to keep those read here.
    """
    return _triples(_ontology_lines(store, version, full=full, read=read))


def release_files(store: pyoxigraph.Store, version: str, read: _Read | None = None
                  ) -> dict[str, bytes]:
    """Every file of :data:`RELEASE_FILES`, by name."""
    read = {} if read is None else read
    base = ontology_triples(store, version, read=read)
    full = ontology_triples(store, version, full=True, read=read)
    return {name: write_rdf(full if "-full" in name else base, rdf_format(media))
            for name, media in RELEASE_FILES.items()}


def _catalog(modules: Iterable[str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
             '<catalog prefer="public" xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">']
    lines += [f"  <uri name={quoteattr(str(import_module_iri(m)))} "
              f"uri={quoteattr(f'imports/{m}_import.owl')}/>" for m in modules]
    lines.append("</catalog>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def release_bytes(store: pyoxigraph.Store, version: str) -> dict[str, bytes]:
    """Every file :func:`write_release` writes, by its path in the build folder. It reads
    only the ontology and import graphs, so the build makes it while the reasoner works."""
    read: _Read = {}
    files = release_files(store, version, read)
    modules = import_modules(store)
    for module in modules:
        files[f"imports/{module}_import.owl"] = write_rdf(module_triples(store, module, read),
                                                         pyoxigraph.RdfFormat.RDF_XML)
    files[CATALOG_FILE] = _catalog(modules)
    return files


def write_release(store: pyoxigraph.Store, version: str, out: Path,
                  files: dict[str, bytes] | None = None) -> list[Path]:
    """Write the release files, ``imports/<source>_import.owl`` and the catalogue into ``out``.

    :param files: their bytes, if made already (:func:`release_bytes`).
    :returns: the files written.
    """
    written = []
    for name, body in (release_bytes(store, version) if files is None else files).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        written.append(path)
    return written
