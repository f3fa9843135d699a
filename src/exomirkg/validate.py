"""Validation: the SHACL shapes of validation/shapes/ and the ``*-violation.rq`` checks.

Shapes run on the *asserted* graphs (ontology, imports, review, entities, sections): a value is
"typed" only when a source file declares its type, so the reasoner's range inferences cannot hide
an undeclared entity. Checks run in pyoxigraph on the scope their ``#+ scope:`` header names:
``asserted``, ``inferred`` (graph/inferred only) or ``union`` (both).

Three SHACL engines give the same report: ``sparql``, the build's (the shapes compiled to SPARQL
queries that pyoxigraph evaluates, :mod:`exomirkg.shacl_sparql`: at 10^6 triples a fraction of
rudof's time and memory), pyshacl, the reference, and rudof (``pyrudof``, Rust; the build's
engine until its 9.8 GB peak at 10^6 triples set the build's), a second one. The tests hold
both to pyshacl's report, result for result (tests/test_validation_engines.py).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD, NamespaceManager
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as RdfPath
from rdflib.term import Identifier

from exomirkg import check_focus, paths, shacl_sparql
from exomirkg.load import DataFileError, Sources, load_ntriples, parse_turtle, source_files
from exomirkg.namespaces import GRAPH_INFERRED, GRAPH_STATEMENTS, PREFIXES, REASONER_GRAPHS, SH
from exomirkg.queries import read_header
from exomirkg.reason import line_key, reads_key, rule_reads
from exomirkg.report import (
    CHECK_BASE,
    UNKNOWN_FILE,
    ValidationReport,
    ValidationResult,
    sort_key,
)
from exomirkg.store import dataset_to_store, return_freed_memory, to_oxigraph, to_rdflib

__all__ = [
    "CHECK_SCOPES",
    "SHAPE_ENGINES",
    "Check",
    "ShapesChange",
    "ShapesRun",
    "ValidationReport",
    "ValidationResult",
    "asserted_checks",
    "asserted_graph",
    "checks_store",
    "default_shapes_engine",
    "drop_statements",
    "load_checks",
    "load_statements",
    "load_shapes",
    "run_checks",
    "run_shapes",
    "run_shapes_rudof",
    "run_shapes_sparql",
    "shapes_change",
    "validate_dataset",
    "validate_change",
    "validate_sources",
]

logger = logging.getLogger(__name__)

#: Graphs a check can run on (its ``#+ scope:`` header; ``union`` when absent).
CHECK_SCOPES = ("asserted", "inferred", "union")
#: Where results about reasoner-made nodes are filed.
INFERRED_FILE = "(inferred by the reasoner: graph/inferred)"
#: SHACL engines :func:`run_shapes` can use: ``sparql`` (the shapes compiled to SPARQL,
#: :mod:`exomirkg.shacl_sparql`; the build's), pyshacl (the reference) and rudof (a second one).
SHAPE_ENGINES = ("sparql", "rudof", "pyshacl")
#: rudof's severity names (it gives a custom severity as its IRI).
_RUDOF_SEVERITIES = {"Violation": SH.Violation, "Warning": SH.Warning, "Info": SH.Info}
#: Datatypes rudof prints a well-formed literal of bare, as its value (``true``, ``7``).
_RUDOF_BARE = {XSD[name] for name in (
    "boolean", "dateTime", "long", "short", "byte", "nonNegativeInteger", "nonPositiveInteger",
    "negativeInteger", "positiveInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte")}
#: Prefixes rudof compacts a literal's datatype with (it prints other datatypes as <IRI>).
_RUDOF_DATATYPE_PREFIXES = {"xsd": str(XSD), "rdf": str(RDF), "rdfs": str(RDFS)}
#: A printed path that is one predicate (rudof writes complex paths as ``(a | b)``, ``^(p)``).
_PLAIN_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\()]*\Z")
_STATEMENTS = pyoxigraph.NamedNode(GRAPH_STATEMENTS)
#: rdf:type, for the store's lookups.
_OX_TYPE = pyoxigraph.NamedNode(str(RDF.type))
#: The terms of a result's description, looked up once (a Namespace attribute is not free).
_SH_RESULT, _SH_COMPONENT, _SH_SOURCE, _SH_SEVERITY, _SH_FOCUS, _SH_VALUE, _SH_PATH, \
    _SH_MESSAGE = (SH.ValidationResult, SH.sourceConstraintComponent, SH.sourceShape,
                   SH.resultSeverity, SH.focusNode, SH.value, SH.resultPath, SH.resultMessage)
#: Range constraints by component: the bound's parameter and the comparison a value must pass.
_RANGES = {shacl_sparql.COMPONENTS[parameter]: (parameter, passes)
           for parameter, passes in shacl_sparql.RANGES.items()}
#: SHACL's path modifiers as rdflib's (sh:zeroOrMorePath -> ``*`` ...).
_PATH_MODIFIERS = {SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}


def default_shapes_engine() -> str:
    """``sparql``: the shapes compiled to SPARQL (:mod:`exomirkg.shacl_sparql`; at 10^6
    triples a fraction of rudof's time and memory, where pyshacl takes minutes at 10^5)."""
    return "sparql"


@dataclass(frozen=True)
class Check:
    """A ``*-violation.rq`` check: any row it returns is a violation.

    :ivar summary: what the check looks for (``#+ summary:``).
    :ivar description: how to fix a row (``#+ description:``).
    :ivar scope: ``asserted``, ``inferred`` or ``union`` (``#+ scope:``).
    :ivar focus: ``#+ focus:``: the first selected variable's name (the check must run on
        given focus nodes: :mod:`exomirkg.check_focus`), ``none`` (it always runs in full),
        or None (absent: it runs on focus nodes if the analysis can tell which).
    :ivar partition: ``#+ partition:``: another selected variable the check runs on instead
        (its rows of given values are the full run's; duplicate-label's ``?class``: an
        aggregate's rows stand for groups, not for focus nodes), or None.
    """

    name: str
    path: Path
    text: str
    summary: str
    description: str
    scope: str
    focus: str | None = None
    partition: str | None = None


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
        check = Check(path.name.removesuffix(".rq"), path, text, summary, description, scope,
                      _focus_header(path, text, header.get("focus")),
                      _header_variable(header.get("partition")))
        if check.partition is not None:
            try:  # a partition is never guessed: say at once if the query cannot run on it
                check_focus.analyse(check)
            except ValueError as error:
                raise DataFileError(path, None, f"#+ partition: {error}") from None
        checks.append(check)
    return checks


#: The first variable of a SELECT clause (after DISTINCT or REDUCED).
_FIRST_SELECTED = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?[?$]([A-Za-z_]\w*)",
                             re.IGNORECASE)


