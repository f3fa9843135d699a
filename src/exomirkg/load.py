"""Read the ontology, import modules and triples, a named graph per file.

The build reads every source file with pyoxigraph's parser (Rust: 10^6 triples in seconds,
where rdflib took 44 s and 1.8 GB) into :class:`Sources`, each graph's statements as
N-Triples exactly as the file states them: a lexical form and a datatype as written
(``"2019"^^xsd:long``), which a store would turn into its value (``xsd:integer``) and rdflib
into its canonical form. The written build files and the shapes read these statements; the
reasoner and the checks read a store loaded from them. An rdflib Dataset is made from them
only when asked for (:meth:`Sources.to_rdflib`, :func:`load_dataset`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.parsers.notation3 import BadSyntax

from exomirkg import paths
from exomirkg.namespaces import (
    GRAPH_ONTOLOGY,
    GRAPH_REVIEW,
    PREFIXES,
    entity_graph,
    import_graph,
    section_graph,
)

__all__ = ["DataFileError", "SourceFile", "Sources", "load_dataset", "load_ntriples",
           "parse_sources", "parse_turtle", "read_ntriples", "source_files"]

logger = logging.getLogger(__name__)


def load_ntriples(store: pyoxigraph.Store, text: bytes,
                  graph: pyoxigraph.NamedNode | pyoxigraph.DefaultGraph) -> None:
    """Add N-Triples text to a graph of an in-memory store (every store the build, the
    reasoner and the checks make).

    ``Store.load``, not ``bulk_load``: in pyoxigraph 0.5's in-memory store ``load`` put 100 k
    triples into a store of 10^6 in 405 ms against 562 ms (median of 6, alternating) and
    held 104 MB against 147 MB for 0.93 M; two threads loading at once wait for each other
    with either. ``bulk_load`` stays for the on-disk store (:func:`exomirkg.store.load_store`).

    Lenient: every text here holds statements parsed already (a file's, by the strict parse
    of :func:`parse_sources`) or written by pyoxigraph or rdflib from such statements. The
    strict reader's IRI checks cost a quarter to a third of a load (500 k lines: 1.66-1.74 s
    strict, 1.06-1.30 s lenient), and it would refuse again, mid-reasoning, a statement
    the lenient loads let in (an IRI rdflib accepts), which the checks are there to report.
    """
    store.load(input=text, format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph,
               lenient=True)


class DataFileError(ValueError):
    """A data file cannot be read; the message names the file and line."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class SourceFile:
    """A Turtle file and the named graph it is loaded into."""

    path: Path
    graph: URIRef


