"""The SPARQL SHACL engine on given focus nodes, and which focus nodes a change can reach: the
shapes' part of the incremental build (docs/scale.md, "The incremental build").

``validate_store(store, shapes, focus)`` must give the full run's results whose focus node is
one of ``focus``, and ``affected_focus(store, shapes, added, removed)`` every focus node whose
results a change can alter: the full run's results before the change, less those of the
affected nodes, plus a focus run on them after it, must be the full run after it. Both are
held to the full run on the review graph as the build reads it (and a broken copy of it, so
that there are results to filter), and on small graphs that use what the real shapes do not
(inverse, sequence and ``*`` paths, targets by subject and object, blank-node and literal
focus nodes). Each check is also shown to fail on a wrong answer: an affected set of only the
changed triples' subjects misses results.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable

import pyoxigraph
import pytest
from rdflib import BNode, Graph
from rdflib.term import Identifier

from exomirkg import shacl_sparql
from exomirkg.load import parse_sources
from exomirkg.namespaces import GRAPH_INFERRED
from exomirkg.shacl_sparql import (
    ShapeViolation,
    _decode,
    affected_focus,
    change_quads,
    shapes_store,
    validate_store,
)
from exomirkg.validate import load_shapes

TYPE = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
SUBCLASS = b"<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
RETRACTED = b"<https://w3id.org/exomirkg/retracted>"

#: What the review's shapes do not use: inverse, sequence, ``*`` and alternative paths,
#: sh:node two levels down, sh:class in a nested shape, targets by subject, object and node,
#: literal focus nodes (sh:targetObjectsOf a literal-valued property), and in the data an
#: IRI SPARQL cannot write (the lenient reader takes it; it goes the blank nodes' way).
SMALL_SHAPES = """
PREFIX ex: <http://example.org/>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
ex:Person a sh:NodeShape ; sh:targetClass ex:Person ;
    sh:property [ sh:path ex:age ; sh:maxCount 1 ; sh:datatype xsd:integer ] ,
        [ sh:path [ sh:inversePath ex:employs ] ; sh:class ex:Company ] ,
        [ sh:path ( ex:address ex:city ) ; sh:minCount 1 ; sh:node ex:City ] ,
        [ sh:path [ sh:zeroOrMorePath ex:manager ] ; sh:class ex:Person ] .
ex:City a sh:NodeShape ; sh:property [ sh:path ex:country ; sh:minCount 1 ;
    sh:node ex:Country ] .
ex:Country a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minLength 2 ] .
ex:Owned a sh:NodeShape ; sh:targetSubjectsOf ex:owns ;
    sh:property [ sh:path ex:owns ; sh:class ex:Thing ] .
ex:Owner a sh:NodeShape ; sh:targetObjectsOf ex:ownedBy ; sh:nodeKind sh:IRI .
ex:Tag a sh:NodeShape ; sh:targetObjectsOf ex:tag ; sh:minLength 3 .
ex:Boss a sh:NodeShape ; sh:targetNode ex:boss ;
    sh:property [ sh:path [ sh:alternativePath ( ex:age ex:born ) ] ; sh:minCount 1 ] .
"""
PREFIXES = {"ex:": "http://example.org/", "xsd:": "http://www.w3.org/2001/XMLSchema#",
            "rdf:": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "rdfs:": "http://www.w3.org/2000/01/rdf-schema#"}


def _nt(text: str) -> bytes:
    """N-Triples written with the prefixes of PREFIXES (a name: letters, digits, '-')."""
    return re.sub(r"\b(ex|xsd|rdfs?):([\w-]+)",
                  lambda m: f"<{PREFIXES[m[1] + ':']}{m[2]}>", text).encode()


SMALL_DATA = _nt("""
ex:ann rdf:type ex:Person .
ex:ann ex:age "41"^^xsd:integer .
ex:ann ex:address _:addr1 .
_:addr1 ex:city ex:paris .
ex:paris ex:country ex:france .
ex:france ex:name "France" .
ex:acme ex:employs ex:ann .
ex:acme rdf:type ex:Firm .
ex:Firm rdfs:subClassOf ex:Company .
ex:bob rdf:type ex:Employee .
ex:Employee rdfs:subClassOf ex:Person .
ex:bob ex:manager ex:ann .
ex:bob ex:address _:addr2 .
_:addr2 ex:city ex:lyon .
ex:lyon ex:country ex:france .
ex:ann ex:manager ex:cyd .
ex:cyd rdf:type ex:Person .
ex:cyd ex:address _:addr3 .
_:addr3 ex:city ex:nice .
ex:nice ex:country ex:fr .
ex:fr ex:name "F" .
_:anon rdf:type ex:Person .
_:anon ex:age "old" .
ex:ann ex:owns ex:car .
ex:car rdf:type ex:Thing .
_:anon ex:owns ex:bike .
ex:car ex:ownedBy _:anon .
ex:bike ex:ownedBy ex:ann .
ex:car ex:tag "ok" .
ex:car ex:tag "01"^^xsd:integer .
ex:bike ex:tag "red"@EN-gb .
ex:boss ex:born "1970" .
<http://example.org/odd|iri> rdf:type ex:Person .
""")


def _split(line: bytes) -> tuple[bytes, bytes, bytes]:
    subject, predicate, rest = line.split(b" ", 2)
    return subject, predicate, rest.rstrip(b"\r\n").removesuffix(b".").rstrip()


def _lines(text: bytes) -> list[bytes]:
    return sorted({line + b"\n" for line in text.splitlines() if line.strip()})


def _focus_nodes(store: pyoxigraph.Store, results: Iterable[ShapeViolation]) -> list[Identifier]:
    """Every subject and object of the store, and every result's focus node, in a fixed order."""
    nodes = {_decode(term) for quad in store for term in (quad.subject, quad.object)}
    nodes |= {r.focus for r in results}
    return sorted(nodes, key=repr)


