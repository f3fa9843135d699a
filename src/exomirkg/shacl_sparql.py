"""The build's SHACL engine: the shapes compiled to SPARQL queries that pyoxigraph evaluates.

Why not a library: at 10^6 triples rudof (pyrudof 0.3.35) took 75-90 s and 9.5-9.8 GB peak
RSS, which set the whole build's peak (about 100 GB at 10^7), and pyshacl takes minutes
already at 10^5 (it walks rdflib's Python objects one focus node at a time). This engine
validates the same 10^6 triples, with the same results, in 26 s with 0.7 GB added (8 s of it
loading its store; benchmarks/validation.py --peak). The shapes of validation/shapes/
use a small part of SHACL Core; each of those constraints is a SPARQL pattern, evaluated
set-at-a-time in Rust (a cardinality is one GROUP BY/HAVING over every focus node, not a
query per node), and only the violations come back to Python. pyshacl stays the reference:
tests/test_validation_engines.py holds this engine's report to pyshacl's, result for result.

The shapes are read as data: every shape with a target (sh:targetClass, sh:targetNode,
sh:targetSubjectsOf, sh:targetObjectsOf, or a node shape that is also a class) is compiled,
with the sh:property shapes, logical constraints (sh:not, sh:and, sh:or, sh:xone), sh:node and
qualified value shapes under it. A nested shape compiles to a SPARQL boolean expression
("this node conforms"), built from EXISTS / NOT EXISTS. A constraint the compiler does not
support raises :class:`~exomirkg.load.DataFileError` rather than being skipped.

Literals as the files write them: a pyoxigraph store keeps a literal's value, not its written
form (``"2019"^^xsd:long`` reads back as xsd:integer, ``"01"^^xsd:integer`` as ``"1"``, a
language tag in lower case), and its bulk loader renames blank nodes. So the engine loads
its own store (:func:`shapes_store`) from the N-Triples text, in which every typed literal's
datatype and every language tag is moved into an IRI the store does not know
(``"01"^^<urn:exomirkg:shacl:datatype:http://www.w3.org/2001/XMLSchema#integer>``,
``"x"^^<urn:exomirkg:shacl:language:EN-gb>``): the store then keeps the lexical form and tag
verbatim, and blank-node labels are kept by parsing the text first. sh:pattern, sh:minLength
and sh:uniqueLang read the written text in SPARQL (a pattern SPARQL's REGEX, Rust's regex
crate, cannot compile, such as a look-ahead, is refused; the shapes' patterns mean the same in
both, but for one corner: Python's ``$`` also matches before a final newline, so pyshacl
passes a DOI written with a trailing newline against a pattern ending in ``$``, and this
engine, as SPARQL's REGEX says, fails it); whether a literal is well-formed for its
XSD datatype, and sh:min/maxInclusive/Exclusive, are decided in Python on rdflib's term, as
pyshacl decides them, for the candidate values SPARQL selects (top-level constraints only).

For the incremental build (docs/scale.md): :func:`validate_store` can validate only given
focus nodes, and :func:`affected_focus` says which focus nodes a change of the data can reach
(its docstring holds the rule); the results of every other node are kept from before.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.term import Identifier

from exomirkg import paths
from exomirkg.load import DataFileError, load_ntriples
from exomirkg.namespaces import SH

__all__ = ["COMPONENTS", "RANGES", "ShapeViolation", "UnionView", "affected_focus",
           "change_quads", "change_shapes_store", "encode_literals", "full_run_is_faster",
           "node_key", "shapes_store", "sparql_term", "split_focus", "validate_store",
           "walk_path"]

#: IRI prefix that carries a typed literal's datatype in the engine's store.
DATATYPE_PREFIX = "urn:exomirkg:shacl:datatype:"
#: IRI prefix that carries a literal's language tag, as written, in the engine's store.
LANGUAGE_PREFIX = "urn:exomirkg:shacl:language:"
#: The object of an N-Triples line when it is a typed literal, and when it has a language tag.
_TYPED = re.compile(rb'"\^\^<([^<>"]*)>([ \t]*\.[ \t\r]*)$', re.MULTILINE)
_TAGGED = re.compile(rb'"@([A-Za-z0-9-]+)([ \t]*\.[ \t\r]*)$', re.MULTILINE)

#: Parameters that only describe a shape or belong to another parameter.
_STRUCTURAL = {SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group,
               SH.defaultValue, SH.deactivated, SH.targetClass, SH.targetNode,
               SH.targetSubjectsOf, SH.targetObjectsOf, SH.path, SH.flags,
               SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint}
#: Constraints checked on each value node (a SPARQL boolean expression per value).
_VALUE_PARAMETERS = {SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.minLength,
                     SH.maxLength, SH["in"], SH["not"], SH["and"], SH["or"], SH.xone, SH.node}
#: Range constraints: the comparison a value must pass (here of pyshacl's compare_literal
#: result with 0; the rudof mapping in exomirkg.validate compares numbers with it).
RANGES: dict[URIRef, Callable[[int, int], bool]] = {
    SH.minInclusive: operator.ge, SH.maxInclusive: operator.le,
    SH.minExclusive: operator.gt, SH.maxExclusive: operator.lt,
}
#: Every parameter the compiler handles.
_SUPPORTED = _VALUE_PARAMETERS | set(RANGES) | {
    SH.minCount, SH.maxCount, SH.hasValue, SH.uniqueLang, SH.property, SH.qualifiedValueShape}
#: sh:nodeKind values as SPARQL tests of a variable (``{v}``).
_NODE_KINDS = {
    SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isIRI({v}) || isBlank({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
#: What pyshacl asks of a well-formed literal's Python value, by datatype.
_VALUE_TYPES: dict[URIRef, type | tuple[type, ...]] = {
    XSD.integer: int, XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool,
    XSD.date: date, XSD.time: time, XSD.dateTime: datetime,
}
_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


@dataclass(frozen=True)
class ShapeViolation:
    """One SHACL validation result, its terms as rdflib's (the data's own terms).

    :ivar source: the shape whose constraint failed (a property shape's node, or the node shape).
    :ivar path: the source shape's ``sh:path`` node in the shapes graph, if it has one.
    """

    focus: Identifier
    source: Identifier
    component: URIRef
    severity: URIRef
    value: Identifier | None
    path: Identifier | None
    messages: tuple[Literal, ...]


def encode_literals(text: bytes) -> bytes:
    """N-Triples text with each literal's datatype and language tag moved into an IRI the
    store keeps verbatim (see the module docstring); plain strings are left as they are.

    The object is the last term of a line and ends it, so the patterns are anchored at the
    line's end: an escaped quote inside a lexical form cannot match.
    """
    text = _TYPED.sub(rb'"^^<' + DATATYPE_PREFIX.encode() + rb'\1>\2', text)
    return _TAGGED.sub(rb'"^^<' + LANGUAGE_PREFIX.encode() + rb'\1>\2', text)


def shapes_store(text: bytes | Sequence[bytes]) -> pyoxigraph.Store:
    """The engine's store: the asserted graphs' N-Triples (one text, or one per graph; merged,
    in the default graph), with literals as written (:func:`encode_literals`) and the text's
    blank-node labels (a label in two texts is one node, as in one text)."""
    store = pyoxigraph.Store()
    # parse() keeps blank-node labels (a load renames them); lenient, as the build's store: a
    # statement rdflib made may hold an IRI the strict reader refuses. A text without a blank
    # node is loaded, with no Python object per triple (at 10^6 triples 3.4 s -> 2.9 s).
    for part in [text] if isinstance(text, bytes) else text:
        encoded = encode_literals(part)
        if b"_:" in encoded:
            store.bulk_extend(pyoxigraph.parse(encoded, format=pyoxigraph.RdfFormat.N_TRIPLES,
                                               lenient=True))
        else:
            load_ntriples(store, encoded, pyoxigraph.DefaultGraph())
    return store


def change_shapes_store(store: pyoxigraph.Store, added: bytes, removed: bytes) -> None:
    """Apply a change to a :func:`shapes_store`: ``removed``, N-Triples lines no graph states
    any more, go out, ``added`` come in (with literals as written, as it was made)."""
    nt = pyoxigraph.RdfFormat.N_TRIPLES
    for quad in pyoxigraph.parse(encode_literals(removed), format=nt, lenient=True):
        store.remove(quad)
    store.bulk_extend(pyoxigraph.parse(encode_literals(added), format=nt, lenient=True))


def _decode(term: object) -> Identifier:
    """A term of the engine's store as rdflib's, lexical form as written (not normalised:
    ``"01"^^xsd:integer`` stays ``01``, as the file has it)."""
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    assert isinstance(term, pyoxigraph.Literal)
    datatype = term.datatype.value
    if datatype.startswith(LANGUAGE_PREFIX):
        return Literal(term.value, lang=datatype[len(LANGUAGE_PREFIX):])
    if datatype.startswith(DATATYPE_PREFIX):
        return Literal(term.value, datatype=URIRef(datatype[len(DATATYPE_PREFIX):]),
                       normalize=False)
    return Literal(term.value)


def _string(text: str) -> str:
    """A SPARQL string literal."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def _iri(iri: str) -> str:
    return f"<{iri}>"


#: What SPARQL's IRIREF allows between its brackets.
_WRITABLE_IRI = re.compile(r'[^<>"{}|^`\\\x00-\x20]*')


def sparql_term(node: Identifier, *, encoded: bool = True) -> str | None:
    """An RDF term as the engine's store writes it (literals as :func:`encode_literals`
    moves them; as they are if not ``encoded``: a store of the checks), in SPARQL; None for
    what a query cannot name: a blank node, or an IRI the lenient reader took that SPARQL
    cannot write."""
    if isinstance(node, URIRef):
        return _iri(str(node)) if _WRITABLE_IRI.fullmatch(str(node)) else None
    if isinstance(node, Literal) and not encoded:
        if node.language:
            return f"{_string(str(node))}@{node.language}"
        return _string(str(node)) + (f"^^{_iri(str(node.datatype))}" if node.datatype else "")
    if isinstance(node, Literal):
        if node.language:
            return f"{_string(str(node))}^^{_iri(LANGUAGE_PREFIX + node.language)}"
        if node.datatype is not None:
            return f"{_string(str(node))}^^{_iri(DATATYPE_PREFIX + str(node.datatype))}"
        return _string(str(node))
    return None


class _Unsupported(Exception):
    """A shape uses what the compiler cannot express; becomes a DataFileError naming it."""


class _Compiler:
    """Compiles the shapes of one shapes graph against one store (subclass sets come from the
    data, as SHACL's rdf:type/rdfs:subClassOf* does)."""

    def __init__(self, shapes: Graph, store: pyoxigraph.Store) -> None:
        self.shapes = shapes
        self.store = store
        self._names = itertools.count()
        self._subclasses: dict[URIRef, list[str]] = {}

    # --- helpers -------------------------------------------------------------------------

    def var(self) -> str:
        return f"?x{next(self._names)}"

    def name(self, node: Identifier) -> str:
        return node.n3(self.shapes.namespace_manager)

    def term(self, node: Identifier) -> str:
        """An RDF term of the shapes graph as the engine's store writes it, in SPARQL."""
        if isinstance(node, URIRef):
            return _iri(str(node))
        written = sparql_term(node)
        if written is None:
            raise _Unsupported("a blank node as a constraint's value")
        return written

    def subclasses(self, cls: Identifier) -> list[str]:
        """The class and its subclasses in the data (rdfs:subClassOf*), as SPARQL IRIs."""
        if not isinstance(cls, URIRef):
            raise _Unsupported("sh:class or sh:targetClass with a blank node")
        if cls not in self._subclasses:
            found = {cls.toPython()}
            query = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* <{cls}> }}"
            found |= {row["c"].value for row in self.store.query(query)
                      if isinstance(row["c"], pyoxigraph.NamedNode)}
            self._subclasses[cls] = [_iri(c) for c in sorted(found)]
        return self._subclasses[cls]

    def path(self, node: Identifier) -> str:
        """A SHACL property path as a SPARQL property path."""
        if isinstance(node, URIRef):
            return _iri(str(node))
        shapes = self.shapes
        if shapes.value(node, RDF.first) is not None:
            return "(" + "/".join(self.path(p) for p in Collection(shapes, node)) + ")"
        alternatives = shapes.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in Collection(shapes, alternatives)) + ")"
        inverse = shapes.value(node, SH.inversePath)
        if inverse is not None:
            return f"^({self.path(inverse)})"
        for predicate, modifier in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                                    (SH.zeroOrOnePath, "?")):
            inner = shapes.value(node, predicate)
            if inner is not None:
                return f"({self.path(inner)}){modifier}"
        raise _Unsupported(f"the path {self.name(node)}")

    def regex_compiles(self, pattern: str, flag_text: str) -> None:
        """SPARQL's REGEX (Rust's regex crate, not Python's re, which pyshacl uses) must
        compile the pattern: one it cannot would fail every value, not be reported."""
        query = f"SELECT (REGEX(\"\", {_string(pattern)}{flag_text}) AS ?ok) {{}}"
        if next(iter(self.store.query(query)))["ok"] is None:
            raise _Unsupported(f"sh:pattern {pattern!r} (SPARQL's REGEX cannot compile it)")

    def parameters(self, shape: Identifier) -> Iterator[tuple[URIRef, Identifier]]:
        """The shape's constraint parameters and their values, in a fixed order."""
        for predicate, value in sorted(self.shapes.predicate_objects(shape)):
            if predicate in _STRUCTURAL or not str(predicate).startswith(str(SH)):
                continue
            if predicate not in _SUPPORTED:
                raise _Unsupported(f"{self.name(predicate)} (on {self.name(shape)})")
            yield predicate, value

    def deactivated(self, shape: Identifier) -> bool:
        return self.shapes.value(shape, SH.deactivated) == Literal(True)

    def members(self, node: Identifier) -> list[Identifier]:
        return list(Collection(self.shapes, node))

    # --- one value node: SPARQL boolean expressions -------------------------------------

    def datatype_check(self, datatype: Identifier, v: str) -> tuple[str, bool]:
        """The SPARQL part of sh:datatype, and whether well-formedness is left to Python."""
        def has_prefix(prefix: str) -> str:
            return f"(isLiteral({v}) && STRSTARTS(STR(DATATYPE({v})), {_string(prefix)}))"

        def typed(iri: str) -> str:
            return f"sameTerm(DATATYPE({v}), {_iri(iri)})"

        if datatype == RDF.langString:
            return has_prefix(LANGUAGE_PREFIX), False
        if datatype == XSD.string:  # a plain literal is stored as xsd:string
            return (f"(isLiteral({v}) && ({typed(str(XSD.string))} || "
                    f"{typed(DATATYPE_PREFIX + str(XSD.string))}))"), False
        if datatype == RDFS.Literal:
            return f"isLiteral({v})", False
        if datatype == RDFS.Datatype:
            return has_prefix(DATATYPE_PREFIX), False
        check = f"(isLiteral({v}) && {typed(DATATYPE_PREFIX + str(datatype))})"
        return check, str(datatype).startswith(str(XSD))

    def value_check(self, parameter: URIRef, value: Identifier, v: str, shape: Identifier,
                    *, nested: bool) -> str:
        """A SPARQL expression true when the value node ``v`` passes one constraint."""
        if parameter == SH["class"]:
            t = self.var()
            return (f"(!isLiteral({v}) && EXISTS {{ {v} <{RDF.type}> {t} . "
                    f"FILTER({t} IN ({', '.join(self.subclasses(value))})) }})")
        if parameter == SH.datatype:
            check, in_python = self.datatype_check(value, v)
            if in_python and nested:
                raise _Unsupported(f"sh:datatype {self.name(value)} inside a nested shape")
            return check
        if parameter == SH.nodeKind:
            if value not in _NODE_KINDS:
                raise _Unsupported(f"sh:nodeKind {self.name(value)}")
            return _NODE_KINDS[value].format(v=v)
        if parameter == SH.pattern:
            flags = self.shapes.value(shape, SH.flags)
            flag_text = f", {_string(str(flags))}" if flags is not None else ""
            self.regex_compiles(str(value), flag_text)
            return f"(!isBlank({v}) && REGEX(STR({v}), {_string(str(value))}{flag_text}))"
        if parameter in (SH.minLength, SH.maxLength):
            if int(value) == 0 and parameter == SH.minLength:
                return "true"
            compare = ">=" if parameter == SH.minLength else "<="
            return f"(!isBlank({v}) && STRLEN(STR({v})) {compare} {int(value)})"
        if parameter == SH["in"]:
            terms = [f"sameTerm({v}, {self.term(m)})" for m in self.members(value)]
            return "(" + " || ".join(terms) + ")" if terms else "false"
        if parameter == SH["not"]:
            return f"!{self.conforms(value, v)}"
        if parameter in (SH["and"], SH["or"]):
            joined = (" && " if parameter == SH["and"] else " || ").join(
                self.conforms(m, v) for m in self.members(value))
            return f"({joined})" if joined else ("true" if parameter == SH["and"] else "false")
        if parameter == SH.xone:
            counted = " + ".join(f"IF({self.conforms(m, v)}, 1, 0)" for m in self.members(value))
            return f"(({counted or '0'}) = 1)"
        if parameter == SH.node:
            return self.conforms(value, v)
        raise _Unsupported(f"{self.name(parameter)} inside a nested shape")

    def at_least(self, x: str, path: str, count: int, shape: Identifier | None = None) -> str:
        """``x`` has ``count`` distinct values along ``path`` (conforming to ``shape``)."""
        if count <= 0:
            return "true"
        names = [self.var() for _ in range(count)]
        filters = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        if shape is not None:
            filters += [self.conforms(shape, n) for n in names]
        triples = " . ".join(f"{x} {path} {n}" for n in names)
        where = f" FILTER({' && '.join(filters)})" if filters else ""
        return f"EXISTS {{ {triples} .{where} }}"

    def conforms(self, shape: Identifier, x: str) -> str:
        """A SPARQL expression true when the node ``x`` conforms to ``shape`` (never an error:
        a failed evaluation counts as not conforming)."""
        if self.deactivated(shape):
            return "true"
        parts = []
        path_node = self.shapes.value(shape, SH.path)
        if path_node is None:
            for parameter, value in self.parameters(shape):
                if parameter == SH.property:
                    parts.append(self.conforms(value, x))
                elif parameter == SH.hasValue:
                    parts.append(f"sameTerm({x}, {self.term(value)})")
                elif parameter in _VALUE_PARAMETERS:
                    parts.append(self.value_check(parameter, value, x, shape, nested=True))
                else:
                    raise _Unsupported(f"{self.name(parameter)} on a node shape")
        else:
            path = self.path(path_node)
            v = self.var()
            checks = []
            for parameter, value in self.parameters(shape):
                if parameter in _VALUE_PARAMETERS:
                    checks.append(self.value_check(parameter, value, v, shape, nested=True))
                elif parameter == SH.minCount:
                    parts.append(self.at_least(x, path, int(value)))
                elif parameter == SH.maxCount:
                    parts.append(f"!{self.at_least(x, path, int(value) + 1)}")
                elif parameter == SH.hasValue:
                    parts.append(f"EXISTS {{ {x} {path} {self.term(value)} }}")
                elif parameter == SH.uniqueLang:
                    if value == Literal(True):
                        parts.append(f"!{self.duplicate_language(x, path)}")
                elif parameter == SH.qualifiedValueShape:
                    parts += self.qualified_nested(shape, value, x, path)
                else:
                    raise _Unsupported(f"{self.name(parameter)} inside a nested shape")
            if checks:
                parts.append(f"NOT EXISTS {{ {x} {path} {v} . "
                             f"FILTER(!COALESCE({' && '.join(checks)}, false)) }}")
        return "COALESCE(" + (" && ".join(parts) if parts else "true") + ", false)"

    def duplicate_language(self, x: str, path: str) -> str:
        a, b = self.var(), self.var()
        prefix = _string(LANGUAGE_PREFIX)
        return (f"EXISTS {{ {x} {path} {a} . {x} {path} {b} . FILTER(!sameTerm({a}, {b}) && "
                f"isLiteral({a}) && isLiteral({b}) && STRSTARTS(STR(DATATYPE({a})), {prefix}) && "
                f"LCASE(STR(DATATYPE({a}))) = LCASE(STR(DATATYPE({b})))) }}")

    def qualified(self, shape: Identifier) -> tuple[int | None, int | None]:
        disjoint = self.shapes.value(shape, SH.qualifiedValueShapesDisjoint)
        if disjoint is not None and disjoint.toPython() is True:
            raise _Unsupported("sh:qualifiedValueShapesDisjoint true")
        low = self.shapes.value(shape, SH.qualifiedMinCount)
        high = self.shapes.value(shape, SH.qualifiedMaxCount)
        return (None if low is None else int(low)), (None if high is None else int(high))

    def qualified_nested(self, shape: Identifier, inner: Identifier, x: str,
                         path: str) -> list[str]:
        low, high = self.qualified(shape)
        parts = []
        if low is not None:
            parts.append(self.at_least(x, path, low, inner))
        if high is not None:
            parts.append(f"!{self.at_least(x, path, high + 1, inner)}")
        return parts


