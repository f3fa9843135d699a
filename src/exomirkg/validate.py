"""Validation: SHACL shapes in validation/shapes/ and ``*-violation.rq`` checks.

First slice: pyshacl over the shapes folder. The validation issue adds the curator report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph

from exomirkg import paths
from exomirkg.load import parse_turtle

__all__ = ["ValidationReport", "validate_dataset"]


@dataclass
class ValidationReport:
    """Outcome of validating a dataset."""

    conforms: bool
    text: str = ""
    results: list[dict[str, str]] = field(default_factory=list)


def _union(dataset: Dataset, inferred: Graph | None) -> Graph:
    data = Graph()
    for triple in dataset.triples((None, None, None)):
        data.add(triple)
    if inferred is not None:
        for triple in inferred:
            data.add(triple)
    return data


def validate_dataset(
    dataset: Dataset, inferred: Graph | None = None, shapes_dir: Path | None = None
) -> ValidationReport:
    """Validate the dataset (and its inferred graph) against every shapes file.

    :param dataset: the asserted dataset.
    :param inferred: the reasoner's output, validated together with the dataset.
    :param shapes_dir: folder of ``*.ttl`` shapes (default :data:`paths.SHAPES_DIR`).
    :returns: the report.
    """
    import pyshacl

    shapes = Graph()
    for path in sorted((shapes_dir or paths.SHAPES_DIR).glob("*.ttl")):
        parse_turtle(path, shapes)
    if len(shapes) == 0:
        return ValidationReport(conforms=True, text="no shapes")
    conforms, _graph, text = pyshacl.validate(
        _union(dataset, inferred), shacl_graph=shapes, advanced=True
    )
    return ValidationReport(conforms=bool(conforms), text=text)