def _check_focus_runs(text: bytes, shapes: Graph, seed: int, picks: int) -> None:
    """Focus runs on random node sets (one result's focus at least, some blank nodes, some
    nodes no shape targets) give the full run's results of those nodes, no more, no fewer."""
    store = shapes_store(text)
    full = validate_store(store, shapes)
    nodes = _focus_nodes(store, full)
    foci = sorted({r.focus for r in full}, key=repr)
    blank = [n for n in nodes if isinstance(n, BNode)]
    rng = random.Random(seed)
    partial = 0
    for _ in range(picks):
        focus = set(rng.sample(nodes, min(len(nodes) // 3, 40)))
        focus |= set(rng.sample(foci, max(1, len(foci) // 3)))
        focus |= set(rng.sample(blank, min(len(blank), 2)))
        expected = Counter(r for r in full if r.focus in focus)
        partial += 0 < expected.total() < len(full)
        got = Counter(validate_store(store, shapes, focus))
        assert got == expected, (
            f"focus run on {len(focus)} nodes: extra {list((got - expected).elements())}, "
            f"missing {list((expected - got).elements())}")
    # Not vacuous: most sets kept some results and left others out.
    assert partial >= picks // 2, partial


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def review() -> bytes:
    """The asserted statements as the build validates them."""
    return parse_sources().ntriples(exclude=frozenset({GRAPH_INFERRED}))


@pytest.fixture(scope="module")
def broken_review(review: bytes) -> bytes:
    """The review with one statement in twenty dropped: hundreds of results."""
    rng = random.Random(3)
    return b"".join(line for line in _lines(review) if rng.random() > 0.05)


@pytest.fixture(scope="module")
def small_shapes() -> Graph:
    return Graph().parse(data=SMALL_SHAPES, format="turtle")


# --- (a) a focus run is the full run filtered to its nodes -----------------------------------


def test_a_focus_run_on_the_review_is_the_full_run_filtered(review: bytes, shapes: Graph) -> None:
    _check_focus_runs(review, shapes, seed=1, picks=3)


def test_a_focus_run_on_a_broken_review_is_the_full_run_filtered(
    broken_review: bytes, shapes: Graph
) -> None:
    _check_focus_runs(broken_review, shapes, seed=2, picks=5)


def test_a_focus_run_on_blank_literal_and_iri_focus_nodes(small_shapes: Graph) -> None:
    store = shapes_store(SMALL_DATA)
    full = validate_store(store, small_shapes)
    kinds = {type(r.focus).__name__ for r in full}
    assert kinds == {"URIRef", "BNode", "Literal"}, kinds  # the fixture exercises each kind
    _check_focus_runs(SMALL_DATA, small_shapes, seed=4, picks=20)
    for node in _focus_nodes(store, full):  # one node at a time, too
        assert Counter(validate_store(store, small_shapes, [node])) == Counter(
            r for r in full if r.focus == node), node


def test_a_large_focus_is_a_full_run_filtered(
    broken_review: bytes, shapes: Graph, small_shapes: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above _NODE_COST nodes per triple of the store the engine runs in full and filters."""
    monkeypatch.setattr(shacl_sparql, "_FEW_NODES", 0)
    monkeypatch.setattr(shacl_sparql, "_NODE_COST", 10**9)
    runs: list[tuple[bool, bool]] = []  # (restricted in SPARQL, filtered in Python)
    validate = shacl_sparql._validate

    def spy(store: pyoxigraph.Store, shapes: Graph, restrict: object = None,
            keep: object = None) -> list[ShapeViolation]:
        runs.append((restrict is not None, keep is not None))
        return validate(store, shapes, restrict, keep)

    monkeypatch.setattr(shacl_sparql, "_validate", spy)
    _check_focus_runs(broken_review, shapes, seed=6, picks=2)
    _check_focus_runs(SMALL_DATA, small_shapes, seed=7, picks=10)
    assert set(runs) == {(False, False), (False, True)}, set(runs)  # full, full filtered


def test_an_empty_focus_validates_nothing(broken_review: bytes, shapes: Graph) -> None:
    store = shapes_store(broken_review)
    assert validate_store(store, shapes)
    assert validate_store(store, shapes, []) == []


# --- (b) re-validating the affected nodes gives the full run ---------------------------------

Edit = tuple[str, list[bytes], list[bytes]]
Affected = Callable[[pyoxigraph.Store, Graph, bytes, bytes], set[Identifier]]


def _random_edits(text: bytes, count: int, seed: int) -> list[Edit]:
    """``count`` edits of the statements, kinds in turn: delete a triple, change a literal,
    point a property at a node of another kind, remove an rdf:type, give a node another
    type, drop an rdfs:subClassOf. Each: (description, added lines, removed lines)."""
    lines = _lines(text)
    rng = random.Random(seed)
    split = [_split(line) for line in lines]
    typed = [i for i, (_, p, _o) in enumerate(split) if p == TYPE]
    literal = [i for i, (_, _p, o) in enumerate(split) if o.startswith(b'"')]
    linked = [i for i, (_, p, o) in enumerate(split) if p != TYPE and not o.startswith(b'"')]
    subclass = [i for i, (_, p, _o) in enumerate(split) if p == SUBCLASS]
    edits: list[Edit] = []
    for n in range(count):
        kind = ("delete", "literal", "wrong-object", "untype", "retype", "subclass")[n % 6]
        pool = {"delete": range(len(lines)), "literal": literal, "wrong-object": linked,
                "untype": typed, "retype": typed, "subclass": subclass}[kind] or range(len(lines))
        line = lines[rng.choice(pool)]
        s, p, o = split[lines.index(line)]
        if kind in ("delete", "untype", "subclass"):
            edits.append((f"{kind} {line!r}", [], [line]))
        elif kind == "literal":
            edits.append((f"{kind} {line!r}", [b'%s %s "x"@en .\n' % (s, p)], [line]))
        elif kind == "wrong-object":
            other = split[rng.randrange(len(lines))][0]
            edits.append((f"{kind} {line!r} -> {other!r}", [b"%s %s %s .\n" % (s, p, other)],
                          []))
        else:
            other = split[rng.choice(typed)][2]
            edits.append((f"{kind} {line!r} -> {other!r}", [b"%s %s %s .\n" % (s, p, other)],
                          [line]))
    return edits


def _review_edits(text: bytes) -> list[Edit]:
    """A dozen random edits, and two that reach the focus node only through other nodes:
    a reference marked retracted (a finding's support: sh:qualifiedValueShape, sh:not, a
    path from the reference) and a gene losing its type (sh:class of a finding's value)."""
    lines = _lines(text)
    edits = _random_edits(text, 12, seed=11)
    retracted = next(line for line in lines if _split(line)[1] == RETRACTED
                     and _split(line)[2].startswith(b'"false"'))
    edits.append(("retract a reference", [retracted.replace(b'"false"', b'"true"')],
                  [retracted]))
    regulated = next(_split(line)[2] for line in lines
                     if _split(line)[1] == b"<https://w3id.org/exomirkg/downregulatesGene>")
    edits.append(("untype a regulated gene", [],
                  [b"%s %s <https://w3id.org/exomirkg/Gene> .\n" % (regulated, TYPE)]))
    return edits


def _subjects_only(store: pyoxigraph.Store, shapes: Graph, added: bytes,
                   removed: bytes) -> set[Identifier]:
    """A wrong rule, for the checks to catch: the changed triples' subjects."""
    return {_decode(quad.subject) for quad in change_quads(added) + change_quads(removed)}


def _mismatches(text: bytes, shapes: Graph, edits: list[Edit],
                affected: Affected) -> list[str]:
    """The edits after which (results before, less the affected nodes') + (a focus run on
    the affected nodes after) is not the full run after the edit."""
    before = Counter(validate_store(shapes_store(text), shapes))
    lines = set(_lines(text))
    wrong = []
    for description, added, removed in edits:
        edited = b"".join(sorted((lines - set(removed)) | set(added)))
        store = shapes_store(edited)
        nodes = affected(store, shapes, b"".join(added), b"".join(removed))
        kept = Counter({r: n for r, n in before.items() if r.focus not in nodes})
        merged = kept + Counter(validate_store(store, shapes, nodes))
        after = Counter(validate_store(store, shapes))
        if merged != after:
            wrong.append(f"{description}: incremental only {list((merged - after).elements())}"
                         f", full only {list((after - merged).elements())}")
    return wrong


def _small_edits() -> list[Edit]:
    """Edits of SMALL_DATA that reach a focus node through inverse, sequence, ``*`` paths,
    nested sh:node, a subclass and each target kind; and random ones."""
    edits = [
        ("country name (two sh:node down a sequence)", "", 'ex:france ex:name "France" .'),
        ("city's country", "ex:lyon ex:country ex:fr .", "ex:lyon ex:country ex:france ."),
        ("blank address's city", "", "_:addr2 ex:city ex:lyon ."),
        ("employer's subclass (inverse path, sh:class)", "",
         "ex:Firm rdfs:subClassOf ex:Company ."),
        ("employer's type", "ex:acme rdf:type ex:Thing .", "ex:acme rdf:type ex:Firm ."),
        ("manager chain (zero or more)", "ex:cyd ex:manager ex:car .", ""),
        ("manager's type", "", "ex:cyd rdf:type ex:Person ."),
        ("a subclass makes a Person", "ex:Thing rdfs:subClassOf ex:Employee .", ""),
        ("an owned thing's type", "", "ex:car rdf:type ex:Thing ."),
        ("ownership (target subjects of)", "", "_:anon ex:owns ex:bike ."),
        ("owner (target objects of)", 'ex:bike ex:ownedBy "me" .', ""),
        ("tag (a literal focus node)", 'ex:car ex:tag "no" .', 'ex:car ex:tag "ok" .'),
        ("boss (target node)", "", 'ex:boss ex:born "1970" .'),
    ]
    written = [(what, [_nt(a + "\n")] if a else [], [_nt(r + "\n")] if r else [])
               for what, a, r in edits]
    return written + _random_edits(SMALL_DATA, 18, seed=5)


def test_b_revalidating_the_affected_nodes_gives_the_full_run_on_the_review(
    review: bytes, shapes: Graph
) -> None:
    wrong = _mismatches(review, shapes, _review_edits(review), affected_focus)
    assert not wrong, "\n".join(wrong)


def test_b_revalidating_the_affected_nodes_gives_the_full_run_on_a_broken_review(
    broken_review: bytes, shapes: Graph
) -> None:
    wrong = _mismatches(broken_review, shapes, _random_edits(broken_review, 12, seed=12),
                        affected_focus)
    assert not wrong, "\n".join(wrong)


def test_b_revalidating_the_affected_nodes_on_paths_the_review_does_not_use(
    small_shapes: Graph
) -> None:
    wrong = _mismatches(SMALL_DATA, small_shapes, _small_edits(), affected_focus)
    assert not wrong, "\n".join(wrong)


def test_b_the_check_catches_an_affected_set_of_subjects_only(
    review: bytes, shapes: Graph, small_shapes: Graph
) -> None:
    wrong = _mismatches(review, shapes, _review_edits(review)[-2:], _subjects_only)
    assert len(wrong) == 2, wrong  # both edits reach their findings through other nodes
    wrong = _mismatches(SMALL_DATA, small_shapes, _small_edits(), _subjects_only)
    assert len(wrong) >= 5, wrong


def test_affected_nodes_follow_paths_back_to_their_focus(small_shapes: Graph) -> None:
    """The rule on single changes, node by node (and as rdflib triples, not text)."""
    store = shapes_store(SMALL_DATA)

    def affected(removed: bytes) -> set[str]:
        return {n.n3() for n in affected_focus(store, small_shapes, removed=removed)}

    ex = "http://example.org/"
    # France's name is read by ann and bob (address/city/country/name); not by cyd.
    assert affected(f'<{ex}france> <{ex}name> "France" .\n'.encode()) == {
        f"<{ex}ann>", f"<{ex}bob>"}
    # acme's type is read by ann, whom acme employs (the inverse path).
    assert affected(f"<{ex}acme> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                    f"<{ex}Firm> .\n".encode()) == {f"<{ex}ann>"}
    # cyd's type: cyd is a Person (a focus), and managed-by* reaches cyd from ann and bob.
    assert affected(f"<{ex}cyd> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                    f"<{ex}Person> .\n".encode()) == {f"<{ex}ann>", f"<{ex}bob>", f"<{ex}cyd>"}
    # A changed literal that is a focus node itself (sh:targetObjectsOf).
    assert affected(f'<{ex}car> <{ex}tag> "ok" .\n'.encode()) == {'"ok"'}
    # Terms as well as text; a predicate no shape reads reaches nothing.
    from rdflib import URIRef
    assert affected_focus(store, small_shapes, added=[
        (URIRef(f"{ex}ann"), URIRef(f"{ex}likes"), URIRef(f"{ex}cyd"))]) == set()