@dataclass
class _Query:
    """One compiled query and how its rows become results.

    :ivar kind: ``value`` (rows: ?this ?value and a flag per check), ``focus`` (rows: ?this),
        ``python`` (rows: ?this ?value, each checked by ``check``).
    """

    text: str
    kind: str
    source: Identifier
    path: Identifier | None
    components: list[URIRef]
    check: Callable[[Identifier], bool] | None = None


#: The constraint component of each parameter the compiler handles.
COMPONENTS = {
    SH["class"]: SH.ClassConstraintComponent, SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent, SH.pattern: SH.PatternConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent, SH.maxLength: SH.MaxLengthConstraintComponent,
    SH["in"]: SH.InConstraintComponent, SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent, SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent, SH.node: SH.NodeConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent, SH.maxCount: SH.MaxCountConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent, SH.uniqueLang: SH.UniqueLangConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
}


def _well_typed(datatype: URIRef) -> Callable[[Identifier], bool]:
    """pyshacl's sh:datatype test of a literal whose datatype is ``datatype``."""
    def check(term: Identifier) -> bool:
        if not isinstance(term, Literal) or term.datatype != datatype:
            return False
        if getattr(term, "ill_typed", None) is True:
            return False
        expected = _VALUE_TYPES.get(datatype)
        return expected is None or isinstance(term.value, expected)
    return check