def _header_variable(value: object) -> str | None:
    """A ``#+`` header naming a variable, its ``?`` optional: the variable's name."""
    return None if value is None else str(value).strip().removeprefix("?")


def _focus_header(path: Path, text: str, value: object) -> str | None:
    """A check's ``#+ focus:``: ``none``, or its first selected variable (``?`` optional).

    :raises DataFileError: for any other value.
    """
    focus = _header_variable(value)
    if focus is None:
        return None
    if focus == check_focus.FOCUS_NONE:
        return focus
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    first = _FIRST_SELECTED.search(code)
    if first is None or first[1] != focus:
        raise DataFileError(path, None, f"#+ focus: must be '{check_focus.FOCUS_NONE}' or the "
                            f"first selected variable{f' ?{first[1]}' if first else ''}, "
                            f"not {value!r}")
    return focus


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


class _Statements:
    """The data rudof validates, as N-Triples text, and the lookup its results need: the
    objects of a node along a SHACL path, as the data writes them (a value rudof prints is
    matched to one of these). From an rdflib graph, or from the statements the build read
    (:class:`exomirkg.load.Sources`), whose index is made on first use: a conforming graph
    never pays for it.
    """

    def __init__(self, graph: Graph | None = None,
                 text: bytes | Sequence[bytes] | None = None) -> None:
        """:param text: N-Triples, or the texts of several graphs (blank-node labels shared,
            as in one text): the build's own, not joined into a copy (1.3 GB at 10^7)."""
        self.graph = graph
        self._texts = [text] if isinstance(text, bytes) else list(text or ())
        self._lines: dict[bool, dict[bytes, list[bytes]]] = {}
        self._parsed: dict[tuple[bool, bytes], list[pyoxigraph.Triple]] = {}

    def text(self) -> str:
        if self.graph is not None:
            return self.graph.serialize(format="nt")
        return b"".join(self._texts).decode("utf-8")

    def contains(self, subject: Identifier, predicate: URIRef, obj: Identifier) -> bool:
        if self.graph is not None:
            return (subject, predicate, obj) in self.graph
        return obj in self.objects(subject, predicate)

    def objects(self, node: Identifier, path: URIRef | RdfPath) -> set[Identifier]:
        """The nodes reached from ``node`` along ``path`` (rdflib's path objects)."""
        if self.graph is not None:
            return set(self.graph.objects(node, path))
        return {to_rdflib(term) for term in self._walk({to_oxigraph(node)}, path)}

    def _index(self, by_object: bool) -> dict[bytes, list[bytes]]:
        """N-Triples lines by their subject's (or IRI / blank-node object's) written form."""
        if by_object not in self._lines:
            index: dict[bytes, list[bytes]] = {}
            for line in (line for text in self._texts
                         for line in text.splitlines(keepends=True)):
                if by_object:
                    # The object is the last term; an IRI or a blank node holds no space.
                    key = line[line.rfind(b" ", 0, len(line) - 3) + 1:-3]
                    if key[:1] != b"<" and key[:2] != b"_:":
                        continue
                else:
                    key = line[:line.find(b" ")]
                index.setdefault(key, []).append(line)
            self._lines[by_object] = index
        return self._lines[by_object]

    def _triples(self, term: object, by_object: bool) -> list[pyoxigraph.Triple]:
        key = (by_object, str(term).encode("utf-8"))
        if key not in self._parsed:
            lines = self._index(by_object).get(key[1], [])
            self._parsed[key] = [pyoxigraph.Triple(q.subject, q.predicate, q.object)
                                 for q in pyoxigraph.parse(b"".join(lines),
                                                           format=pyoxigraph.RdfFormat.N_TRIPLES)]
        return self._parsed[key]

    def _walk(self, nodes: set, path: URIRef | RdfPath) -> set:
        return shacl_sparql.walk_path(nodes, path, self._step)

    def _step(self, nodes: set, predicate: str, forward: bool) -> set:
        if forward:
            return {t.object for node in nodes if not isinstance(node, pyoxigraph.Literal)
                    for t in self._triples(node, False) if t.predicate.value == predicate}
        return {t.subject for node in nodes if not isinstance(node, pyoxigraph.Literal)
                for t in self._triples(node, True) if t.predicate.value == predicate}


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
    """Find the source file that declares a node (its rdf:type), else that describes it, else
    that uses it: the first such file in load order; graph/inferred only for a node no file
    names. Looked up in the store per node asked about (a table of every node cost 8 s at
    10^6 triples)."""

    def __init__(self, store: pyoxigraph.Store, graphs: Iterable[URIRef],
                 data_root: Path | None) -> None:
        root = (data_root or paths.DATA_ROOT).resolve()
        self.store = store
        self.files: dict[URIRef, str] = {}
        for source in source_files(data_root):
            try:
                self.files.setdefault(source.graph, str(source.path.resolve().relative_to(root)))
            except ValueError:
                self.files.setdefault(source.graph, str(source.path))
        self.inferred = str(GRAPH_INFERRED)
        self.rank = {str(name): index for index, name in enumerate(graphs)}
        self.cache: dict[object, str] = {}

    def _graph_of(self, node: object) -> str | None:
        try:
            term = to_oxigraph(node)  # type: ignore[arg-type]
        except ValueError:  # an IRI rdflib made and pyoxigraph cannot hold: no file to name
            return None
        subject = None if isinstance(term, pyoxigraph.Literal) else term
        patterns = [(subject, _OX_TYPE, None), (subject, None, None), (None, None, term)]
        inferred = None
        for pattern in patterns if subject is not None else patterns[2:]:
            names = {quad.graph_name.value for quad in self.store.quads_for_pattern(*pattern)
                     if isinstance(quad.graph_name, pyoxigraph.NamedNode)}
            ranked = [name for name in names if name in self.rank and name != self.inferred]
            if ranked:
                return min(ranked, key=self.rank.__getitem__)
            inferred = inferred or (self.inferred if self.inferred in names else None)
        return inferred  # only the reasoner says anything of it

    def file_of(self, node: object) -> str:
        if node not in self.cache:
            graph = self._graph_of(node) if node is not None else None
            self.cache[node] = (UNKNOWN_FILE if graph is None
                                else INFERRED_FILE if graph == self.inferred
                                else self.files.get(URIRef(graph), graph))
        return self.cache[node]


def _first_message(messages: Iterable[Literal]) -> str:
    """The message a result shows: with several ``sh:message`` (one per language), the first
    by language tag then text, so that both engines (and every run) pick the same one."""
    ordered = sorted(messages, key=lambda m: (getattr(m, "language", None) or "", str(m)))
    return str(ordered[0]) if ordered else ""


