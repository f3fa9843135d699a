"""Move the built dataset into a pyoxigraph store, the engine that answers SPARQL."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
from rdflib import Dataset

__all__ = ["dataset_to_store", "load_store", "prepare_store_dir"]


def load_store(trig_path: Path, store_path: Path | None = None) -> pyoxigraph.Store:
    """Load a TriG file into a pyoxigraph store.

    :param trig_path: the built ``exomirkg.trig``.
    :param store_path: an on-disk store folder; in memory when not given.
    :returns: the store, named graphs kept.
    """
    store = pyoxigraph.Store(str(store_path)) if store_path else pyoxigraph.Store()
    store.bulk_load(path=str(trig_path), format=pyoxigraph.RdfFormat.TRIG)
    return store


def prepare_store_dir(trig_path: Path, store_path: Path) -> None:
    """Fill an on-disk store folder from the TriG file, replacing what it held.

    Run once before the server starts, in one process: RocksDB allows one writer, and the
    server's processes then open the folder read-only.
    """
    store = pyoxigraph.Store(str(store_path))
    store.clear()
    store.bulk_load(path=str(trig_path), format=pyoxigraph.RdfFormat.TRIG)
    store.flush()
    del store


def dataset_to_store(dataset: Dataset) -> pyoxigraph.Store:
    """Copy an rdflib Dataset (named graphs kept) into an in-memory pyoxigraph store."""
    store = pyoxigraph.Store()
    data = dataset.serialize(format="nquads")
    store.bulk_load(input=data.encode("utf-8"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store
