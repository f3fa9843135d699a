"""exomirkg: knowledge graph of exosomal miRNAs, the tumour microenvironment and drug resistance.

The Python API (README, "Python API")::

    import exomirkg

    store = exomirkg.load_store()                  # pyoxigraph.Store, named graphs kept
    for row in exomirkg.query("SELECT ?d WHERE { ?d a <https://w3id.org/exomirkg/Drug> }"):
        print(row["d"].value)
    print(exomirkg.explain_drug("cisplatin", store=store))
    dataset = exomirkg.load_dataset()              # the same graph as an rdflib Dataset

Each function takes the built TriG file or its build folder; without one it uses
``build/exomirkg.trig`` when that is newer than every source file, and otherwise builds the
graph in memory from the data (load and reason, about two seconds; no files written).
Imports are lazy, so ``import exomirkg`` stays cheap (the query processes import it too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyoxigraph
    import rdflib

#: The one place the version is written (pyproject.toml reads it through hatch).
__version__ = "0.1.0"

__all__ = ["__version__", "explain_drug", "load_dataset", "load_store", "query"]


def _built_trig(source: str | Path | None) -> Path | None:
    """The TriG file to read: the one given (or inside the folder given), else a fresh build."""
    from exomirkg import paths
    from exomirkg.build import TRIG_FILE, build_inputs

    if source is not None:
        path = Path(source)
        trig = path / TRIG_FILE if path.is_dir() else path
        if not trig.is_file():
            raise FileNotFoundError(f"no built graph at {trig}; run `exomirkg build` first")
        return trig
    trig = paths.BUILD_DIR / TRIG_FILE
    if trig.is_file() and trig.stat().st_mtime >= max(p.stat().st_mtime for p in build_inputs()):
        return trig
    return None


def load_store(source: str | Path | None = None) -> pyoxigraph.Store:
    """The graph in an in-memory pyoxigraph Store: every named graph, inferred links included.

    :param source: a built ``exomirkg.trig`` or the folder holding it (``exomirkg build``).
    :raises FileNotFoundError: when ``source`` holds no built graph.
    """
    from exomirkg.store import load_store as load_trig

    trig = _built_trig(source)
    if trig is not None:
        return load_trig(trig)
    from exomirkg.build import build_dataset

    return build_dataset(validate=False).store


def load_dataset(source: str | Path | None = None) -> rdflib.Dataset:
    """The graph as an rdflib Dataset whose default graph is the union of its named graphs.

    :param source: a built ``exomirkg.trig`` or the folder holding it (``exomirkg build``).
    :raises FileNotFoundError: when ``source`` holds no built graph.
    """
    from rdflib import Dataset

    trig = _built_trig(source)
    if trig is None:
        from exomirkg.build import build_dataset

        return build_dataset(validate=False).dataset
    dataset = Dataset(default_union=True)
    dataset.parse(trig, format="trig")
    return dataset


def query(
    sparql: str, store: pyoxigraph.Store | None = None
) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples:
    """Run a SPARQL 1.1 query over the union of all graphs, as the endpoint does.

    ``GRAPH ?g`` still tells which section asserted what.

    :param store: from :func:`load_store` (loaded for this call when not given).
    :returns: pyoxigraph's result: solutions (``row["var"].value``) for SELECT, a boolean
        for ASK, triples for CONSTRUCT and DESCRIBE.
    :raises SyntaxError: for a malformed query.
    """
    store = store if store is not None else load_store()
    return store.query(sparql, use_default_graph_as_union=True)


def explain_drug(drug: str, mechanism: str | None = None,
                 store: pyoxigraph.Store | None = None) -> str:
    """Why the graph links a drug to mechanisms: each inferred link and the findings behind it.

    The text ``exomirkg explain`` prints: finding -> cargo -> genes -> pathways -> mechanism,
    with the references, flagging support that rests only on retracted papers.

    :param drug: a label, synonym ("5-FU"), ``ekg:`` name or IRI.
    :param mechanism: restrict to one mechanism or pathway (label, synonym or IRI).
    :param store: from :func:`load_store` (loaded for this call when not given).
    :raises LookupError: for an unknown drug or mechanism.
    """
    from exomirkg.explain import explain_drug as explain

    return explain(store if store is not None else load_store(), drug, mechanism)
