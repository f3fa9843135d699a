"""Move the built dataset into a pyoxigraph store, the engine that answers SPARQL."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import XSD

__all__ = ["dataset_to_store", "load_store", "prepare_store_dir", "to_rdflib"]


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
    server's processes then open the folder read-only.

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
    store = pyoxigraph.Store(str(store_path))
    store.clear()
    store.bulk_load(path=str(trig_path), format=pyoxigraph.RdfFormat.TRIG)
    store.flush()
    del store


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


def dataset_to_store(dataset: Dataset) -> pyoxigraph.Store:
    """Copy an rdflib Dataset (named graphs kept) into an in-memory pyoxigraph store."""
    store = pyoxigraph.Store()
    data = dataset.serialize(format="nquads")
    store.bulk_load(input=data.encode("utf-8"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


if __name__ == "__main__":
    import sys

    prepare_store_dir(Path(sys.argv[1]), Path(sys.argv[2]))