def _shape_result(
    shapes: Graph,
    locate: _Locator | None,
    *,
    focus: Identifier | None,
    source: Identifier | None,
    component: Identifier | None,
    severity: Identifier | None,
    value: Identifier | None,
    path: Identifier | None,
    messages: list[Literal],
    described: tuple[tuple[Identifier, Identifier], ...],
    path_graphs: tuple[Graph, ...],
    cache: dict[tuple[str, object], str],
) -> ValidationResult:
    """One shape result as the report shows it, whichever engine found it.

    ``cache`` keeps the rendered shapes, paths and nodes of one validation: a large graph has
    thousands of results on a few shapes, and rendering a CURIE is what costs.
    """
    def shown(kind: str, term: object) -> str:
        key = (kind, term)
        if key not in cache:
            if kind == "rule":
                owner = next(iter(shapes.subjects(SH.property, term)), term) if term else None
                cache[key] = _show(owner) if isinstance(owner, URIRef) else "(anonymous shape)"
            elif kind == "path":
                cache[key] = _show_path(term, *path_graphs)
            elif kind == "file":
                cache[key] = locate.file_of(term) if locate else UNKNOWN_FILE
            else:
                cache[key] = _show(term)
        return cache[key]

    return ValidationResult(
        severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
        rule=shown("rule", source),
        focus=shown("term", focus),
        file=shown("file", focus),
        message=_first_message(messages),
        path=shown("path", path),
        # Node-level constraints report the focus node itself as the value: say it once.
        value="" if value == focus else shown("term", value),
        kind="shape",
        component=shown("term", component),
        rdf=described,
    )


def run_shapes(
    data: Graph, shapes: Graph, locate: _Locator | None = None, *, engine: str = "pyshacl"
) -> list[ValidationResult]:
    """Validate a graph against the shapes (no inference: types must be declared).

    :param data: the asserted graph, ontology included (it carries rdfs:subClassOf).
    :param shapes: the shapes graph.
    :param locate: maps a focus node to its source file.
    :param engine: ``pyshacl`` (the reference), ``sparql`` (:func:`run_shapes_sparql`) or
        ``rudof`` (:func:`run_shapes_rudof`).
    :returns: one result per SHACL result, its rule being the named node shape.
    :raises DataFileError: when pyshacl cannot load the shapes.
    :raises ValueError: for an engine not in :data:`SHAPE_ENGINES`.
    """
    if engine == "rudof":
        return run_shapes_rudof(data, shapes, locate)
    if engine == "sparql":
        return run_shapes_sparql(data, shapes, locate)
    if engine != "pyshacl":
        raise ValueError(f"unknown SHACL engine {engine!r}; choose one of {SHAPE_ENGINES}")
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
    cache: dict[tuple[str, object], str] = {}
    for node in report.objects(None, SH.result):
        results.append(_shape_result(
            shapes, locate,
            focus=report.value(node, SH.focusNode),
            source=report.value(node, SH.sourceShape),
            component=report.value(node, SH.sourceConstraintComponent),
            severity=report.value(node, SH.resultSeverity),
            value=report.value(node, SH.value),
            path=report.value(node, SH.resultPath),
            messages=list(report.objects(node, SH.resultMessage)),
            # pyshacl's own description of the result, kept as RDF for the SHACL report; a
            # property shape is shown by the node shape that owns it, and a blank node value
            # from the data is named by the text report only.
            described=tuple((p, o) for p, o in report.predicate_objects(node)),
            path_graphs=(report, shapes), cache=cache,
        ))
    return results


def run_shapes_sparql(
    data: Graph | bytes, shapes: Graph, locate: _Locator | None = None
) -> list[ValidationResult]:
    """Validate a graph (or its N-Triples text) with the shapes compiled to SPARQL
    (:mod:`exomirkg.shacl_sparql`); the results are :func:`run_shapes`'s.

    :raises DataFileError: for a constraint the compiler does not support.
    """
    text = data if isinstance(data, bytes) else data.serialize(format="nt", encoding="utf-8")
    store = shacl_sparql.shapes_store(text)
    return _sparql_results(shacl_sparql.validate_store(store, shapes), shapes, locate)


def _sparql_results(violations: list[shacl_sparql.ShapeViolation], shapes: Graph,
                    locate: _Locator | None) -> list[ValidationResult]:
    """The engine's results as ValidationResults, described as pyshacl describes them; a
    shape without ``sh:message`` gets ``"<component> not satisfied"`` (pyshacl writes its
    own text: the one field the engines can disagree on, as with rudof)."""
    cache: dict[tuple[str, object], str] = {}
    results = []
    for v in violations:
        messages = list(v.messages) or [
            Literal(f"{_show(v.component).removeprefix('sh:')} not satisfied")]
        described: list[tuple[Identifier, Identifier]] = [
            (RDF.type, _SH_RESULT), (_SH_COMPONENT, v.component), (_SH_SOURCE, v.source),
            (_SH_SEVERITY, v.severity), (_SH_FOCUS, v.focus)]
        if v.value is not None:
            described.append((_SH_VALUE, v.value))
        if v.path is not None:
            described.append((_SH_PATH, v.path))
        described += [(_SH_MESSAGE, m) for m in messages]
        results.append(_shape_result(
            shapes, locate, focus=v.focus, source=v.source, component=v.component,
            severity=v.severity, value=v.value, path=v.path, messages=messages,
            described=tuple(described), path_graphs=(shapes,), cache=cache,
        ))
    return results


def _rudof_term(text: str) -> Identifier:
    """Read back a term as rudof prints it: ``_:label``, a bare IRI, ``<IRI>``, or a literal
    ``"lexical"`` + ``@lang`` or ``^^datatype`` (lexical form unescaped; datatype compacted
    with xsd:, rdf:, rdfs: or in <>). rudof prints some typed literals bare (``true``, ``7``
    for xsd:long, an xsd:dateTime): those come back as an IRI of that text, which
    :func:`_resolve` matches to the data's literal."""
    if text.startswith("_:"):
        return BNode(text[2:])
    if text.startswith("<") and text.endswith(">"):
        return URIRef(text[1:-1])
    if not text.startswith('"'):
        return URIRef(text)
    # The lexical form is not escaped, but neither a language tag nor a datatype holds '"':
    # the last '"' closes the literal.
    end = text.rindex('"')
    lexical, tail = text[1:end], text[end + 1:]
    if tail.startswith("@"):
        return Literal(lexical, lang=tail[1:])
    if tail.startswith("^^<") and tail.endswith(">"):
        return Literal(lexical, datatype=URIRef(tail[3:-1]))
    if tail.startswith("^^"):
        prefix, _, local = tail[2:].partition(":")
        namespace = _RUDOF_DATATYPE_PREFIXES.get(prefix)
        # An unknown prefix: the lexical form alone, which _resolve matches to the data.
        return Literal(lexical, datatype=URIRef(namespace + local)) if namespace else Literal(
            lexical)
    return Literal(lexical)


