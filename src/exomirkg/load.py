"""Load the ontology, import modules and triples into one rdflib Dataset, a named graph per file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
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

__all__ = ["DataFileError", "SourceFile", "load_dataset", "parse_turtle", "source_files"]

logger = logging.getLogger(__name__)


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


def load_dataset(data_root: Path | None = None) -> Dataset:
    """Load every source file into its own named graph.

    Since rdflib 7, ``Dataset.parse(publicID=...)`` no longer names the graph, so each file is
    parsed into ``ds.graph(iri)`` (rdflib PR #2406).

    :param data_root: folder holding ontology/ and triples/.
    :returns: a Dataset whose default graph is the union of the named graphs.
    :raises DataFileError: on the first unreadable file.
    """
    dataset = Dataset(default_union=True)
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace)
    for source in source_files(data_root):
        parse_turtle(source.path, dataset.graph(source.graph))
        logger.debug("loaded %s into <%s>", source.path, source.graph)
    return dataset