def _in_range(bound: Literal, passes: Callable[[int, int], bool]) -> Callable[[Identifier], bool]:
    """pyshacl's range test: literals compared with its compare_literal; a string is only
    compared with a string bound, a number with a number; IRIs and blank nodes fail."""
    from pyshacl.rdfutil.compare import compare_literal

    bound_is_string = isinstance(bound.value, str)

    def check(term: Identifier) -> bool:
        if not isinstance(term, Literal) or isinstance(term.value, str) != bound_is_string:
            return False
        try:
            return passes(compare_literal(term, bound), 0)
        except (TypeError, NotImplementedError):
            return False
    return check


def _targets(compiler: _Compiler, shape: Identifier, restrict: _Restriction | None = None
             ) -> str | None:
    """The shape's focus nodes as a SPARQL group binding ``?this`` (None: no target), only
    those ``restrict`` lets through."""
    shapes = compiler.shapes
    branches = []
    classes = set(shapes.objects(shape, SH.targetClass))
    if _implicit_class(shapes, shape):
        classes.add(shape)
    if classes:
        iris = sorted({iri for cls in classes for iri in compiler.subclasses(cls)})
        branches.append(f"VALUES ?t {{ {' '.join(iris)} }} ?this <{RDF.type}> ?t .")
    nodes = [compiler.term(n) for n in shapes.objects(shape, SH.targetNode)]
    if nodes:
        branches.append(f"VALUES ?this {{ {' '.join(sorted(nodes))} }}")
    for predicate in sorted(shapes.objects(shape, SH.targetSubjectsOf)):
        branches.append(f"?this {compiler.term(predicate)} ?o .")
    for predicate in sorted(shapes.objects(shape, SH.targetObjectsOf)):
        branches.append(f"?s {compiler.term(predicate)} ?this .")
    if shapes.value(shape, SH.target) is not None:
        raise _Unsupported(f"sh:target (SHACL-AF) on {compiler.name(shape)}")
    if not branches:
        return None
    union = " UNION ".join(f"{{ {b} }}" for b in branches)
    if restrict is not None and restrict.values:
        # Each given node is tested (EXISTS, ?this bound: index look-ups). Joined with the
        # sub-select below instead, oxigraph enumerates every target first: at 10^6 triples
        # 50 findings took 3.7 s that way, 0.1 s this way (and 5000 over 6 minutes).
        return (f"{{ VALUES ?this {{ {' '.join(restrict.values)} }} "
                f"FILTER EXISTS {{ {union} }} }}")
    targets = f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"
    if restrict is not None and restrict.condition:
        return f"{{ {targets} FILTER({restrict.condition}) }}"
    return targets