def _rdflib_path(shapes: Graph, node: Identifier) -> URIRef | RdfPath:
    """A SHACL property path (IRI, sequence list, alternative, inverse, modifiers) in rdflib."""
    if isinstance(node, URIRef):
        return node
    if shapes.value(node, RDF.first) is not None:
        return SequencePath(*(_rdflib_path(shapes, p) for p in Collection(shapes, node)))
    alternatives = shapes.value(node, SH.alternativePath)
    if alternatives is not None:
        return AlternativePath(*(_rdflib_path(shapes, p) for p in Collection(shapes, alternatives)))
    inverse = shapes.value(node, SH.inversePath)
    if inverse is not None:
        return InvPath(_rdflib_path(shapes, inverse))
    for predicate, modifier in _PATH_MODIFIERS.items():
        inner = shapes.value(node, predicate)
        if inner is not None:
            return MulPath(_rdflib_path(shapes, inner), modifier)
    raise ValueError(f"not a SHACL path: {node!r}")


def _kind(term: Identifier) -> str:
    """``iri``, ``bnode``, ``string`` (plain or xsd:string), ``lang`` or ``typed``."""
    if isinstance(term, URIRef):
        return "iri"
    if isinstance(term, BNode):
        return "bnode"
    if isinstance(term, Literal) and term.language:
        return "lang"
    if isinstance(term, Literal) and term.datatype in (None, XSD.string):
        return "string"
    return "typed"


def _resolve(term: Identifier, candidates: set[Identifier],
             taken: set[Identifier] | frozenset[Identifier] = frozenset()) -> Identifier:
    """The data's own term for a value rudof printed.

    The value node equal to it, else the one with the same text (and language, in any case).
    rudof prints ``"x"^^xsd:string`` as ``"x"`` and some typed literals bare (``true``, ``7``
    for xsd:long, an xsd:dateTime), so the printed form alone does not always give the term
    back; it writes a language tag ``EN-gb`` as ``en-GB``, which rdflib holds equal but writes
    as the data has it, so the data's term is returned, never the printed one.

    :param taken: values already reported for this focus node, shape and component: when two
        values print alike (``7`` for both xsd:long and xsd:nonNegativeInteger), each result
        gets its own.
    """
    same = next((c for c in candidates if c == term), None)
    if same is not None:
        return same
    language = (getattr(term, "language", None) or "").lower()
    matches = [c for c in candidates if str(c) == str(term)
               and (getattr(c, "language", None) or "").lower() == language]
    if not matches:
        logger.warning("rudof value %s is not a value node of its result", term.n3())
        return term
    # Several values with this text (12 and "12"^^xsd:long): the ones rudof prints this way
    # first (bare: an IRI or a well-formed literal of _RUDOF_BARE; quoted without a tag: a
    # plain or xsd:string literal), then one not reported yet, then a fixed order.
    def printed_so(c: Identifier) -> bool:
        if _kind(term) == "iri":
            return isinstance(c, URIRef) or (
                isinstance(c, Literal) and c.datatype in _RUDOF_BARE and c.value is not None)
        return _kind(c) == _kind(term)

    return min(matches, key=lambda c: (not printed_so(c), c in taken, c.n3()))


def _within_range(shapes: Graph, source: Identifier | None, component: Identifier,
                  value: Identifier | None) -> bool:
    """Whether a range result rudof gave is wrong: a number that does pass the bound.

    rudof 0.3.35 does not compare a value of a derived integer type (``xsd:long``, ``xsd:int``,
    ``xsd:short``, ``xsd:nonNegativeInteger``...) with a bound and fails it; SHACL (and pyshacl)
    compare numbers by value. Both sides must be well-formed numbers to be compared here.
    """
    rule = _RANGES.get(component)
    if rule is None or source is None or not isinstance(value, Literal):
        return False
    bound = shapes.value(source, rule[0])
    if not isinstance(bound, Literal):
        return False
    numbers = (value.value, bound.value)
    if not all(isinstance(n, (int, float, Decimal)) and not isinstance(n, bool)
               for n in numbers):
        return False
    return bool(rule[1](*numbers))


def run_shapes_rudof(
    data: Graph | _Statements, shapes: Graph, locate: _Locator | None = None
) -> list[ValidationResult]:
    """Validate a graph against the shapes with rudof; the results are :func:`run_shapes`'s.

    rudof reads both graphs as N-Triples, so blank-node labels survive: a
    property shape it reports is the shapes graph's own node (traced to its node shape), and a
    blank focus node or value is the data's. From rudof's result come the focus node, source
    shape, constraint component, severity and value (its printed form read back and matched to
    the data's value nodes); path and messages come from the shapes graph, as pyshacl takes
    them: the source shape's ``sh:path`` and ``sh:message`` (rudof puts its own text in place
    of some messages). A shape without ``sh:message`` gets rudof's text, or
    ``"<component> not satisfied"``, where pyshacl writes its own: the one field the engines
    can disagree on (every shape here has a message; tests/test_validation_engines.py).
    Results rudof repeats are reported once, and the range results it gets wrong are dropped
    (:func:`_within_range`).

    :param data: the asserted graph, ontology included (it carries rdfs:subClassOf).
    :param shapes: the shapes graph.
    :param locate: maps a focus node to its source file.
    :returns: one result per distinct SHACL result, its rule being the named node shape.
    :raises pyrudof.RudofError: when rudof cannot read the shapes or the data (callers fall
        back to pyshacl, which names a shapes file it cannot read).
    """
    statements = data if isinstance(data, _Statements) else _Statements(graph=data)
    return _rudof_results(_rudof_report(statements, shapes), statements, shapes, locate)


def _rudof_report(statements: _Statements, shapes: Graph) -> object:
    """rudof's own report (Rust; it releases the GIL while it validates, so the build runs
    this in a thread while it reasons).

    :raises pyrudof.RudofError: when rudof cannot read the shapes or the data.
    """
    import pyrudof

    engine = pyrudof.Rudof(pyrudof.RudofConfig())
    strict = pyrudof.ReaderMode.Strict  # a triple rudof cannot read fails, never drops
    engine.read_shacl(shapes.serialize(format="nt"), format=pyrudof.ShaclFormat.NTriples,
                      reader_mode=strict)
    engine.read_data(statements.text(), format=pyrudof.RDFFormat.NTriples, reader_mode=strict)
    return engine.validate_shacl()


