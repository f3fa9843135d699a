"""Validation: the SHACL shapes of validation/shapes/ and the ``*-violation.rq`` checks.

Shapes run on the *asserted* graphs (ontology, imports, review, entities, sections): a value is
"typed" only when a source file declares its type, so the reasoner's range inferences cannot hide
an undeclared entity. Checks run in pyoxigraph on the scope their ``#+ scope:`` header names:
``asserted``, ``inferred`` (graph/inferred only) or ``union`` (both).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, XSD, NamespaceManager

from exomirkg import paths
from exomirkg.load import DataFileError, parse_turtle, source_files
from exomirkg.namespaces import GRAPH_INFERRED, PREFIXES, SH
from exomirkg.queries import read_header
from exomirkg.report import (
    CHECK_BASE,
    UNKNOWN_FILE,
    ValidationReport,
    ValidationResult,
    sort_key,
)
from exomirkg.store import dataset_to_store, to_rdflib

__all__ = [
    "CHECK_SCOPES",
    "Check",
    "ValidationReport",
    "ValidationResult",
    "asserted_graph",
    "checks_store",
    "load_checks",
    "load_shapes",
    "run_checks",
    "run_shapes",
    "validate_dataset",
]

logger = logging.getLogger(__name__)

#: Graphs a check can run on (its ``#+ scope:`` header; ``union`` when absent).
CHECK_SCOPES = ("asserted", "inferred", "union")
#: Where results about reasoner-made nodes are filed.
INFERRED_FILE = "(inferred by the reasoner: graph/inferred)"


@dataclass(frozen=True)
class Check:
    """A ``*-violation.rq`` check: any row it returns is a violation.

    :ivar summary: what the check looks for (``#+ summary:``).
    :ivar description: how to fix a row (``#+ description:``).
    :ivar scope: ``asserted``, ``inferred`` or ``union`` (``#+ scope:``).
    """

    name: str
    path: Path
    text: str
    summary: str
    description: str
    scope: str


def load_checks(checks_dir: Path | None = None) -> list[Check]:
    """Read every ``*-violation.rq`` file and its grlc header.

    :param checks_dir: folder of checks (default :data:`paths.CHECKS_DIR`).
    :raises DataFileError: for a header that is not ``key: value`` YAML, or an unknown scope.
    """
    checks = []
    for path in sorted((checks_dir or paths.CHECKS_DIR).glob("*-violation.rq")):
        text = path.read_text(encoding="utf-8")
        try:
            header = read_header(text)
        except ValueError as error:
            raise DataFileError(path, None, str(error)) from None
        if not header.get("summary"):
            raise DataFileError(path, None, "the #+ header needs a 'summary: ...' line")
        scope = str(header.get("scope") or "union")
        if scope not in CHECK_SCOPES:
            raise DataFileError(path, None, f"#+ scope: must be one of {', '.join(CHECK_SCOPES)}")
        summary = str(header["summary"]).strip()
        description = str(header.get("description") or "").strip()
        checks.append(Check(path.name.removesuffix(".rq"), path, text, summary, description, scope))
    return checks


def load_shapes(shapes_dir: Path | None = None) -> Graph:
    """Parse every ``*.ttl`` file of the shapes folder into one graph.

    :raises DataFileError: when a shapes file is not valid Turtle.
    """
    shapes = Graph()
    for path in sorted((shapes_dir or paths.SHAPES_DIR).glob("*.ttl")):
        parse_turtle(path, shapes)
    return shapes


def asserted_graph(dataset: Dataset) -> Graph:
    """Merge every named graph of the dataset except graph/inferred."""
    data = Graph()
    for graph in dataset.graphs():
        if graph.identifier != GRAPH_INFERRED:
            for triple in graph:
                data.add(triple)
    return data


def _namespaces() -> NamespaceManager:
    manager = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        manager.bind(prefix, namespace)
    return manager


_NM = _namespaces()


def _show(term: object) -> str:
    """Render an rdflib term as a CURIE, <IRI>, _:id or N3 literal."""
    if term is None:
        return ""
    if isinstance(term, Literal) and term.datatype in (None, XSD.string) and not term.language:
        return '"' + str(term) + '"'  # a plain string: the ^^xsd:string suffix adds nothing
    if isinstance(term, (URIRef, Literal, BNode)):
        return term.n3(_NM)
    return str(term)


def _show_path(path: object, *graphs: Graph) -> str:
    """Render a SHACL path; alternative paths as ``a|b``, inverse paths as ``^p``."""
    if not isinstance(path, BNode):
        return _show(path)
    for graph in graphs:
        alternatives = graph.value(path, SH.alternativePath)
        if alternatives is not None:
            return "|".join(_show(p) for p in Collection(graph, alternatives))
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + _show(inverse)
    return _show(path)


class _Locator:
    """Find the source file that declares a node (its rdf:type), else that uses it."""

    def __init__(self, dataset: Dataset, data_root: Path | None) -> None:
        root = (data_root or paths.DATA_ROOT).resolve()
        self.files: dict[URIRef, str] = {}
        for source in source_files(data_root):
            try:
                self.files.setdefault(source.graph, str(source.path.resolve().relative_to(root)))
            except ValueError:
                self.files.setdefault(source.graph, str(source.path))
        self.declared: dict[object, URIRef] = {}
        self.described: dict[object, URIRef] = {}
        self.mentioned: dict[object, URIRef] = {}
        for subject, predicate, obj, graph in dataset.quads((None, None, None, None)):
            name = graph.identifier if isinstance(graph, Graph) else graph
            if predicate == RDF.type:
                self.declared.setdefault(subject, name)
            self.described.setdefault(subject, name)
            self.mentioned.setdefault(obj, name)

    def file_of(self, node: object) -> str:
        for table in (self.declared, self.described, self.mentioned):
            graph = table.get(node)
            if graph is not None:
                if graph == GRAPH_INFERRED:
                    return INFERRED_FILE
                return self.files.get(graph, str(graph))
        return UNKNOWN_FILE


def run_shapes(
    data: Graph, shapes: Graph, locate: _Locator | None = None
) -> list[ValidationResult]:
    """Validate a graph against the shapes with pyshacl (no inference: types must be declared).

    :param data: the asserted graph, ontology included (it carries rdfs:subClassOf).
    :param shapes: the shapes graph.
    :param locate: maps a focus node to its source file.
    :returns: one result per SHACL result, its rule being the named node shape.
    :raises DataFileError: when pyshacl cannot load the shapes.
    """
    import pyshacl
    from pyshacl.errors import ReportableRuntimeError

    try:
        _conforms, report, _text = pyshacl.validate(
            # inplace: no copy of the data; with inference "none" pyshacl does not write to it.
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
            inplace=True,
        )
    except ReportableRuntimeError as error:
        raise DataFileError(paths.SHAPES_DIR, None, f"shapes cannot be loaded: {error}") from None
    results = []
    for node in report.objects(None, SH.result):
        source = report.value(node, SH.sourceShape)
        owner = next(iter(shapes.subjects(SH.property, source)), source)
        focus = report.value(node, SH.focusNode)
        value = report.value(node, SH.value)
        messages = [str(m) for m in report.objects(node, SH.resultMessage)]
        severity = report.value(node, SH.resultSeverity)
        component = report.value(node, SH.sourceConstraintComponent)
        # pyshacl's own description of the result, kept as RDF for the SHACL report; a
        # property shape is shown by the node shape that owns it, and a blank node value
        # from the data is named by the text report only.
        described = tuple((p, o) for p, o in report.predicate_objects(node))
        results.append(ValidationResult(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            rule=_show(owner) if isinstance(owner, URIRef) else "(anonymous shape)",
            focus=_show(focus),
            file=locate.file_of(focus) if locate else UNKNOWN_FILE,
            message=messages[0] if messages else "",
            path=_show_path(report.value(node, SH.resultPath), report, shapes),
            # Node-level constraints report the focus node itself as the value: say it once.
            value="" if value == focus else _show(value),
            kind="shape",
            component=_show(component),
            rdf=described,
        ))
    return results


def checks_store(dataset: Dataset, inferred: Graph | None = None) -> pyoxigraph.Store:
    """Copy the dataset (named graphs kept) and the inferred graph into pyoxigraph."""
    return dataset_to_store(dataset, [] if inferred is None else [(inferred, GRAPH_INFERRED)])


def run_checks(store: pyoxigraph.Store, checks: Iterable[Check],
               locate: _Locator | None = None) -> list[ValidationResult]:
    """Run each check on its scope; every row becomes a Violation on the row's first column.

    :param store: the dataset, with the reasoner's output in graph/inferred.
    :raises DataFileError: for a check that is not valid SPARQL or not a SELECT.
    """
    inferred = pyoxigraph.NamedNode(str(GRAPH_INFERRED))
    asserted = [g for g in store.named_graphs() if g != inferred]
    results = []
    for check in checks:
        options: dict[str, object] = {"use_default_graph_as_union": True}
        if check.scope == "asserted":
            options = {"default_graph": [pyoxigraph.DefaultGraph(), *asserted]}
        elif check.scope == "inferred":
            options = {"default_graph": [inferred]}
        try:
            solutions = store.query(check.text, **options)
        except SyntaxError as error:
            raise DataFileError(check.path, None, f"SPARQL syntax error: {error}") from None
        if not isinstance(solutions, pyoxigraph.QuerySolutions):
            raise DataFileError(check.path, None, "a check must be a SELECT query")
        columns = [v.value for v in solutions.variables]
        shape = URIRef(CHECK_BASE + check.name)
        for solution in solutions:
            row = {c: None if solution[c] is None else to_rdflib(solution[c]) for c in columns}
            focus = row[columns[0]]
            # A check is a SPARQL-based constraint of its own shape (CHECK_BASE + name).
            described = [(RDF.type, SH.ValidationResult), (SH.resultSeverity, SH.Violation),
                         (SH.focusNode, focus), (SH.sourceShape, shape),
                         (SH.sourceConstraintComponent, SH.SPARQLConstraintComponent),
                         (SH.resultMessage, Literal(check.description or check.summary))]
            for column, predicate in (("property", SH.resultPath), ("value", SH.value)):
                if row.get(column) is not None:
                    described.append((predicate, row[column]))
            results.append(ValidationResult(
                severity="Violation",
                rule=check.name,
                focus=_show(focus),
                file=locate.file_of(focus) if locate else UNKNOWN_FILE,
                message=check.description or check.summary,
                path=_show(row.get("property")),
                value=_show(row.get("value")),
                kind="check",
                component=check.path.name,
                details={c: str(v) if isinstance(v, Literal) else _show(v)
                         for c, v in row.items()
                         if c not in (columns[0], "property", "value") and v is not None},
                rdf=tuple(described),
            ))
    return results


def validate_dataset(
    dataset: Dataset,
    inferred: Graph | None = None,
    shapes_dir: Path | None = None,
    *,
    checks_dir: Path | None = None,
    data_root: Path | None = None,
) -> ValidationReport:
    """Validate the asserted graphs against the shapes, then run every check.

    :param dataset: the asserted dataset (a graph/inferred in it is used if ``inferred`` is None).
    :param inferred: the reasoner's output, for checks of scope ``inferred`` and ``union``.
    :param shapes_dir: folder of ``*.ttl`` shapes (default :data:`paths.SHAPES_DIR`).
    :param checks_dir: folder of ``*-violation.rq`` checks (default :data:`paths.CHECKS_DIR`).
    :param data_root: the data folder, to name the file each result comes from.
    :returns: the report; it conforms when no result is a Violation.
    :raises DataFileError: when a shapes file or a check cannot be read.
    """
    timings: dict[str, float] = {}
    locate = _Locator(dataset, data_root)
    start = time.perf_counter()
    shapes = load_shapes(shapes_dir)
    results = run_shapes(asserted_graph(dataset), shapes, locate) if len(shapes) else []
    timings["shapes"] = time.perf_counter() - start
    start = time.perf_counter()
    checks = load_checks(checks_dir)
    if checks:
        results += run_checks(checks_store(dataset, inferred), checks, locate)
    timings["checks"] = time.perf_counter() - start
    results.sort(key=sort_key)
    conforms = not any(r.severity == "Violation" for r in results)
    logger.info("validation: %d results, conforms=%s", len(results), conforms)
    return ValidationReport(conforms=conforms, results=results, timings=timings)