def _compile_shape(compiler: _Compiler, shape: Identifier, focus: str) -> list[_Query]:
    """The queries of one shape for the focus nodes ``focus`` binds (``?this``)."""
    if compiler.deactivated(shape):
        return []
    path_node = compiler.shapes.value(shape, SH.path)
    path = None if path_node is None else compiler.path(path_node)
    value = "?this" if path is None else "?value"
    step = "" if path is None else f"?this {path} ?value ."
    # Node-level constraints report the focus node itself as the value.
    projection = "(?this AS ?value)" if path is None else "?value"
    queries: list[_Query] = []
    checks: list[tuple[URIRef, str]] = []
    for parameter, argument in compiler.parameters(shape):
        component = COMPONENTS.get(parameter)
        if parameter == SH.property:
            if path is not None:
                raise _Unsupported(f"sh:property inside the property shape {compiler.name(shape)}")
            queries += _compile_shape(compiler, argument, focus)
        elif parameter in _VALUE_PARAMETERS:
            checks.append((component, compiler.value_check(parameter, argument, value, shape,
                                                           nested=False)))
            if parameter == SH.datatype and compiler.datatype_check(argument, value)[1]:
                # The literals of this datatype: well-formed? (rdflib decides, as in pyshacl)
                queries.append(_Query(
                    f"SELECT DISTINCT ?this {projection} WHERE {{ {focus} {step} "
                    f"FILTER(isLiteral({value}) && sameTerm(DATATYPE({value}), "
                    f"{_iri(DATATYPE_PREFIX + str(argument))})) }}",
                    "python", shape, path_node, [component], _well_typed(argument)))
        elif parameter in RANGES:
            if not isinstance(argument, Literal):
                raise _Unsupported(f"{compiler.name(parameter)} with a non-literal bound")
            queries.append(_Query(
                f"SELECT DISTINCT ?this {projection} WHERE {{ {focus} {step} }}",
                "python", shape, path_node, [component], _in_range(argument, RANGES[parameter])))
        elif parameter == SH.hasValue:
            test = (f"sameTerm(?this, {compiler.term(argument)})" if path is None
                    else f"EXISTS {{ ?this {path} {compiler.term(argument)} }}")
            queries.append(_Query(f"SELECT ?this WHERE {{ {focus} FILTER(!({test})) }}",
                                  "focus", shape, path_node, [component]))
        elif path is None:
            raise _Unsupported(f"{compiler.name(parameter)} on the node shape "
                               f"{compiler.name(shape)}")
        elif parameter == SH.minCount:
            queries.append(_Query(_count_query(focus, path, "<", int(argument)), "focus", shape,
                                  path_node, [component]))
        elif parameter == SH.maxCount:
            queries.append(_Query(_count_query(focus, path, ">", int(argument)), "focus", shape,
                                  path_node, [component]))
        elif parameter == SH.uniqueLang:
            if argument == Literal(True):
                queries.append(_Query(
                    f"SELECT ?this WHERE {{ {focus} ?this {path} ?value . "
                    f"FILTER(isLiteral(?value) && STRSTARTS(STR(DATATYPE(?value)), "
                    f"{_string(LANGUAGE_PREFIX)})) }} GROUP BY ?this (LCASE(STR(DATATYPE(?value))) "
                    f"AS ?language) HAVING (COUNT(DISTINCT ?value) > 1)",
                    "focus", shape, path_node, [component]))
        elif parameter == SH.qualifiedValueShape:
            low, high = compiler.qualified(shape)
            conforming = compiler.conforms(argument, "?value")
            for bound, comparison, qualified_component in (
                    (low, "<", SH.QualifiedMinCountConstraintComponent),
                    (high, ">", SH.QualifiedMaxCountConstraintComponent)):
                if bound is not None:
                    queries.append(_Query(
                        _count_query(focus, path, comparison, bound, conforming), "focus",
                        shape, path_node, [qualified_component]))
        else:  # pragma: no cover - _SUPPORTED and this list agree
            raise _Unsupported(compiler.name(parameter))
    if checks:
        flags = " ".join(f"BIND(COALESCE({check}, false) AS ?ok{i})"
                         for i, (_, check) in enumerate(checks))
        failed = " || ".join(f"!?ok{i}" for i in range(len(checks)))
        oks = " ".join(f"?ok{i}" for i in range(len(checks)))
        queries.append(_Query(
            f"SELECT DISTINCT ?this {projection} {oks} WHERE {{ {focus} {step} {flags} "
            f"FILTER({failed}) }}", "value", shape, path_node, [c for c, _ in checks]))
    return queries


