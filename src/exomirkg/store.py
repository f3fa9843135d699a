"""Move the built dataset into a pyoxigraph store, the engine that answers SPARQL.

The one bridge between rdflib (API users, pyshacl, tests) and pyoxigraph (the build, rules,
checks, the endpoint): whole datasets with :func:`dataset_to_store` and
:func:`graph_to_rdflib` (both through N-Triples text, as :class:`exomirkg.load.Sources`
carries the files' statements), single terms with :func:`to_rdflib` and :func:`to_oxigraph`.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD

from exomirkg.load import Sources

__all__ = ["STORE_STAMP", "Row", "dataset_to_store", "file_sha256", "graph_to_rdflib",
           "load_store", "plain", "prepare_store_dir", "return_freed_memory", "select_rows",
           "store_holds", "to_oxigraph", "to_rdflib"]

#: A solution as a dict of variable name -> term (absent variables are left out).
Row = dict[str, Any]
#: The file in a store folder that says which build filled it (RocksDB ignores it).
STORE_STAMP = "exomirkg-source.json"


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``, every arena;
    nothing elsewhere). A store freed keeps its pages in glibc's arenas otherwise: at 10^6
    triples the shapes' store, made in the shapes' thread, held 0.7 GB through the reasoner's
    peak, and with the checks' working memory 600 MB through the write step's."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def load_store(trig_path: Path, store_path: Path | None = None) -> pyoxigraph.Store:
    """Load a TriG file into a pyoxigraph store.

    :param trig_path: the built ``exomirkg.trig``.
    :param store_path: an on-disk store folder; in memory when not given.
    :returns: the store, named graphs kept.
    """
    store = pyoxigraph.Store(str(store_path)) if store_path else pyoxigraph.Store()
    store.bulk_load(path=str(trig_path), format=pyoxigraph.RdfFormat.TRIG)
    return store


def prepare_store_dir(trig_path: Path, store_path: Path, *, in_child: bool = False) -> None:
    """Fill an on-disk store folder from the TriG file, replacing what it held.

    Run once before the server starts, in one process: RocksDB allows one writer, and the
    server's processes then open the folder read-only. When the fill is complete the folder
    gets a stamp naming the TriG file's sha256 (:func:`store_holds`), so servers started
    later over the same folder (replicas) read it as it is instead of writing it again.

    :param in_child: do it in a child interpreter. ``exomirkg serve`` does, because gunicorn
        forks its workers from the calling process, and RocksDB's background threads (which
        outlive the store) left forked workers hanging on a lock at exit.
    """
    if in_child:
        import subprocess
        import sys

        subprocess.run([sys.executable, "-m", "exomirkg.store", str(trig_path),  # noqa: S603
                        str(store_path)], check=True)
        return
    # First: a fill that stops half way must not look complete.
    (store_path / STORE_STAMP).unlink(missing_ok=True)
    store = pyoxigraph.Store(str(store_path))
    store.clear()
    store.bulk_load(path=str(trig_path), format=pyoxigraph.RdfFormat.TRIG)
    store.flush()
    del store
    (store_path / STORE_STAMP).write_text(
        json.dumps({"source": trig_path.name, "sha256": file_sha256(trig_path)}), encoding="utf-8")


def store_holds(trig_path: Path, store_path: Path) -> bool:
    """Whether ``store_path`` was filled, completely, from this very TriG file (its stamp
    names the file's current sha256)."""
    try:
        stamp = json.loads((store_path / STORE_STAMP).read_text(encoding="utf-8"))
        return stamp["sha256"] == file_sha256(trig_path)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def file_sha256(path: Path) -> str:
    """A file's SHA-256 (hex), read in 1 MB chunks (build files reach hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def to_rdflib(term: pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal
              ) -> URIRef | BNode | Literal:
    """A pyoxigraph term as rdflib's, as rdflib's parsers would have made it.

    The blank-node label is kept; an ``xsd:string`` literal becomes a plain one (rdflib keeps
    the two apart, and its parsers make plain ones).
    """
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == str(XSD.string) else URIRef(datatype))


def graph_to_rdflib(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode) -> Graph:
    """One named graph of a store as an rdflib graph (terms as :func:`to_rdflib` makes them)."""
    # One addN, and one URIRef per IRI (a graph repeats a few thousand IRIs): a quarter less
    # time than a Graph.add and a new URIRef per term.
    iris: dict[str, URIRef] = {}

    def term(node: pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal
             ) -> URIRef | BNode | Literal:
        if type(node) is pyoxigraph.NamedNode:
            iri = iris.get(node.value)
            if iri is None:
                iri = iris[node.value] = URIRef(node.value)
            return iri
        return to_rdflib(node)

    out = Graph()
    out.addN((term(quad.subject), term(quad.predicate), term(quad.object), out)
             for quad in store.quads_for_pattern(None, None, None, graph))
    return out


def dataset_to_store(dataset: Dataset,
                     extra: Iterable[tuple[Graph, URIRef]] = ()) -> pyoxigraph.Store:
    """Copy an rdflib Dataset (named graphs kept) into an in-memory pyoxigraph store.

    :param extra: more graphs to add, each into the named graph given with it (the reasoner's
        output into graph/inferred).
    """
    return Sources.from_rdflib(dataset, extra).load_into(pyoxigraph.Store())


def to_oxigraph(term: URIRef | BNode | Literal
                ) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal:
    """An rdflib term as pyoxigraph's (the blank-node label is kept)."""
    if isinstance(term, URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    if term.language:
        return pyoxigraph.Literal(str(term), language=term.language)
    if term.datatype:
        return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(str(term.datatype)))
    return pyoxigraph.Literal(str(term))


if __name__ == "__main__":
    import sys

    prepare_store_dir(Path(sys.argv[1]), Path(sys.argv[2]))


def select_rows(store: pyoxigraph.Store, query: str,
                bindings: Mapping[str, Any] | None = None) -> list[Row]:
    """Run a SELECT over the union graph with variables bound (SEP-0007 substitution).

    :param bindings: variable name -> pyoxigraph term, e.g. ``{"entity": NamedNode(...)}``.
    :returns: one dict per solution, unbound variables left out.
    """
    substitutions = {pyoxigraph.Variable(k): v for k, v in (bindings or {}).items()}
    result = store.query(query, use_default_graph_as_union=True,
                         substitutions=substitutions or None)
    names = [v.value for v in result.variables]
    return [{var: solution[var] for var in names if solution[var] is not None}
            for solution in result]


def plain(term: Any) -> Any:
    """A term's Python value: str for IRIs and strings, int/bool for typed literals."""
    if term is None:
        return None
    if isinstance(term, pyoxigraph.Literal):
        datatype = term.datatype.value
        if datatype.endswith("#integer"):
            return int(term.value)
        if datatype.endswith("#boolean"):
            return term.value in {"true", "1"}
        return term.value
    return term.value