def source_files(data_root: Path | None = None) -> list[SourceFile]:
    """List every Turtle file of the graph with its named graph, in load order.

    :param data_root: folder holding ontology/ and triples/ (default: :data:`paths.DATA_ROOT`).
    :returns: ontology, import modules, review, entity files, then section files.
    """
    root = data_root or paths.DATA_ROOT
    ontology_dir = root / "ontology"
    triples_dir = root / "triples"
    files = [SourceFile(ontology_dir / "exomirkg-edit.ttl", GRAPH_ONTOLOGY)]
    for path in sorted((ontology_dir / "imports").glob("*_import.ttl")):
        files.append(SourceFile(path, import_graph(path.stem.removesuffix("_import"))))
    review = triples_dir / "review.ttl"
    if review.is_file():
        files.append(SourceFile(review, GRAPH_REVIEW))
    for path in sorted((triples_dir / "entities").glob("*.ttl")):
        files.append(SourceFile(path, entity_graph(path.stem)))
    for path in sorted((triples_dir / "sections").glob("*.ttl")):
        files.append(SourceFile(path, section_graph(path.stem)))
    return files


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse one Turtle file, turning syntax errors into :class:`DataFileError`.

    :param path: the file.
    :param graph: graph to parse into (a new one if not given).
    :returns: the graph.
    :raises DataFileError: when the file is missing or is not valid Turtle.
    """
    target = graph if graph is not None else Graph()
    try:
        target.parse(path, format="turtle")
    except BadSyntax as error:
        # BadSyntax's own message spans lines; keep its reason and the text near the error.
        near = error._str[max(0, error._i - 30): error._i + 30].decode("utf-8", "replace")
        near = " ".join(near.split())
        reason = f"Turtle syntax error: {error._why} near '{near}'"
        raise DataFileError(path, error.lines + 1, reason) from None
    except FileNotFoundError:
        raise DataFileError(path, None, "file not found") from None
    except UnicodeDecodeError as error:
        raise DataFileError(path, None, f"not UTF-8: {error}") from None
    except Exception as error:  # rdflib raises plain exceptions for bad IRIs and literals
        raise DataFileError(path, None, f"cannot parse: {error}") from None
    return target


def read_ntriples(path: Path) -> bytes:
    """One Turtle file's statements as N-Triples, each term as the file writes it.

    :raises DataFileError: when the file is missing, not UTF-8 or not valid Turtle (strict:
        an IRI or language tag that is not well-formed is an error, as in rudof and the store).
    """
    try:
        statements = pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE,
                                      base_iri=path.resolve().as_uri())
        return pyoxigraph.serialize(statements, format=pyoxigraph.RdfFormat.N_TRIPLES) or b""
    except FileNotFoundError:
        raise DataFileError(path, None, "file not found") from None
    except SyntaxError as error:
        # pyoxigraph: "Parser error at line L between columns A and B: why"; the line is also
        # in its location tuple (file, line, column, ...).
        location = error.args[1] if len(error.args) > 1 else None
        line = location[1] if isinstance(location, tuple) and len(location) > 1 else None
        message = str(error.args[0] if error.args else error)
        where = re.match(r"Parser error at line \d+ between columns (\d+) and (\d+): ", message)
        reason = message[where.end():] + f" (columns {where[1]}-{where[2]})" if where else message
        if "invalid utf-8" in reason.lower():
            raise DataFileError(path, line, f"not UTF-8: {reason}") from None
        raise DataFileError(path, line, f"Turtle syntax error: {reason}") from None
    except (OSError, ValueError) as error:
        raise DataFileError(path, None, f"cannot parse: {error}") from None


@dataclass
class Sources:
    """The asserted graphs as their files state them: per named graph, its N-Triples.

    Blank-node labels are the parser's (random, so unique across files: two files never
    share a blank node, as in rdflib).
    """

    #: Graph name -> the graph's statements as N-Triples, in load order (rdflib's name of a
    #: dataset's default graph, DATASET_DEFAULT_GRAPH_ID, stands for the default graph).
    graphs: dict[URIRef, bytes]

    def ntriples(self, *, exclude: frozenset[URIRef] = frozenset()) -> bytes:
        """Every graph's statements (but those of ``exclude``) as one N-Triples text."""
        return b"".join(text for name, text in self.graphs.items() if name not in exclude)

    def by_name(self) -> dict[str, bytes]:
        """Graph IRI -> N-Triples, ``""`` for the default graph (the form
        :func:`exomirkg.canonical.canonical_dataset_files` takes)."""
        return {"" if name == DATASET_DEFAULT_GRAPH_ID else str(name): text
                for name, text in self.graphs.items()}

    def load_into(self, store: pyoxigraph.Store) -> pyoxigraph.Store:
        """Load every graph into its named graph of ``store`` (Rust to Rust).

        Leniently (:func:`load_ntriples`): statements made in rdflib (:meth:`from_rdflib`)
        may hold an IRI rdflib accepts and the strict parse would not, which the checks
        should still see.
        """
        for name, text in self.graphs.items():
            if text:
                target = (pyoxigraph.DefaultGraph() if name == DATASET_DEFAULT_GRAPH_ID
                          else pyoxigraph.NamedNode(str(name)))
                load_ntriples(store, text, target)
        return store

    def to_rdflib(self) -> Dataset:
        """The graphs as an rdflib Dataset whose default graph is their union (prefixes of
        :data:`PREFIXES` bound); rdflib's terms, so a number's lexical form is rdflib's."""
        dataset = Dataset(default_union=True)
        for prefix, namespace in PREFIXES.items():
            dataset.bind(prefix, namespace)
        for name, text in self.graphs.items():
            dataset.graph(name).parse(data=text, format="nt")
        return dataset

    @classmethod
    def from_rdflib(cls, dataset: Dataset,
                    extra: Iterable[tuple[Graph, URIRef]] = ()) -> Sources:
        """An rdflib Dataset's graphs (the graphs a caller built in memory); its default
        graph keeps rdflib's name, :data:`DATASET_DEFAULT_GRAPH_ID`.

        :param extra: more graphs, each as the named graph given with it (the reasoner's
            output as graph/inferred), replacing a graph of that name.
        """
        parts = [(graph, graph.identifier) for graph in dataset.graphs()
                 if isinstance(graph.identifier, URIRef) and len(graph)]
        return cls({name: graph.serialize(format="nt", encoding="utf-8")
                    for graph, name in [*parts, *extra]})


def parse_sources(data_root: Path | None = None) -> Sources:
    """Read every source file (:func:`source_files`) into its named graph.

    :raises DataFileError: on the first unreadable file.
    """
    graphs = {}
    for source in source_files(data_root):
        graphs[source.graph] = read_ntriples(source.path)
        logger.debug("read %s into <%s>", source.path, source.graph)
    return Sources(graphs)


def load_dataset(data_root: Path | None = None) -> Dataset:
    """Every source file in its own named graph of an rdflib Dataset (read as the build
    reads them, :func:`parse_sources`).

    :param data_root: folder holding ontology/ and triples/.
    :returns: a Dataset whose default graph is the union of the named graphs.
    :raises DataFileError: on the first unreadable file.
    """
    return parse_sources(data_root).to_rdflib()