def _count_query(focus: str, path: str, comparison: str, bound: int,
                 condition: str | None = None) -> str:
    """Focus nodes whose number of distinct values (meeting ``condition``) is ``<`` or ``>``
    the bound: one GROUP BY over every focus node."""
    where = f"?this {path} ?value ." + (f" FILTER({condition})" if condition else "")
    if comparison == "<" and bound <= 0:
        return "SELECT ?this WHERE { FILTER(false) }"
    if comparison == "<" and bound == 1:
        return f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ {where} }} }}"
    if comparison == ">" and bound == 0:
        return f"SELECT ?this WHERE {{ {focus} FILTER EXISTS {{ {where} }} }}"
    optional = f"OPTIONAL {{ {where} }}" if comparison == "<" else where
    return (f"SELECT ?this WHERE {{ {focus} {optional} }} GROUP BY ?this "
            f"HAVING (COUNT(DISTINCT ?value) {comparison} {bound})")


@dataclass(frozen=True)
class _Restriction:
    """Which focus nodes to validate: ``values``, terms written in SPARQL, or (if none) those
    for which the SPARQL expression ``condition`` on ``?this`` holds."""

    values: tuple[str, ...] = ()
    condition: str = ""


def compile_shapes(shapes: Graph, store: pyoxigraph.Store,
                   restrict: _Restriction | None = None) -> list[_Query]:
    """Every query of every targeted shape, on the focus nodes ``restrict`` lets through
    (:func:`validate_store`'s ``focus``; None: all).

    :raises DataFileError: for a constraint the compiler does not support.
    """
    compiler = _Compiler(shapes, store)
    queries = []
    # sh:target's shapes too, to be refused by name.
    candidates = _targeted_shapes(shapes) | set(shapes.subjects(SH.target, None))
    try:
        for shape in sorted(candidates, key=lambda s: (isinstance(s, BNode), str(s))):
            focus = _targets(compiler, shape, restrict)
            if focus is not None:
                queries += _compile_shape(compiler, shape, focus)
    except _Unsupported as error:
        raise DataFileError(paths.SHAPES_DIR, None,
                            f"the SPARQL SHACL engine does not support {error}") from None
    return queries