def _rudof_results(report: object, statements: _Statements, shapes: Graph,
                   locate: _Locator | None) -> list[ValidationResult]:
    """rudof's report as :func:`run_shapes_rudof` describes it."""
    # Per source shape: its sh:path, that path in rdflib, its sh:message(s).
    shape_info: dict[Identifier | None, tuple[Identifier | None, URIRef | RdfPath | None,
                                              list[Literal]]] = {}
    cache: dict[tuple[str, object], str] = {}
    seen: set[tuple[Identifier | None, ...]] = set()
    # Values already reported per (focus node, source shape, component), for _resolve.
    taken: dict[tuple[Identifier | None, ...], set[Identifier]] = {}
    results = []
    for entry in report.violations:  # type: ignore[attr-defined]
        focus = _rudof_term(entry.focus_node)
        source = _rudof_term(entry.source_shape) if entry.source_shape else None
        if source not in shape_info:
            shape_path = shapes.value(source, SH.path) if source is not None else None
            shape_info[source] = (
                shape_path, None if shape_path is None else _rdflib_path(shapes, shape_path),
                list(shapes.objects(source, SH.message)) if source is not None else [])
        path, walk, messages = shape_info[source]
        component = URIRef(entry.constraint_component)
        severity = _RUDOF_SEVERITIES.get(entry.severity) or URIRef(entry.severity)
        if path is None and entry.path and _PLAIN_IRI.match(entry.path):
            path = URIRef(entry.path)  # a predicate (sh:closed), as pyshacl reports it
        value = None
        if entry.value is not None:
            value = _rudof_term(entry.value)
            # Cheap when the printed form is the data's term (an IRI path holds the triple;
            # a language tag may differ in case); else match it among the value nodes.
            used = taken.setdefault((focus, source, component), set())
            if walk is None:
                value = _resolve(value, {focus}, used)
            elif not (isinstance(walk, URIRef) and not getattr(value, "language", None)
                      and statements.contains(focus, walk, value)):
                value = _resolve(value, statements.objects(focus, walk), used)
            used.add(value)
        key = (focus, source, component, severity, value, path)
        if key in seen or _within_range(shapes, source, component, value):
            continue
        seen.add(key)
        if not messages:
            text = entry.message
            if len(text) > 1 and text.startswith('"') and text.endswith('"'):
                text = text[1:-1]
            messages = [Literal(text or f"{_show(component).removeprefix('sh:')} not satisfied")]
        # The same description pyshacl gives (the SHACL report is written from it).
        described: list[tuple[Identifier, Identifier]] = [
            (RDF.type, _SH_RESULT), (_SH_COMPONENT, component)]
        if source is not None:
            described.append((_SH_SOURCE, source))
        described += [(_SH_SEVERITY, severity), (_SH_FOCUS, focus)]
        if value is not None:
            described.append((_SH_VALUE, value))
        if path is not None:
            described.append((_SH_PATH, path))
        described += [(_SH_MESSAGE, m) for m in messages]
        results.append(_shape_result(
            shapes, locate, focus=focus, source=source, component=component,
            severity=severity, value=value, path=path, messages=messages,
            described=tuple(described), path_graphs=(shapes,), cache=cache,
        ))
    return results


def checks_store(dataset: Dataset, inferred: Graph | None = None) -> pyoxigraph.Store:
    """Copy the dataset (named graphs kept) and the inferred graph into pyoxigraph."""
    return dataset_to_store(dataset, [] if inferred is None else [(inferred, GRAPH_INFERRED)])


#: A check's answer: its columns and its rows (rdflib terms; None where a column is unbound).
_CheckRows = tuple[list[str], list[dict[str, Identifier | None]]]


#: Focus nodes a check's query names at most: above ~1,000 the engine's plan for a VALUES
#: block changes (finding-without-effect-violation at 10^5 triples: 7 ms for 1,000 nodes,
#: 0.44 s for 2,000; statement-without-evidence-violation 20 s for 5,000), so more go in
#: batches.
_CHECK_BATCH = 500


def _check_rows(store: pyoxigraph.Store, check: Check,
                focus: Iterable[Identifier] | None = None, *,
                statements: Sequence[pyoxigraph.NamedNode] | None = None) -> _CheckRows:
    """Run one check on its scope.

    :param focus: only the rows whose first column (for a check with ``#+ partition:``, that
        variable's column) is one of these terms (rdflib's): the query runs on them
        (:mod:`exomirkg.check_focus`, :data:`_CHECK_BATCH` at a time) where it can name
        them, else in full, its rows filtered; in full too above one node per
        :data:`exomirkg.shacl_sparql._NODE_COST` quads, as the shapes (a focus run costs
        0.2-0.4 ms a node in the slowest checks at 10^5 triples, a full run 2 us a triple).
        None: every row.
    :param statements: graphs whose union is the asserted statements, read as the default
        graph of scope ``asserted``; None: GRAPH_STATEMENTS where the store has it, else
        every asserted graph.
    :raises DataFileError: for a check that is not valid SPARQL or not a SELECT, or whose
        ``#+ focus:`` or ``#+ partition:`` names a variable it cannot run on.
    """
    texts, keep, column = [check.text], None, check.partition
    inferred = pyoxigraph.NamedNode(str(GRAPH_INFERRED))
    options: dict[str, object] = {"use_default_graph_as_union": True}
    names = list(store.named_graphs())
    # Their union in one graph where the store has it (GRAPH_STATEMENTS: the build's, while it
    # validates), read instead of every asserted graph.
    union = _STATEMENTS in names
    # Not the reasoner's working graphs either, as the default graph or for GRAPH ?g: the
    # build runs the asserted checks while it reasons in the same store.
    asserted = [g for g in names if g != inferred and not g.value.startswith(REASONER_GRAPHS)]
    if check.scope == "asserted":
        options = {"default_graph": list(statements) if statements is not None
                   else [_STATEMENTS] if union else [pyoxigraph.DefaultGraph(), *asserted],
                   "named_graphs": asserted}
    elif check.scope == "union" and union:
        options = {"default_graph": [_STATEMENTS, inferred],
                   "named_graphs": [*asserted, inferred]}
    elif check.scope == "inferred":
        options = {"default_graph": [inferred]}
    if focus is not None:
        try:
            analysis = check_focus.analyse(check)
        except ValueError as error:
            raise DataFileError(check.path, None, str(error)) from None
        nodes = list(focus)
        written, unnamed = shacl_sparql.split_focus(nodes, encoded=False)
        if analysis.variable is None or unnamed or shacl_sparql.full_run_is_faster(
                store, len(written)):
            keep = {shacl_sparql.node_key(node) for node in nodes}
        else:
            # Nodes a MINUS of the focus alone matches have no row: not looked for.
            gone = check_focus.excluded(store, analysis, written, **options)
            written = sorted(node for node in written if node not in gone)
            texts = [check_focus.focused_text(check.text, analysis,
                                              written[start:start + _CHECK_BATCH])
                     for start in range(0, max(len(written), 1), _CHECK_BATCH)]
    rows: list[dict[str, Identifier | None]] = []
    for text in texts:
        try:
            solutions = store.query(text, **options)
        except SyntaxError as error:
            raise DataFileError(check.path, None, f"SPARQL syntax error: {error}") from None
        # The results are let go here, not when the frame goes: pyoxigraph's may be freed
        # only by the thread that made them, and a frame kept in a reference cycle after it
        # returns is freed by the garbage collector in whatever thread it runs (rdflib's
        # parser, check_focus.analyse above, did that before it ran on its own thread).
        if not isinstance(solutions, pyoxigraph.QuerySolutions):
            del solutions
            raise DataFileError(check.path, None, "a check must be a SELECT query")
        columns = [v.value for v in solutions.variables]
        rows += [{c: None if solution[c] is None else to_rdflib(solution[c]) for c in columns}
                 for solution in solutions]
        del solutions
    if keep is not None:
        column = column or columns[0]
        rows = [row for row in rows if row[column] is not None
                and shacl_sparql.node_key(row[column]) in keep]
    return columns, rows


#: Checks :func:`run_checks` runs at once (the build's machine has two cores).
_CHECK_THREADS = 2


def run_checks(store: pyoxigraph.Store, checks: Iterable[Check],
               locate: _Locator | None = None, *,
               focus: Iterable[Identifier] | None = None) -> list[ValidationResult]:
    """Run each check on its scope; every row becomes a Violation on the row's first column.

    :param store: the dataset, with the reasoner's output in graph/inferred.
    :param focus: only the results on these nodes (for a check with ``#+ partition:``, on
        these values of it: :func:`_check_rows`); None: all.
    :raises DataFileError: for a check that is not valid SPARQL or not a SELECT.
    """
    checks = list(checks)
    if focus is not None:
        focus = list(focus)
    # Two at a time: pyoxigraph evaluates a query without the GIL, and when the build runs
    # these (after reasoning) its second core is idle. In order of the checks, as run alone.
    with ThreadPoolExecutor(max_workers=_CHECK_THREADS,
                            thread_name_prefix="exomirkg-checks") as pool:
        answers = list(pool.map(partial(_check_rows, store, focus=focus), checks))
    results = []
    for check, answer in zip(checks, answers, strict=True):
        results += _check_results(check, answer, locate)
    return results


def _check_results(check: Check, answer: _CheckRows,
                   locate: _Locator | None) -> list[ValidationResult]:
    """A check's rows as Violations on each row's first column."""
    columns, rows = answer
    shape = URIRef(CHECK_BASE + check.name)
    results = []
    for row in rows:
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


class ShapesRun:
    """The part of a validation that reads only the files' statements, started before the
    reasoner: the shapes, and - given the store of the asserted graphs - the checks of scope
    ``asserted``. They run in a thread while the reasoner works (pyoxigraph and rudof release
    the GIL; the machine has two cores); the reasoner adds nothing to the store but
    graph/inferred and its working graphs, which these never read. The ``sparql`` engine
    loads its own store of the asserted statements there
    (:func:`exomirkg.shacl_sparql.shapes_store`: the build's store keeps a literal's value,
    not its written form). :func:`validate_sources` takes the results.
    At 10^6 triples the asserted checks take ~16 s, and the shapes 26 s, of the reasoner's ~75 s.
    """

    def __init__(self, sources: Sources, *, shapes_dir: Path | None = None,
                 engine: str | None = None, store: pyoxigraph.Store | None = None,
                 checks_dir: Path | None = None,
                 executor: ThreadPoolExecutor | None = None) -> None:
        self.engine = engine or default_shapes_engine()
        if self.engine not in SHAPE_ENGINES:
            raise ValueError(f"unknown SHACL engine {self.engine!r}; "
                             f"choose one of {SHAPE_ENGINES}")
        self.shapes = load_shapes(shapes_dir)
        # Each graph's text as the build holds it: a joined copy was held to the end (0.13 GB
        # at 10^6 triples, through the reasoner's peak).
        self.texts = [text for name, text in sources.graphs.items() if name != GRAPH_INFERRED]
        self.statements = _Statements(text=self.texts)
        self.seconds = 0.0
        #: The checks run here (scope asserted), and their time.
        self.checks: list[Check] = []
        self.check_seconds = 0.0
        #: The checks left for after reasoning; None: it took none (validate_sources reads
        #: its own checks folder).
        self.checks_after: list[Check] | None = None
        self._future: Future | None = None
        self._checks_future: Future | None = None
        self._executor = executor
        if self.engine in ("rudof", "sparql") and len(self.shapes):
            self._future = self._submit(self._timed_report)
        if store is not None:
            self.start_checks(store, checks_dir)

    def _submit(self, task: Callable[..., object], *args: object) -> Future:
        """Run a task in a thread: the caller's executor's, if given (one thread: the shapes,
        then the checks, while the reasoner has the other core), else one of its own."""
        if self._executor is not None:
            return self._executor.submit(task, *args)
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-shapes")
        try:
            return worker.submit(task, *args)
        finally:
            worker.shutdown(wait=False)  # the thread ends with its task

    def start_checks(self, store: pyoxigraph.Store, checks_dir: Path | None = None) -> None:
        """Start the checks of scope ``asserted`` on the store of the asserted graphs (once).

        The shapes need no store: the build starts them before it loads one (the other core
        is free while it loads: 3.7 s at 10^6 triples).
        """
        checks = load_checks(checks_dir)
        self.checks = [check for check in checks if check.scope == "asserted"]
        self.checks_after = [check for check in checks if check.scope != "asserted"]
        if self.checks:
            self._checks_future = self._submit(self._timed_checks, store)

    def _timed_checks(self, store: pyoxigraph.Store) -> list[_CheckRows]:
        start = time.perf_counter()
        try:
            load_statements(store, self.texts)
            return [_check_rows(store, check) for check in self.checks]
        finally:
            self.check_seconds += time.perf_counter() - start

    def check_results(self, locate: _Locator) -> list[ValidationResult]:
        """The results of :attr:`checks` (waiting for the thread if it is still at work)."""
        if self._checks_future is None:
            return []
        answers = self._checks_future.result()  # a DataFileError is raised here
        return [result for check, answer in zip(self.checks, answers, strict=True)
                for result in _check_results(check, answer, locate)]

    def _timed_report(self) -> object:
        start = time.perf_counter()
        try:
            if self.engine == "sparql":
                store = shacl_sparql.shapes_store(self.texts)
                report = shacl_sparql.validate_store(store, self.shapes)
                del store
                # Now, not at the end of the build: the reasoner's peak is still to come.
                return_freed_memory()
                return report
            return _rudof_report(self.statements, self.shapes)
        finally:
            self.seconds += time.perf_counter() - start

    def results(self, locate: _Locator) -> list[ValidationResult]:
        """The shape results (waiting for the thread if it is still at work); if rudof cannot
        read the shapes or the data (a term the parser accepts and rudof's strict reader does
        not), pyshacl validates instead."""
        if not len(self.shapes):
            return []
        report, failed = None, None
        if self._future is not None:
            if self.engine == "sparql":
                violations = self._future.result()  # a DataFileError is raised here
                start = time.perf_counter()
                try:
                    return _sparql_results(violations, self.shapes, locate)
                finally:
                    self.seconds += time.perf_counter() - start
            import pyrudof

            try:
                report = self._future.result()  # its own time is counted by _timed_report
            except pyrudof.RudofError as error:
                failed = error
        start = time.perf_counter()
        try:
            if report is not None:
                return _rudof_results(report, self.statements, self.shapes, locate)
            if failed is not None:
                logger.warning("rudof cannot validate this graph (%s); falling back to pyshacl",
                               failed)
            data = Graph().parse(data=self.statements.text(), format="nt")
            return run_shapes(data, self.shapes, locate)
        finally:
            self.seconds += time.perf_counter() - start


def load_statements(store: pyoxigraph.Store, texts: Sequence[bytes]) -> None:
    """Load the asserted graphs' N-Triples, ``texts``, as their union in one graph
    (GRAPH_STATEMENTS: the checks of scope ``asserted`` and the reasoner read it), unless
    the store holds it already (the build loads it before the checks and the reasoner
    start); :func:`drop_statements` drops it."""
    if not store.contains_named_graph(_STATEMENTS):
        load_ntriples(store, b"".join(texts), _STATEMENTS)


def drop_statements(store: pyoxigraph.Store) -> None:
    """Drop the asserted graphs' union a validation left in the store (GRAPH_STATEMENTS)."""
    if store.contains_named_graph(_STATEMENTS):
        store.remove_graph(_STATEMENTS)


def validate_dataset(
    dataset: Dataset,
    inferred: Graph | None = None,
    shapes_dir: Path | None = None,
    *,
    checks_dir: Path | None = None,
    data_root: Path | None = None,
    engine: str | None = None,
) -> ValidationReport:
    """Validate an rdflib dataset's asserted graphs against the shapes, then run every check.

    :param dataset: the asserted dataset (a graph/inferred in it is used if ``inferred`` is None).
    :param inferred: the reasoner's output, for checks of scope ``inferred`` and ``union``.
    :returns: :func:`validate_sources`'s report.
    """
    sources = Sources.from_rdflib(dataset, [] if inferred is None else [(inferred, GRAPH_INFERRED)])
    return validate_sources(sources, sources.load_into(pyoxigraph.Store()),
                            shapes_dir=shapes_dir, checks_dir=checks_dir, data_root=data_root,
                            engine=engine)


def validate_sources(
    sources: Sources,
    store: pyoxigraph.Store,
    *,
    shapes_dir: Path | None = None,
    checks_dir: Path | None = None,
    data_root: Path | None = None,
    engine: str | None = None,
    shapes: ShapesRun | None = None,
) -> ValidationReport:
    """Validate the asserted graphs against the shapes, then run every check.

    :param sources: the asserted graphs as the files state them (the shapes read these, not
        the store, which keeps a number's value, not its datatype).
    :param store: the same graphs with the reasoner's output in graph/inferred, for the checks.
    :param shapes_dir: folder of ``*.ttl`` shapes (default :data:`paths.SHAPES_DIR`).
    :param checks_dir: folder of ``*-violation.rq`` checks (default :data:`paths.CHECKS_DIR`).
    :param data_root: the data folder, to name the file each result comes from.
    :param engine: SHACL engine, one of :data:`SHAPE_ENGINES` (default
        :func:`default_shapes_engine`, ``sparql``).
    :param shapes: the shapes' part, already started (:class:`ShapesRun`; ``shapes_dir`` and
        ``engine`` are then its own, and ``checks_dir`` too if it was given the store).
    :returns: the report; it conforms when no result is a Violation.
    :raises DataFileError: when a shapes file or a check cannot be read.
    :raises ValueError: for an engine not in :data:`SHAPE_ENGINES`.
    """
    run = shapes or ShapesRun(sources, shapes_dir=shapes_dir, engine=engine)
    timings: dict[str, float] = {}
    locate = _Locator(store, sources.graphs, data_root)
    results = run.results(locate)
    timings["shapes"] = run.seconds
    start = time.perf_counter()
    results += run.check_results(locate)
    checks = load_checks(checks_dir) if run.checks_after is None else run.checks_after
    if checks:
        results += run_checks(store, checks, locate)
    timings["checks"] = time.perf_counter() - start + run.check_seconds
    return _report(results, timings)


def _report(results: list[ValidationResult], timings: dict[str, float]) -> ValidationReport:
    """The results sorted, in a report that conforms when none is a Violation."""
    results.sort(key=sort_key)
    conforms = not any(r.severity == "Violation" for r in results)
    logger.info("validation: %d results, conforms=%s", len(results), conforms)
    return ValidationReport(conforms=conforms, results=results, timings=timings)


@dataclass(frozen=True)
class ShapesChange:
    """The shapes' part of :func:`validate_change`. It reads the shapes engine's store
    alone, so a build runs it while the reasoner updates its own store."""

    shapes: Graph
    #: The focus nodes whose results were made again.
    nodes: set[Identifier]
    violations: list[shacl_sparql.ShapeViolation]
    seconds: float


def shapes_change(shapes_store: pyoxigraph.Store | Sequence[bytes],
                  written: tuple[bytes, bytes], shapes_dir: Path | None = None
                  ) -> ShapesChange:
    """The shapes run on the focus nodes a change of the asserted triples can reach
    (:func:`exomirkg.shacl_sparql.affected_focus`).

    :param shapes_store: the engine's store after the change
        (:func:`exomirkg.shacl_sparql.shapes_store`), or the asserted graphs' N-Triples to
        make it from (only where there are shapes; let go when they have run).
    :param written: the asserted triples (added, removed) as the files write them.
    """
    start = time.perf_counter()
    shapes = load_shapes(shapes_dir)
    if not len(shapes):
        return ShapesChange(shapes, set(), [], 0.0)
    if not isinstance(shapes_store, pyoxigraph.Store):
        shapes_store = shacl_sparql.shapes_store(shapes_store)
    nodes = shacl_sparql.affected_focus(shapes_store, shapes, added=written[0],
                                        removed=written[1])
    violations = shacl_sparql.validate_store(shapes_store, shapes, nodes)
    return ShapesChange(shapes, nodes, violations, time.perf_counter() - start)


#: A check's run on a change: the focus nodes it ran on (None: all) and its rows.
_CheckRun = tuple[set[Identifier] | None, _CheckRows]


def asserted_checks(store: pyoxigraph.Store, statements: Sequence[pyoxigraph.NamedNode],
                    change: tuple[bytes, bytes], checks_dir: Path | None = None
                    ) -> dict[str, _CheckRun]:
    """The checks of scope ``asserted`` that read the change (:func:`reads_change`), each on
    the focus nodes it can reach (:func:`exomirkg.check_focus.affected`; in full where it
    cannot tell), run on ``statements``, by name: what :func:`validate_change` takes as
    ``ran``. A build runs them while the reasoner updates the store, where ``statements``
    (the reasoner's view of the asserted triples after the change) hold the state after: a
    query reads the store as it was when it started, and the nodes a change reaches are
    followed over every graph, the reasoner's working graphs too (more than these checks
    read, never less). At 10^6 triples duplicate-label on a section edit's classes takes
    0.7-1.0 s of them.

    :param change: the asserted triples added and removed, N-Triples as the store holds them.
    """
    def asserted(check: Check) -> bool:
        try:
            check_focus.analyse(check)
        except ValueError:  # its #+ focus: is wrong: validate_change says so
            return False
        return check.scope == "asserted" and reads_change(check, change)

    return {check.name: _run_on_change(store, check, change, statements)
            for check in load_checks(checks_dir) if asserted(check)}


def _run_on_change(store: pyoxigraph.Store, check: Check, change: tuple[bytes, bytes],
                   statements: Sequence[pyoxigraph.NamedNode] | None = None) -> _CheckRun:
    """A check on the focus nodes the change (added, removed) can reach, or in full."""
    nodes = check_focus.affected(store, check, added=change[0], removed=change[1])
    return nodes, _check_rows(store, check, nodes, statements=statements)


def reads_change(check: Check, change: tuple[bytes, bytes]) -> bool:
    """Whether a pattern of the check can match a triple added or removed (N-Triples):
    the rows of a check that matches none are those it had. An edit of a finding's drug
    leaves duplicate-label (0.7-1.0 s on a section edit's classes at 10^6 triples) as it
    was."""
    reads = rule_reads(check.text)
    return any(reads is None or reads_key(reads, line_key(f"{line}\n"))
               for text in change for line in text.decode("utf-8").splitlines())


def validate_change(
    previous: ValidationReport,
    sources: Sources,
    store: pyoxigraph.Store,
    *,
    written: tuple[bytes, bytes],
    asserted: tuple[bytes, bytes],
    inferred: tuple[bytes, bytes],
    shapes_dir: Path | None = None,
    checks_dir: Path | None = None,
    data_root: Path | None = None,
    shapes: ShapesChange | None = None,
    ran: dict[str, _CheckRun] | None = None,
) -> ValidationReport:
    """The report :func:`validate_sources` gives after a change, from the one before it: the
    results of the focus nodes the change can reach are made again, the others kept.

    The shapes run on the nodes :func:`exomirkg.shacl_sparql.affected_focus` names, each
    check on those :func:`exomirkg.check_focus.affected` names for it (in full where it
    cannot tell); a check that reads none of the changed triples keeps its results
    (:func:`reads_change`). A change of the shapes, the checks or the ontology is not
    covered: the caller validates in full then.

    :param previous: the report before the change.
    :param sources: the asserted graphs after it, as the files state them.
    :param store: the build's store after it (graph/inferred reasoned).
    :param written: the asserted triples (added, removed) as the files write them (the
        shapes read those).
    :param asserted: the same as the store holds them (the checks read those).
    :param inferred: graph/inferred's triples (added, removed).
    :param shapes: the shapes' part (:func:`shapes_change`), if run already.
    :param ran: checks run already on the state after (:func:`asserted_checks`), by name.
    """
    if shapes is None:
        shapes = shapes_change([text for name, text in sources.graphs.items()
                                if name != GRAPH_INFERRED], written, shapes_dir)
    locate = _Locator(store, sources.graphs, data_root)
    # Per rule (a shape result's is its source shape: every shape at once), the shown focus
    # nodes whose results are made again; None: every node.
    redone: dict[str, set[str] | None] = {"(shapes)": {_show(node) for node in shapes.nodes}}
    results = _sparql_results(shapes.violations, shapes.shapes, locate)
    start = time.perf_counter()
    # What each scope reads of the change (added, removed).
    change = {"asserted": asserted, "inferred": inferred,
              "union": (asserted[0] + inferred[0], asserted[1] + inferred[1])}
    checks = [check for check in load_checks(checks_dir)
              if reads_change(check, change[check.scope])]

    def redo(check: Check) -> _CheckRun:
        if ran is not None and check.name in ran:
            return ran[check.name]
        return _run_on_change(store, check, change[check.scope])

    # Two at a time, as run_checks: at 10^6 triples duplicate-label alone (on an edit's
    # classes) takes up to ~1 s, the others' focus runs together about as long.
    with ThreadPoolExecutor(max_workers=_CHECK_THREADS,
                            thread_name_prefix="exomirkg-checks") as pool:
        done = list(pool.map(redo, checks))
    for check, (nodes, answer) in zip(checks, done, strict=True):
        results += _check_results(check, answer, locate)
        redone[check.name] = None if nodes is None else {_show(node) for node in nodes}
    # A result of a check with a partition was made again if its row's value of it was.
    partitions = {check.name: check.partition for check in checks if check.partition}
    for result in previous.results:
        again = redone.get("(shapes)" if result.kind == "shape" else result.rule, set())
        partition = partitions.get(result.rule)
        if again is not None and (result.details.get(partition) if partition
                                  else result.focus) not in again:
            results.append(result)
    return _report(results, {"shapes": shapes.seconds,
                             "checks": time.perf_counter() - start})