def validate_store(store: pyoxigraph.Store, shapes: Graph,
                   focus: Iterable[Identifier] | None = None) -> list[ShapeViolation]:
    """Validate the store's default graph (the engine's store, :func:`shapes_store`).

    :param focus: validate only these nodes (those of them a shape targets), as rdflib's
        terms of the data (what :class:`ShapeViolation` holds): the results are the full
        run's whose focus node is one of them. IRIs and literals are named in a VALUES block
        and each tested against the shape's targets, so the time goes with their number, not
        the store's size (at 10^6 triples, 50 findings: 0.1 s, against 13 s for every node:
        benchmarks/focus.py); with more than one node per :data:`_NODE_COST` triples, where
        that is slower, the run is the full one, filtered. A blank node cannot be named in
        a query, so each query runs once more over the targets that are blank nodes (all of
        them: as slow as a full run if there are many; the review's are the ontology's seven
        anonymous classes) and keeps the rows of those given (an IRI SPARQL cannot write,
        which the lenient reader let in, goes the same way, over every target). A blank node
        is known by the store's label, which :func:`shapes_store` takes from the text; the
        parser's labels are random, so a blank node of one build's text names nothing in
        another's: the caller re-validates a blank node only in the store whose text it
        took it from. None: every focus node.
    :returns: one result per focus node, source shape, constraint and value, as pyshacl's.
    :raises DataFileError: for a constraint the compiler does not support.
    """
    if focus is None:
        return _validate(store, shapes)
    nodes = list(focus)
    written, unnamed = split_focus(nodes)
    named = set(written)
    if full_run_is_faster(store, len(named)):
        return _validate(store, shapes, keep={node_key(node) for node in nodes})
    results = []
    if named:
        results += _validate(store, shapes, _Restriction(values=tuple(sorted(named))))
    if unnamed:
        # Every targeted node a query cannot name (blank nodes are few: the ontology's
        # anonymous classes), the given ones kept.
        kinds = {kind == "BNode" for kind, *_ in unnamed}
        condition = "isBlank(?this)" if kinds == {True} else "!isLiteral(?this)"
        results += _validate(store, shapes, _Restriction(condition=condition), unnamed)
    return results


def split_focus(nodes: Iterable[Identifier], *, encoded: bool = True
                ) -> tuple[list[str], set[tuple[str, str, str | None, str | None]]]:
    """The nodes a query can name (written in SPARQL: :func:`sparql_term`), and the keys
    (:func:`node_key`) of the others (blank nodes, IRIs SPARQL cannot write), whose results
    a run over every node keeps."""
    written, unnamed = [], set()
    for node in nodes:
        term = sparql_term(node, encoded=encoded)
        if term is None:
            unnamed.add(node_key(node))
        else:
            written.append(term)
    return written, unnamed


#: A focus run's cost per given node, as a full run's per triple: each node costs an EXISTS
#: per query, 1.9 ms in all at 10^6 triples, where a full run takes 12 us a triple. Above
#: that many nodes a full run, filtered, is the faster (such as a changed rdfs:subClassOf
#: whose class has thousands of instances); below _FEW_NODES the store is not even counted.
_NODE_COST = 150
_FEW_NODES = 200


def full_run_is_faster(store: pyoxigraph.Store, nodes: int) -> bool:
    """Whether a run on ``nodes`` focus nodes costs more than a full run (filtered after)."""
    return nodes > _FEW_NODES and nodes * _NODE_COST > len(store)


def node_key(node: Identifier) -> tuple[str, str, str | None, str | None]:
    """A term's kind, text, datatype and language tag as written: rdflib's equality would
    make ``"x"@EN`` and ``"x"@en`` one node, which the engine keeps apart."""
    if isinstance(node, Literal):
        datatype = None if node.datatype is None else str(node.datatype)
        return "Literal", str(node), datatype, node.language
    return type(node).__name__, str(node), None, None


def _validate(store: pyoxigraph.Store, shapes: Graph, restrict: _Restriction | None = None,
              keep: set[tuple[str, str, str | None, str | None]] | None = None
              ) -> list[ShapeViolation]:
    """:func:`validate_store` over the focus nodes ``restrict`` lets through (of them, those
    whose :func:`node_key` is in ``keep``, if given)."""
    results = []
    severities: dict[Identifier, URIRef] = {}
    messages: dict[Identifier, tuple[Literal, ...]] = {}
    terms: dict[object, Identifier] = {}

    def term(node: object) -> Identifier:
        found = terms.get(node)
        if found is None:
            found = terms[node] = _decode(node)
        return found

    for query in compile_shapes(shapes, store, restrict):
        source = query.source
        if source not in severities:
            severities[source] = shapes.value(source, SH.severity) or SH.Violation
            messages[source] = tuple(shapes.objects(source, SH.message))

        def result(focus: Identifier, component: URIRef, value: Identifier | None,
                   source: Identifier = source, query: _Query = query) -> ShapeViolation:
            return ShapeViolation(focus, source, component, severities[source], value,
                                  query.path, messages[source])

        for row in store.query(query.text):
            focus = term(row["this"])
            if keep is not None and node_key(focus) not in keep:
                continue
            if query.kind == "focus":
                results.append(result(focus, query.components[0], None))
            elif query.kind == "python":
                value = term(row["value"])
                assert query.check is not None
                if not query.check(value):
                    results.append(result(focus, query.components[0], value))
            else:
                value = term(row["value"])
                for index, component in enumerate(query.components):
                    if row[f"ok{index}"].value != "true":
                        results.append(result(focus, component, value))
    return results


# --- which focus nodes a change can reach ------------------------------------------------

#: A step of a path: a predicate, read forward (``(x p y)`` from ``x``) or inverse
#: (``(y p x)`` from ``x``); None: a step that reads nothing (an automaton's epsilon).
_Step = tuple[str, bool] | None
_TYPE = str(RDF.type)
_SUBCLASS = str(RDFS.subClassOf)


class _Reads:
    """What the compiled queries read, as an automaton over the data: a state is a place in
    a shape's evaluation at some node, and an edge ``(p, forward)`` from it is a triple
    pattern the evaluation asks there (``(x p ?)`` forward, ``(? p x)`` inverse), moving to
    the other end. A shape has one entry state (so sh:node cycles end); its targets, paths
    (sequences, alternatives, inverses, ``*``/``+``/``?``), sh:class (the value's rdf:type),
    sh:property, sh:node, sh:not, sh:and, sh:or, sh:xone and qualified value shapes each add
    edges; every other constraint reads only the terms already reached.
    """

    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self.edges: list[list[tuple[_Step, int]]] = []
        self.entries: dict[Identifier, int] = {}
        self.sink = self.state()  # where a read that leads nowhere further ends

    def state(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def edge(self, start: int, step: _Step, end: int) -> None:
        self.edges[start].append((step, end))

    def entry(self, shape: Identifier) -> int:
        """The state of ``shape`` evaluated at a node (built on first use)."""
        if shape not in self.entries:
            self.entries[shape] = start = self.state()
            self.shape(shape, start)
        return self.entries[shape]

    def shape(self, shape: Identifier, start: int) -> None:
        shapes = self.shapes
        # Targets are read at the node too (a changed type or predicate moves it in or out).
        if shapes.value(shape, SH.targetClass) is not None or _implicit_class(shapes, shape):
            self.edge(start, (_TYPE, True), self.sink)
        for predicate in shapes.objects(shape, SH.targetSubjectsOf):
            self.edge(start, (str(predicate), True), self.sink)
        for predicate in shapes.objects(shape, SH.targetObjectsOf):
            self.edge(start, (str(predicate), False), self.sink)
        path = shapes.value(shape, SH.path)
        value = start if path is None else self.path(path, start, inverse=False)
        for parameter, argument in shapes.predicate_objects(shape):
            if parameter == SH.property:
                self.edge(start, None, self.entry(argument))
            elif parameter == SH["class"]:
                self.edge(value, (_TYPE, True), self.sink)
            elif parameter in (SH.node, SH["not"], SH.qualifiedValueShape):
                self.edge(value, None, self.entry(argument))
            elif parameter in (SH["and"], SH["or"], SH.xone):
                for member in Collection(shapes, argument):
                    self.edge(value, None, self.entry(member))

    def path(self, node: Identifier, start: int, *, inverse: bool) -> int:
        """Add a SHACL path from ``start`` (walked backwards if ``inverse``); its end state."""
        shapes = self.shapes
        if isinstance(node, URIRef):
            end = self.state()
            self.edge(start, (str(node), not inverse), end)
            return end
        if shapes.value(node, RDF.first) is not None:
            members = list(Collection(shapes, node))
            for member in reversed(members) if inverse else members:
                start = self.path(member, start, inverse=inverse)
            return start
        end = self.state()
        alternatives = shapes.value(node, SH.alternativePath)
        if alternatives is not None:
            for member in Collection(shapes, alternatives):
                self.edge(self.path(member, start, inverse=inverse), None, end)
            return end
        inner = shapes.value(node, SH.inversePath)
        if inner is not None:
            self.edge(self.path(inner, start, inverse=not inverse), None, end)
            return end
        for predicate, empty, repeat in ((SH.zeroOrMorePath, True, True),
                                         (SH.oneOrMorePath, False, True),
                                         (SH.zeroOrOnePath, True, False)):
            inner = shapes.value(node, predicate)
            if inner is not None:
                loop = self.state()
                self.edge(start, None, loop)
                once = self.path(inner, loop, inverse=inverse)
                self.edge(once, None, end)
                if repeat:
                    self.edge(once, None, loop)
                if empty:
                    self.edge(loop, None, end)
                return end
        raise DataFileError(paths.SHAPES_DIR, None,
                            f"the SPARQL SHACL engine does not support the path {node.n3()}")


class UnionView:
    """The graph before and after a change, for reading: the store (after) and the removed
    triples (before only).

    :param every_graph: read every graph of the store (a store of the checks), not only the
        default one (the engine's).
    """

    def __init__(self, store: pyoxigraph.Store, removed: list[pyoxigraph.Quad], *,
                 every_graph: bool = False) -> None:
        self.store = store
        self.graph = None if every_graph else pyoxigraph.DefaultGraph()
        self.removed = removed
        self.objects_of: dict[tuple[object, object], set[object]] = {}
        self.subjects_of: dict[tuple[object, object], set[object]] = {}
        # The removed triples by each of their terms, for triples().
        self.removed_by: list[dict[object, list[tuple[object, object, object]]]] = [{}, {}, {}]
        for quad in removed:
            self.objects_of.setdefault((quad.subject, quad.predicate), set()).add(quad.object)
            self.subjects_of.setdefault((quad.predicate, quad.object), set()).add(quad.subject)
            triple = (quad.subject, quad.predicate, quad.object)
            for index, term in enumerate(triple):
                self.removed_by[index].setdefault(term, []).append(triple)

    def objects(self, subject: object, predicate: pyoxigraph.NamedNode) -> set[object]:
        if isinstance(subject, pyoxigraph.Literal):
            return set()
        found = {q.object for q in self.store.quads_for_pattern(
            subject, predicate, None, self.graph)}
        return found | self.objects_of.get((subject, predicate), set())

    def subjects(self, predicate: pyoxigraph.NamedNode, value: object) -> set[object]:
        found = {q.subject for q in self.store.quads_for_pattern(
            None, predicate, value, self.graph)}
        return found | self.subjects_of.get((predicate, value), set())

    def triples(self, subject: object, predicate: object, value: object
                ) -> set[tuple[object, object, object]]:
        """The triples matching a pattern (None: any term there), before or after."""
        if isinstance(subject, pyoxigraph.Literal) or isinstance(
                predicate, pyoxigraph.Literal | pyoxigraph.BlankNode):
            return set()
        found = {(q.subject, q.predicate, q.object) for q in self.store.quads_for_pattern(
            subject, predicate, value, self.graph)}
        pattern = (subject, predicate, value)
        bound = next((i for i in (0, 2, 1) if pattern[i] is not None), None)
        candidates = (self.removed_by[bound].get(pattern[bound], ()) if bound is not None
                       else [(q.subject, q.predicate, q.object) for q in self.removed])
        return found | {t for t in candidates
                        if all(p is None or p == term for p, term in zip(pattern, t, strict=True))}

    def subclasses(self, cls: object) -> set[object]:
        """The class and its subclasses (rdfs:subClassOf*) before or after the change."""
        found, todo = {cls}, [cls]
        subclass = pyoxigraph.NamedNode(_SUBCLASS)
        while todo:
            for sub in self.subjects(subclass, todo.pop()):
                if sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found


def walk_path(nodes: set, path: object, step: Callable[[set, str, bool], set], *,
              inverse: bool = False) -> set:
    """The nodes reached from ``nodes`` along an rdflib path (IRI, ``^``, ``/``, ``|``,
    ``*``, ``+``, ``?``), backwards if ``inverse``; ``step(nodes, predicate, forward)``
    takes one predicate's step in some graph.

    :raises ValueError: for a negated property set.
    """
    if isinstance(path, URIRef):
        return step(nodes, str(path), not inverse)
    if isinstance(path, InvPath):
        return walk_path(nodes, path.arg, step, inverse=not inverse)
    if isinstance(path, SequencePath):
        for part in reversed(path.args) if inverse else path.args:
            nodes = walk_path(nodes, part, step, inverse=inverse)
        return nodes
    if isinstance(path, AlternativePath):
        return set().union(*(walk_path(nodes, part, step, inverse=inverse)
                             for part in path.args))
    if isinstance(path, MulPath):
        reached = set(nodes) if path.mod in ("*", "?") else set()
        frontier = set(nodes)
        while frontier:
            frontier = walk_path(frontier, path.path, step, inverse=inverse) - reached
            reached |= frontier
            if path.mod == "?":
                break
        return reached
    raise ValueError(f"unsupported path: {path!r}")


def change_quads(triples: bytes | Iterable[tuple[Identifier, Identifier, Identifier]], *,
           encoded: bool = True) -> list[pyoxigraph.Quad]:
    """Triples as the engine's store holds them (N-Triples text is read as shapes_store
    reads it, blank-node labels kept; rdflib terms are written to N-Triples first); as any
    store holds them if not ``encoded``."""
    if not isinstance(triples, bytes):
        triples = "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in triples).encode()
    return list(pyoxigraph.parse(encode_literals(triples) if encoded else triples,
                                 format=pyoxigraph.RdfFormat.N_TRIPLES, lenient=True))


def affected_focus(
    store: pyoxigraph.Store, shapes: Graph,
    added: bytes | Iterable[tuple[Identifier, Identifier, Identifier]] = b"",
    removed: bytes | Iterable[tuple[Identifier, Identifier, Identifier]] = b"",
) -> set[Identifier]:
    """The focus nodes whose results can differ after a change of the data: validate these
    (:func:`validate_store`'s ``focus``) over the changed store and keep every other node's
    results from before.

    :param store: the engine's store of the data after the change (:func:`shapes_store`).
    :param added: the triples the change added, as N-Triples text (the text the store was
        read from, so blank-node labels are the store's) or rdflib triples (written with
        ``n3()``: a literal rdflib normalised, ``Literal("01", datatype=XSD.integer)``, is
        its normal form ``1``; pass terms made with ``normalize=False``).
    :param removed: the triples it removed, likewise.
    :returns: rdflib terms, as :class:`ShapeViolation` has them.

    The rule (conservative: a node may be returned whose results do not change, never the
    reverse). A query of a shape S at focus node f reads triple patterns ``(x p ?)`` or
    ``(? p x)`` at the nodes x it reaches from f along S's paths (:class:`_Reads`: each
    property shape's path, then at each value its sh:class (``(v rdf:type ?)``) and the
    shapes nested by sh:node, sh:not, sh:and, sh:or, sh:xone and sh:qualifiedValueShape, in
    turn along their own paths), and S's targets read f's rdf:type (sh:targetClass and
    implicit class targets), ``(f p ?)`` (sh:targetSubjectsOf p) or ``(? p f)``
    (sh:targetObjectsOf p). If no changed triple matches a pattern f's evaluation asks,
    before or after, every answer is the same and so are f's results. So f is returned when it
    is a focus of some shape, before or after the change, and from f a changed triple
    ``(s p o)`` is read: s reached where p is read forward, o where it is read inverse. Both
    are found backwards from the changed triples, over the union of the graph before and
    after (every path of either is a path of the union). The class sets of sh:class and
    sh:targetClass are rdfs:subClassOf* in the data: a changed ``(a rdfs:subClassOf b)``
    changes, for every class above, whether the instances of a and of its subclasses belong,
    so it counts as a change of each such ``(x rdf:type t)``. A change of the shapes, or of
    what a node's results are located by (files), is not covered: validate everything.
    """
    reads = _Reads(shapes)
    targeted = _targeted_shapes(shapes)
    starts = {reads.entry(shape): shape for shape in sorted(targeted, key=str)}
    backwards: list[list[tuple[_Step, int]]] = [[] for _ in reads.edges]
    readers: dict[tuple[str, bool], list[int]] = {}
    for state, edges in enumerate(reads.edges):
        for step, end in edges:
            backwards[end].append((step, state))
            if step is not None:
                readers.setdefault(step, []).append(state)

    gone = change_quads(removed)
    changed = change_quads(added) + gone
    union = UnionView(store, gone)
    type_node = pyoxigraph.NamedNode(_TYPE)
    typed: list[tuple[object, object, object]] = []
    for quad in changed:
        if quad.predicate.value == _SUBCLASS:
            for cls in union.subclasses(quad.subject):
                typed += [(x, type_node, cls) for x in union.subjects(type_node, cls)]
    seen: set[tuple[object, int]] = set()
    todo: list[tuple[object, int]] = []
    for subject, predicate, value in itertools.chain(
            ((q.subject, q.predicate, q.object) for q in changed), typed):
        for node, forward in ((subject, True), (value, False)):
            for state in readers.get((predicate.value, forward), ()):
                if (node, state) not in seen:
                    seen.add((node, state))
                    todo.append((node, state))
    while todo:
        node, state = todo.pop()
        for step, before in backwards[state]:
            if step is None:
                sources: Iterable[object] = (node,)
            elif step[1]:  # read (y p node) at y
                sources = union.subjects(pyoxigraph.NamedNode(step[0]), node)
            else:  # read (node p y) at y
                sources = union.objects(node, pyoxigraph.NamedNode(step[0]))
            for source in sources:
                if (source, before) not in seen:
                    seen.add((source, before))
                    todo.append((source, before))

    found: set[Identifier] = set()
    classes: dict[Identifier, set[object]] = {}
    for node, state in seen:
        shape = starts.get(state)
        if shape is not None and _targeted(shapes, shape, node, union, classes):
            found.add(_decode(node))
    return found


def _targeted(shapes: Graph, shape: Identifier, node: object, union: UnionView,
              classes: dict[Identifier, set[object]]) -> bool:
    """Whether ``node`` is a focus node of ``shape`` before or after the change."""
    written = sparql_term(_decode(node))
    if written is not None and any(sparql_term(target) == written
                                   for target in shapes.objects(shape, SH.targetNode)):
        return True
    if any(union.objects(node, pyoxigraph.NamedNode(str(p)))
           for p in shapes.objects(shape, SH.targetSubjectsOf)):
        return True
    if any(union.subjects(pyoxigraph.NamedNode(str(p)), node)
           for p in shapes.objects(shape, SH.targetObjectsOf)):
        return True
    if shape not in classes:
        targets = set(shapes.objects(shape, SH.targetClass))
        if _implicit_class(shapes, shape):
            targets.add(shape)
        classes[shape] = {c for t in targets if isinstance(t, URIRef)
                          for c in union.subclasses(pyoxigraph.NamedNode(str(t)))}
    return bool(classes[shape]) and bool(
        union.objects(node, pyoxigraph.NamedNode(_TYPE)) & classes[shape])


def _targeted_shapes(shapes: Graph) -> set[Identifier]:
    """The shapes with a SHACL Core target: declared, or implicit (a node shape that is a
    class)."""
    targeted = {s for p in _TARGET_PREDICATES for s in shapes.subjects(p, None)}
    return targeted | {s for s in shapes.subjects(RDF.type, SH.NodeShape)
                       if _implicit_class(shapes, s)}


def _implicit_class(shapes: Graph, shape: Identifier) -> bool:
    """Whether the shape is also a class (so targets its instances)."""
    return (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes
