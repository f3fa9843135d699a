"""The ``*-violation.rq`` checks on given focus nodes, and which focus nodes a change can
reach: the checks' part of the incremental build (docs/scale.md, "The incremental build").

A check's focus run (``_check_rows(store, check, focus)``) must give the full run's rows whose
first column is one of the nodes, and ``check_focus.affected(store, check, added, removed)``
every focus node whose rows a change can alter (or None: run the check in full): the full
run's rows before the change, less those of the affected nodes, plus a focus run on them after
it, must be the full run after it. Both are held to the full run on the review's built
dataset (graph/inferred included) and on a broken copy of it (one quad in twenty dropped, so
that every check but one has rows), for every check; the random edits are seeded.
"""

from __future__ import annotations

import gc
import random
import sys
import threading
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, URIRef, Variable
from rdflib.term import Identifier

from exomirkg import check_focus
from exomirkg.build import BuildResult
from exomirkg.load import DataFileError
from exomirkg.shacl_sparql import node_key
from exomirkg.store import to_rdflib
from exomirkg.validate import Check, _check_rows, load_checks, run_checks

CHECKS = load_checks()
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
EKG = "https://w3id.org/exomirkg/"
#: The checks the analysis cannot run on focus nodes, and why (the others all can).
IN_FULL: dict[str, str] = {}
#: The checks that run on a partition (``#+ partition:``), not on their first column.
PARTITIONED = {"duplicate-label-violation": "class"}

Rows = Counter[tuple[Identifier | None, ...]]


def _store(lines: list[bytes]) -> pyoxigraph.Store:
    """A store of N-Quads lines, blank-node labels kept (bulk_load would rename them)."""
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.parse(b"".join(lines), format=pyoxigraph.RdfFormat.N_QUADS,
                                  lenient=True))
    return store


def _rows(store: pyoxigraph.Store, check: Check,
          focus: list[Identifier] | set[Identifier] | None = None) -> Rows:
    """The rows, the column the check runs on first (its focus, or its partition's)."""
    columns, rows = _check_rows(store, check, focus)
    on = check.partition or columns[0]
    order = [on] + [c for c in columns if c != on]
    return Counter(tuple(row[c] for c in order) for row in rows)


def _nodes(store: pyoxigraph.Store) -> list[Identifier]:
    """Every subject and object of the store, in a fixed order."""
    return sorted({to_rdflib(t) for q in store for t in (q.subject, q.object)}, key=repr)


@pytest.fixture(scope="module")
def review(built: BuildResult) -> list[bytes]:
    """The built dataset (graph/inferred included) as N-Quads lines."""
    text = built.store.dump(format=pyoxigraph.RdfFormat.N_QUADS)
    return sorted({line + b"\n" for line in text.splitlines() if line.strip()})


@pytest.fixture(scope="module")
def broken(review: list[bytes]) -> list[bytes]:
    """The review with one quad in twenty dropped: rows for every check but one."""
    rng = random.Random(3)
    return [line for line in review if rng.random() > 0.05]


def test_the_checks_the_analysis_runs_in_full() -> None:
    found = {c.name: check_focus.analyse(c).reason for c in CHECKS
             if check_focus.analyse(c).variable is None}
    assert found == IN_FULL
    assert {c.name: c.partition for c in CHECKS if c.partition} == PARTITIONED


# --- (a) a focus run is the full run filtered to its nodes -----------------------------------


@pytest.mark.parametrize("which", ["review", "broken"])
def test_a_focus_run_is_the_full_run_filtered(which: str, request: pytest.FixtureRequest
                                              ) -> None:
    store = _store(request.getfixturevalue(which))
    nodes = _nodes(store)
    blank = [n for n in nodes if isinstance(n, BNode)]
    rng = random.Random(1)
    partial = 0
    for check in CHECKS:
        full = _rows(store, check)
        foci = sorted({row[0] for row in full}, key=repr)
        for _ in range(3):
            focus = set(rng.sample(nodes, 40)) | set(rng.sample(foci, (len(foci) + 2) // 3))
            if _ % 2:
                focus |= set(rng.sample(blank, 2))  # a full run, filtered
            keys = {node_key(n) for n in focus}
            expected = Counter({r: n for r, n in full.items() if node_key(r[0]) in keys})
            got = _rows(store, check, focus)
            assert got == expected, (
                f"{check.name} on {len(focus)} nodes: extra {list((got - expected).elements())}"
                f", missing {list((expected - got).elements())}")
            partial += 0 < expected.total() < full.total()
        assert _rows(store, check, []) == Counter()
    if which == "broken":
        assert partial >= 15, partial  # not vacuous: the sets kept some rows, left others


@pytest.mark.parametrize("mode", ["batches", "full"])
def test_a_focus_run_in_batches_or_in_full_is_the_full_run_filtered(
        mode: str, broken: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """Many nodes go to the engine a batch at a time; more than one per _NODE_COST quads,
    to a full run whose rows are filtered (both forced here on a small store)."""
    from exomirkg import shacl_sparql, validate

    if mode == "batches":
        monkeypatch.setattr(validate, "_CHECK_BATCH", 7)
    else:
        monkeypatch.setattr(shacl_sparql, "_FEW_NODES", 0)
        monkeypatch.setattr(shacl_sparql, "_NODE_COST", 10**9)
    queries: list[str] = []

    class Spy:
        """The store, its queries written down."""

        def __init__(self, store: pyoxigraph.Store) -> None:
            self.store = store

        def query(self, text: str, **options: object) -> object:
            queries.append(text)
            return self.store.query(text, **options)

        def __getattr__(self, name: str) -> object:
            return getattr(self.store, name)

        def __len__(self) -> int:
            return len(self.store)

        def __iter__(self) -> object:
            return iter(self.store)

    store = Spy(_store(broken))
    nodes = [n for n in _nodes(store) if not isinstance(n, BNode)]
    for check in CHECKS:
        full = _rows(store, check)
        focus = set(random.Random(2).sample(nodes, 30)) | {row[0] for row in full}
        keys = {node_key(n) for n in focus}
        queries.clear()
        assert _rows(store, check, focus) == Counter(
            {r: n for r, n in full.items() if node_key(r[0]) in keys}), check.name
        focused = [q for q in queries if " VALUES ?" in q and q != check.text]
        if mode == "full" or check.name in IN_FULL:
            assert queries == [check.text], check.name
        else:
            assert len(focused) == len(queries) == -(-len(focus) // 7), check.name


def test_a_focus_run_of_results() -> None:
    """run_checks(focus=...) is run_checks filtered to the nodes' results."""
    store = _store([
        f"<{EKG}x> {TYPE} <{EKG}Finding> <{EKG}graph/section/s> .\n".encode(),
        f"<{EKG}y> {TYPE} <{EKG}Finding> <{EKG}graph/section/s> .\n".encode()])
    checks = [c for c in CHECKS if c.name == "finding-without-effect-violation"]
    assert [r.focus for r in run_checks(store, checks)] == ["ekg:x", "ekg:y"]
    assert [r.focus for r in run_checks(store, checks, focus=[URIRef(f"{EKG}y")])] == ["ekg:y"]


# --- (b) re-running the affected nodes gives the full run ------------------------------------

Edit = tuple[str, list[bytes], list[bytes]]


def _split(line: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """A quad line's subject, predicate, object and graph (no literal here holds ' <')."""
    subject, predicate, rest = line.split(b" ", 2)
    body = rest.rstrip(b"\r\n").removesuffix(b".").rstrip()
    value, _, graph = body.rpartition(b" ")
    return subject, predicate, value, graph


def _random_edits(lines: list[bytes], count: int, seed: int) -> list[Edit]:
    """``count`` edits, kinds in turn: delete a quad, change a literal, point a property at
    another node, remove a type, give a node another type, add a statement of a node's about
    another (its subject's property, another object), all in the quad's own graph."""
    rng = random.Random(seed)
    split = [_split(line) for line in lines]
    typed = [i for i, q in enumerate(split) if q[1] == TYPE.encode()]
    literal = [i for i, q in enumerate(split) if q[2].startswith(b'"')]
    linked = [i for i, q in enumerate(split) if q[1] != TYPE.encode()
              and not q[2].startswith(b'"')]
    edits: list[Edit] = []
    for n in range(count):
        kind = ("delete", "literal", "wrong-object", "untype", "retype", "copy")[n % 6]
        pool = {"delete": range(len(lines)), "literal": literal, "wrong-object": linked,
                "untype": typed, "retype": typed, "copy": linked}[kind]
        index = rng.choice(pool)
        line, (s, p, _o, g) = lines[index], split[index]
        if kind in ("delete", "untype"):
            edits.append((f"{kind} {line!r}", [], [line]))
        elif kind == "literal":
            edits.append((f"{kind} {line!r}", [b'%s %s "x"@en %s .\n' % (s, p, g)], [line]))
        elif kind in ("wrong-object", "copy"):
            other = split[rng.randrange(len(lines))][0]
            subject = split[rng.choice(linked)][0] if kind == "copy" else s
            edits.append((f"{kind} {line!r} -> {subject!r} {other!r}",
                          [b"%s %s %s %s .\n" % (subject, p, other, g)], []))
        else:
            other = split[rng.choice(typed)][2]
            edits.append((f"{kind} {line!r} -> {other!r}",
                          [b"%s %s %s %s .\n" % (s, p, other, g)], [line]))
    return edits


def _triples(lines: list[bytes]) -> bytes:
    """Quad lines as the N-Triples text :func:`check_focus.affected` reads."""
    quads = pyoxigraph.parse(b"".join(lines), format=pyoxigraph.RdfFormat.N_QUADS, lenient=True)
    return b"".join(f"{q.triple} .\n".encode() for q in quads)


def _review_edits(lines: list[bytes]) -> list[Edit]:
    """Random edits, and four that change the rows of a focus node other than the changed
    triples' subjects: a finding's one reference retracted (the finding), a link's finding
    untyped (the link's drug, through the link), a link's drug changed (the link, for
    link-support-other-drug), a statement untyped (the subject of the triple it names)."""
    edits = _random_edits(lines, 12, seed=11)
    ekg, kind = EKG.encode(), TYPE.encode()
    inferred = b"<%sgraph/inferred>" % ekg
    split = [_split(line) for line in lines]
    by = {(q[0], q[1]): [] for q in split}
    for line, q in zip(lines, split, strict=True):
        by[q[0], q[1]].append((line, q))
    cites = b"<%ssupportingReference>" % ekg
    finding = next(q[0] for q in split if q[1] == kind and q[2] == b"<%sFinding>" % ekg
                   and len(by.get((q[0], cites), [])) == 1)
    reference = by[finding, cites][0][1][2]
    edits.append(("retract a finding's one reference", [
        b"%s %s <%sRetractedReference> %s .\n" % (reference, kind, ekg, inferred)], []))
    derived = b"<http://www.w3.org/ns/prov#wasDerivedFrom>"
    link = next(q for q in split if q[1] == derived and (q[0], b"<%slinkDrug>" % ekg) in by
                and (q[2], kind) in by)
    edits.append(("untype a link's finding", [], [line for line, _ in by[link[2], kind]]))
    drug = by[link[0], b"<%slinkDrug>" % ekg][0]
    edits.append(("change a link's drug", [drug[0].replace(drug[1][2], b"<%sother>" % ekg)],
                  [drug[0]]))
    statement = next(q[0] for q in split if q[1] == kind and q[2] == b"<%sStatement>" % ekg)
    edits.append(("untype a statement", [], [line for line, q in by[statement, kind]
                                             if q[2] == b"<%sStatement>" % ekg]))
    return edits


def _mismatches(lines: list[bytes], edits: list[Edit], affected=check_focus.affected,
                checks: list[Check] = CHECKS) -> tuple[list[str], int]:
    """The edits and checks for which (rows before, less the affected nodes') + (a focus
    run on them after) is not the full run after; and how many times affected named nodes."""
    store = _store(lines)
    before = {check.name: _rows(store, check) for check in checks}
    present = set(lines)
    wrong, focused = [], 0
    for description, added, removed in edits:
        edited = _store(sorted((present - set(removed)) | set(added)))
        for check in checks:
            after = _rows(edited, check)
            nodes = affected(edited, check, _triples(added), _triples(removed))
            if nodes is None:
                continue  # the check runs in full
            focused += 1
            keys = {node_key(n) for n in nodes}
            kept = Counter({r: n for r, n in before[check.name].items()
                            if node_key(r[0]) not in keys})
            merged = kept + _rows(edited, check, nodes)
            if merged != after:
                wrong.append(f"{check.name}, {description}: incremental only "
                             f"{list((merged - after).elements())}, full only "
                             f"{list((after - merged).elements())}")
    return wrong, focused


def test_b_rerunning_the_affected_nodes_gives_the_full_run_on_the_review(
        review: list[bytes]) -> None:
    edits = _review_edits(review)
    wrong, focused = _mismatches(review, edits)
    assert not wrong, "\n".join(wrong)
    assert focused >= len(edits) * (len(CHECKS) - len(IN_FULL)) * 3 // 4, focused


def test_b_rerunning_the_affected_nodes_gives_the_full_run_on_a_broken_review(
        broken: list[bytes]) -> None:
    edits = _review_edits(broken) + _random_edits(broken, 12, seed=12)
    wrong, focused = _mismatches(broken, edits)
    assert not wrong, "\n".join(wrong)
    assert focused >= len(edits) * (len(CHECKS) - len(IN_FULL)) * 3 // 4, focused


def test_b_duplicate_label_on_its_classes_gives_the_full_run(review: list[bytes]) -> None:
    """duplicate-label runs on the classes a change reaches (``#+ partition: class``):
    labels that come to clash ignoring case, a clash undone by a label or a type, a group
    whose first entity changes, and one that moves to another class, each give the full
    run's rows."""
    (check,) = [c for c in CHECKS if c.name == "duplicate-label-violation"]
    label = b"<http://www.w3.org/2000/01/rdf-schema#label>"
    split = [_split(line) for line in review]
    drugs = sorted(q[0] for q in split
                   if q[1] == TYPE.encode() and q[2] == b"<%sDrug>" % EKG.encode())
    labelled = {q[0]: (line, q) for line, q in zip(review, split, strict=True) if q[1] == label}
    (one, (one_line, one_q)), (two, (two_line, two_q)) = [(d, labelled[d]) for d in drugs[:2]]
    clash = two_line.replace(two_q[2], one_q[2].upper())  # drug two named as drug one, louder
    base = sorted(set(review) - {two_line} | {clash})
    assert _rows(_store(base), check)  # not vacuous: the clash is a row
    kind = TYPE.encode()
    drug_type = next(line for line, q in zip(review, split, strict=True)
                     if q[0] == two and q[1] == kind and q[2] == b"<%sDrug>" % EKG.encode())
    third = b"<%saaa_first>" % EKG.encode()
    edits: list[Edit] = [
        ("the clash's label changed back", [two_line], [clash]),
        ("the clash untyped", [], [drug_type]),
        ("the clash a gene", [drug_type.replace(b"Drug>", b"Gene>")], [drug_type]),
        ("a third entity, first in order", [
            b"%s %s <%sDrug> %s .\n" % (third, kind, EKG.encode(), drug_type.split(b" ")[-2]),
            clash.replace(two, third)], []),
    ]
    wrong, focused = _mismatches(base, edits, checks=[check])
    assert not wrong, "\n".join(wrong)
    assert focused == len(edits)
    # From the review without the clash: a label made to clash.
    wrong, focused = _mismatches(review, [("a label made to clash", [clash], [two_line])],
                                 checks=[check])
    assert not wrong and focused == 1, wrong


def test_b_the_check_catches_an_affected_set_of_subjects_only(review: list[bytes]) -> None:
    """A wrong rule, the changed triples' subjects, misses rows: the test is not vacuous."""
    def subjects_only(store: pyoxigraph.Store, check: Check, added: bytes, removed: bytes
                      ) -> set[Identifier] | None:
        if check_focus.analyse(check).variable is None:
            return None
        quads = pyoxigraph.parse(added + removed, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return {to_rdflib(q.subject) for q in quads}

    wrong, _ = _mismatches(review, _review_edits(review)[-4:], subjects_only)
    assert len(wrong) == 4, wrong


def test_affected_nodes_follow_the_patterns_back_to_the_focus(review: list[bytes]) -> None:
    """The rule on single changes, check by check."""
    store = _store(review)
    by_name = {c.name: c for c in CHECKS}

    def affected(name: str, added: str = "", removed: str = "") -> set[str] | None:
        nodes = check_focus.affected(store, by_name[name], added.encode(), removed.encode())
        return None if nodes is None else {n.n3() for n in nodes}

    # A finding's effect: that finding only.
    assert affected("finding-without-effect-violation", removed=(
        f"<{EKG}f> <{EKG}hasEffect> <{EKG}e> .\n")) == {f"<{EKG}f>"}
    # A reference retracted reaches the findings that cite it (through ?reference).
    reference = pyoxigraph.NamedNode(f"{EKG}reference_100")
    citing = {f"<{q.subject.value}>" for q in store.quads_for_pattern(
        None, pyoxigraph.NamedNode(f"{EKG}supportingReference"), reference)}
    found = affected("unflagged-retracted-finding-violation",
                     added=f"{reference} {TYPE} <{EKG}RetractedReference> .\n")
    assert citing and found == citing, (citing, found)
    # A predicate the check does not read reaches nothing.
    assert affected("drug-and-gene-violation", added=(
        f"<{EKG}x> <{EKG}likes> <{EKG}y> .\n")) == set()
    # A link's new mechanism: the link's drug only (the MINUS binds ?drug on both its sides),
    # not every drug linked to that mechanism.
    link, drug = next((q.subject, q.object) for q in store.quads_for_pattern(
        None, pyoxigraph.NamedNode(f"{EKG}linkDrug"), None))
    mechanism, users = max(
        ((m, {q.subject for q in store.quads_for_pattern(
            None, pyoxigraph.NamedNode(f"{EKG}drugLinkedToMechanism"), m)})
         for m in {q.object for q in store.quads_for_pattern(
             None, pyoxigraph.NamedNode(f"{EKG}linkMechanism"), None)}),
        key=lambda pair: len(pair[1]))
    assert len(users - {drug}) >= 2, users  # not vacuous: following ?value reaches them
    assert affected("unexplained-link-violation", added=(
        f"{link} <{EKG}linkMechanism> {mechanism} .\n")) == {str(drug)}
    # A label reaches the classes of its entity (duplicate-label runs on a partition, its
    # ?class); a type, its class; a label of an untyped entity, nothing.
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    drug = next(q.subject for q in store.quads_for_pattern(
        None, pyoxigraph.NamedNode(TYPE[1:-1]), pyoxigraph.NamedNode(f"{EKG}Drug")))
    classes = {str(q.object) for q in store.quads_for_pattern(
        drug, pyoxigraph.NamedNode(TYPE[1:-1]), None)}
    assert f"<{EKG}Drug>" in classes
    assert affected("duplicate-label-violation", added=f"{drug} {label} \"x\" .\n") == classes
    assert affected("duplicate-label-violation", removed=(
        f"<{EKG}x> {TYPE} <{EKG}Gene> .\n")) == {f"<{EKG}Gene>"}
    assert affected("duplicate-label-violation", added=f"<{EKG}x> {label} \"x\" .\n") == set()


#: Checks over tests/test_shacl_focus.py's small graph, with what the review's do not use:
#: sequence, inverse, ``+`` and ``*`` paths, a subquery, OPTIONAL, MINUS, EXISTS, a BIND.
SMALL_CHECKS = {
    "city-without-country": "SELECT ?p ?c WHERE { ?p a ex:Person ; ex:address/ex:city ?c . "
                            "FILTER NOT EXISTS { ?c ex:country/ex:name ?k "
                            "FILTER (STRLEN(?k) > 1) } }",
    "not-employed": "SELECT ?p WHERE { ?p a ex:Person . "
                    "FILTER NOT EXISTS { ?p ^ex:employs/a/rdfs:subClassOf* ex:Company } }",
    "managed-by-ageless": "SELECT ?x ?y WHERE { ?x ex:manager+ ?y . ?y a ex:Person . "
                          "MINUS { ?y ex:age ?a } }",
    "untagged": "SELECT DISTINCT ?o WHERE { ?s ex:owns ?o . OPTIONAL { ?o ex:tag ?t "
                "FILTER (STRLEN(STR(?t)) > 2) } FILTER (!BOUND(?t)) }",
    "shared-tag": "SELECT ?t ?y WHERE { { SELECT DISTINCT ?t WHERE { ?x ex:tag ?t } } "
                  "?y ex:tag ?t . FILTER EXISTS { ?y a/rdfs:subClassOf* ex:Thing } }",
    # A BIND reading the focus variable (it reads the value the leading join bound).
    "person-key": "SELECT ?p ?k WHERE { ?p a ex:Person ; ex:address/ex:city ?c . "
                  "BIND (CONCAT(STR(?p), \"@\", STR(?c)) AS ?k) }",
    "typed-persons": "SELECT ?p ?c WHERE { VALUES ?q { rdf:type } ?p ?q ?c . "
                     "?c rdfs:subClassOf* ex:Person }",
    # A MINUS binding the focus on both its sides (a change in it is followed within it),
    # beside the other variable it shares with its group.
    "not-in-managers-city": "SELECT ?p ?c WHERE { ?p ex:address/ex:city ?c . "
                            "MINUS { ?p ex:manager ?m . ?m ex:address/ex:city ?c } }",
    # An aggregate grouped by the focus, and one on a partition (duplicate-label's form: a
    # group's first member, its row's focus, found in nested subqueries).
    "shared-country": "SELECT ?k (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c ex:country ?k } "
                      "GROUP BY ?k HAVING (COUNT(?c) > 1)",
    "first-in-country": "SELECT ?first ?k ?all WHERE { { SELECT ?k ?first "
                        "(GROUP_CONCAT(STR(?p); separator=\" \") AS ?all) WHERE { "
                        "{ SELECT ?k (MIN(STR(?q)) AS ?first) WHERE { "
                        "?q ex:address/ex:city/ex:country ?k } GROUP BY ?k "
                        "HAVING (COUNT(DISTINCT ?q) > 1) } "
                        "OPTIONAL { ?p ex:address/ex:city/ex:country ?k } } "
                        "GROUP BY ?k ?first } }",
}
#: The small checks that run on a partition.
SMALL_PARTITIONS = {"first-in-country": "k"}


def _small_checks() -> list[Check]:
    prefixes = ("PREFIX ex: <http://example.org/>\n"
                "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
    return [Check(name, Path(f"{name}.rq"), prefixes + query, name, "", "union",
                  partition=SMALL_PARTITIONS.get(name))
            for name, query in SMALL_CHECKS.items()]


def test_b_rerunning_the_affected_nodes_on_paths_the_review_does_not_use() -> None:
    from test_shacl_focus import SMALL_DATA, _lines, _small_edits

    checks = _small_checks()
    assert all(check_focus.analyse(c).variable for c in checks)
    lines = _lines(SMALL_DATA)
    store = _store(lines)
    assert all(_rows(store, c) for c in checks)  # each has rows to keep or drop
    edits = _small_edits()
    wrong, focused = _mismatches(lines, edits, checks=checks)
    assert not wrong, "\n".join(wrong)
    assert focused == len(edits) * len(checks)


def test_b_a_minus_groups_variables_but_those_before_it_are_its_own() -> None:
    """The inner MINUS's ?p is not the query's: its group's rows are compared with the rows
    before it on ?q alone. Removing ann's age removes cyd's row (the car cyd owns is owned
    by bob, who now manages someone ageless); following the inner ?p as the query's reached
    ann, who has no row, and not cyd."""
    check = Check("nested", Path("nested.rq"), "PREFIX ex: <http://example.org/>\n"
                  "SELECT ?p ?x WHERE { ?p ex:owns ?x . { ?x ex:ownedBy ?q "
                  "MINUS { ?q ex:manager ?p MINUS { ?p ex:age ?a } } } }", "nested", "", "union")
    ex = "http://example.org/"
    lines = [f"<{ex}{s}> <{ex}{p}> {o} .\n".encode() for s, p, o in (
        ("cyd", "owns", f"<{ex}car>"), ("car", "ownedBy", f"<{ex}bob>"),
        ("bob", "manager", f"<{ex}ann>"), ("ann", "age", '"9"'))]
    cyd = URIRef(f"{ex}cyd")
    assert _rows(_store(lines), check) == Counter({(cyd, URIRef(f"{ex}car")): 1})
    store = _store(lines[:3])
    assert _rows(store, check) == Counter()
    assert check_focus.affected(store, check, removed=lines[3]) == {cyd}
    assert check_focus.analyse(check).confined == []
    # The same MINUS as the query's own (it binds ?p on both its sides): followed within it.
    spine = Check("spine", Path("spine.rq"), "PREFIX ex: <http://example.org/>\n"
                  "SELECT ?p ?x WHERE { ?p ex:owns ?x . MINUS { ?x ex:ownedBy ?q . "
                  "?q ex:manager ?p MINUS { ?p ex:age ?a } } }", "spine", "", "union")
    assert [len(group) for group in check_focus.analyse(spine).confined] == [3]


@pytest.mark.parametrize(("query", "reason"), [
    ("SELECT ?a WHERE { ?a ex:p ?b . ?c ex:q ?d }", "share no variable"),
    ("SELECT ?a WHERE { ?a ex:p ?b OPTIONAL { ?a ex:q ?c } ?c ex:r ?a }", "?c may be unbound"),
    ("SELECT ?a WHERE { { ?a ex:p ?b } UNION { ?a ex:q ?c } ?c ex:r ?a }", "?c may be unbound"),
    ("SELECT ?a WHERE { ?a ex:p ?b } LIMIT 3", "a Slice"),
    ("SELECT ?a WHERE { ?a ex:p ?b . { SELECT (COUNT(*) AS ?n) WHERE { ?x ex:p ?y } } }",
     "an aggregate not grouped by the focus variable"),
    # Grouped by another variable: a group's row stands for solutions of many ?a.
    ("SELECT ?a ?n WHERE { ?a ex:p ?b { SELECT ?b (COUNT(?c) AS ?n) WHERE { ?b ex:q ?c } "
     "GROUP BY ?b } }", "an aggregate not grouped by the focus variable"),
    ("SELECT ?a (COUNT(?b) AS ?n) WHERE { ?b ex:p ?c } GROUP BY (STR(?c) AS ?a)",
     "a BIND sets ?a"),
    ("SELECT ?a WHERE { ?a !ex:p ?b }", "negated"),
    ("SELECT ?a WHERE { ?a ex:p ?b BIND (STR(?b) AS ?s) ?a ex:q ?s }", "a computed value"),
    ("SELECT ?a WHERE { OPTIONAL { ?a ex:p ?b } }", "an OPTIONAL sharing no variable"),
    ("SELECT ?a WHERE { ?b ex:p ?c OPTIONAL { ?b ex:q ?a } }", "not bound by the query's"),
    ("SELECT ?a WHERE { ?x ex:p ?b BIND (?x AS ?a) }", "a BIND sets ?a"),
])
def test_checks_the_analysis_runs_in_full(query: str, reason: str) -> None:
    check = Check("c", Path("c.rq"), "PREFIX ex: <http://example.org/>\n" + query, "c", "",
                  "union")
    analysis = check_focus.analyse(check)
    assert analysis.variable is None and reason in analysis.reason, analysis.reason


# --- (c) the #+ focus: header ----------------------------------------------------------------


def _check(tmp_path: Path, header: str, query: str) -> list[Check]:
    (tmp_path / "c-violation.rq").write_text(
        f"#+ summary: a test\n{header}PREFIX ex: <http://example.org/>\n{query}\n",
        encoding="utf-8")
    return load_checks(tmp_path)


@pytest.mark.parametrize("value", ["other", "?x y", "1x"])
def test_c_a_focus_header_that_is_not_the_first_variable_is_rejected(
        tmp_path: Path, value: str) -> None:
    with pytest.raises(DataFileError, match=r"#\+ focus: must be 'none' or the first "
                                            r"selected variable \?node"):
        _check(tmp_path, f"#+ focus: '{value}'\n", "SELECT ?node ?other WHERE { ?node a ?other }")


@pytest.mark.parametrize(("query", "reason"), [
    ("SELECT ?node WHERE { ?node a ?class }", r"\?class is not a selected variable"),
    ("SELECT ?node ?class WHERE { ?node a ?class } LIMIT 2", "a Slice"),
    ("SELECT ?node ?class WHERE { { SELECT ?node (COUNT(?c) AS ?class) WHERE { ?node a ?c } "
     "GROUP BY ?node } }", "an aggregate not grouped by the focus variable"),
])
def test_c_a_partition_header_the_query_cannot_run_on_is_rejected(
        tmp_path: Path, query: str, reason: str) -> None:
    with pytest.raises(DataFileError, match=rf"#\+ partition: cannot run on given values of "
                                            rf"\?class: {reason}"):
        _check(tmp_path, "#+ partition: ?class\n", query)


def test_c_a_partition_header_names_the_variable_the_check_runs_on(tmp_path: Path) -> None:
    query = "SELECT ?node ?class WHERE { ?node a ?class }"
    (check,) = _check(tmp_path, "#+ partition: ?class\n", query)
    assert check.partition == "class"
    assert check_focus.analyse(check).variable == "class"
    store = pyoxigraph.Store()
    store.load(b"<http://example.org/x> a <http://example.org/A> . "
               b"<http://example.org/y> a <http://example.org/B> .",
               format=pyoxigraph.RdfFormat.TURTLE)
    columns, rows = _check_rows(store, check, [URIRef("http://example.org/B")])
    assert [row["node"] for row in rows] == [URIRef("http://example.org/y")]
    assert _check(tmp_path, "", query)[0].partition is None


def test_c_a_focus_header_names_the_variable_or_none(tmp_path: Path) -> None:
    query = "SELECT DISTINCT ?node WHERE { ?node a ex:C }"
    assert _check(tmp_path, "#+ focus: ?node\n", query)[0].focus == "node"
    assert _check(tmp_path, "#+ focus: node\n", query)[0].focus == "node"
    (check,) = _check(tmp_path, "#+ focus: none\n", query)
    assert check.focus == "none"
    assert check_focus.analyse(check).variable is None
    assert check_focus.affected(pyoxigraph.Store(), check) is None
    assert _check(tmp_path, "", query)[0].focus is None


def test_c_a_focus_header_on_a_check_that_cannot_run_on_focus_nodes(tmp_path: Path) -> None:
    """Named explicitly, a focus the analysis cannot support is an error where it is used."""
    (check,) = _check(tmp_path, "#+ focus: node\n",
                      "SELECT ?node WHERE { ?x a ex:C . BIND (?x AS ?node) }")
    with pytest.raises(DataFileError, match="cannot run on focus nodes: a BIND"):
        _check_rows(pyoxigraph.Store(), check, [URIRef("http://example.org/x")])
    with pytest.raises(ValueError, match="cannot run on focus nodes"):
        check_focus.affected(pyoxigraph.Store(), check)


def test_the_values_block_goes_where_the_scanner_finds_the_groups() -> None:
    """Braces in strings and comments (and "#" in IRIs) are skipped; a subquery selecting
    the focus gets a block too, one selecting another variable or computing the focus none."""
    text = ("PREFIX ex: <http://example.org/#>\n# { a comment\n"
            'SELECT ?a WHERE { ?a ex:p "{", """}""" ; ex:t ?b . '
            "{ SELECT DISTINCT ?a WHERE { ?a ex:q ?b } } "
            "{ SELECT ?b WHERE { ?b ex:r ?c } } "
            "{ SELECT ?a WHERE { ?x ex:s ?y BIND (?x AS ?a) } } }")
    check = Check("c", Path("c.rq"), text, "c", "", "union")
    analysis = check_focus.analyse(check)
    assert analysis.variable == "a"
    written = check_focus.focused_text(text, analysis, ["<http://example.org/n>"])
    block = " VALUES ?a { <http://example.org/n> }"
    assert written == text.replace("WHERE { ?a ex:p", "WHERE {" + block + " ?a ex:p").replace(
        "DISTINCT ?a WHERE {", "DISTINCT ?a WHERE {" + block)


def test_the_scanner_reaches_subqueries_down_joined_groups_and_one_compared_group() -> None:
    """A subquery selecting the focus gets a block in a MINUS, OPTIONAL or EXISTS group of
    the WHERE group and in the groups, UNION branches and GRAPH groups under it, and in a
    subquery that selects the focus too, scanned as the query (its ?a is the query's); not
    under an OPTIONAL or MINUS further down, or inside a subquery that does not select the
    focus (the analysis gives up on a SERVICE before)."""
    sub = "{ SELECT ?a WHERE { ?a ex:q ?b } }"
    text = ("PREFIX ex: <http://example.org/>\n"
            "SELECT ?a WHERE { ?a ex:p ?c ; ex:minus ?d . "
            f"MINUS {{ {sub} {{ ?b ex:r 1 }} UNION {{ GRAPH ?g {{ {sub} }} }} }} "
            f"OPTIONAL {{ {sub} }} FILTER NOT EXISTS {{ {sub} }} "
            f"{{ ?a ex:s ?e OPTIONAL {{ {sub} }} }} "
            f"{{ SELECT ?a ?c WHERE {{ ?a ex:t ?c {sub} }} }} "
            f"{{ SELECT ?c WHERE {{ ?a ex:u ?c {sub} }} }} }}")
    # The scanner alone: the analysis would give up on ?a of a UNION branch joined again.
    analysis = check_focus.Analysis("a", "", openings=check_focus._openings(text, Variable("a")))
    written = check_focus.focused_text(text, analysis, ["<http://example.org/n>"])
    block = " VALUES ?a { <http://example.org/n> }"
    inner = "{ SELECT ?a WHERE {" + block + " ?a ex:q ?b } }"
    assert written == (
        "PREFIX ex: <http://example.org/>\n"
        f"SELECT ?a WHERE {{{block} ?a ex:p ?c ; ex:minus ?d . "
        # The MINUS and OPTIONAL groups bind ?a in every row: a block of their own too.
        f"MINUS {{{block} {inner} {{ ?b ex:r 1 }} UNION {{ GRAPH ?g {{ {inner} }} }} }} "
        f"OPTIONAL {{{block} {inner} }} FILTER NOT EXISTS {{ {inner} }} "
        f"{{ ?a ex:s ?e OPTIONAL {{ {sub} }} }} "
        f"{{ SELECT ?a ?c WHERE {{{block} ?a ex:t ?c {inner} }} }} "
        f"{{ SELECT ?c WHERE {{ ?a ex:u ?c {sub} }} }} }}")


def test_a_minus_or_optional_group_binding_the_focus_in_every_row_gets_a_block() -> None:
    """Not one that leaves the focus unbound in a row (a UNION branch), or reads it only in a
    FILTER (there a block would be exact too, as the group shares a variable with the rows
    before it, which the analysis asks, but its rows would be repeated for every node), or
    lies further down."""
    text = ("PREFIX ex: <http://example.org/>\n"
            "SELECT ?a WHERE { ?a ex:p ?c . "
            "MINUS { ?a ex:q ?c } "
            "OPTIONAL { ?d ex:r ?a ; ex:s ?e } "
            "MINUS { { ?a ex:q ?c } UNION { ?c ex:r 1 } } "
            "OPTIONAL { ?c ex:t ?f FILTER (?f != ?a) } "
            "{ ?a ex:u ?g MINUS { ?a ex:v ?g } } }")
    analysis = check_focus.Analysis("a", "", openings=check_focus._openings(text, Variable("a")))
    written = check_focus.focused_text(text, analysis, ["<http://example.org/n>"])
    block = " VALUES ?a { <http://example.org/n> }"
    assert written == text.replace("WHERE {", "WHERE {" + block).replace(
        "MINUS { ?a ex:q", "MINUS {" + block + " ?a ex:q").replace(
        "OPTIONAL { ?d", "OPTIONAL {" + block + " ?d")


def test_a_node_a_minus_of_the_focus_alone_matches_is_not_looked_for(monkeypatch) -> None:
    """A MINUS group of the WHERE group whose one variable is the focus removes every row of
    a node it matches: the focus run leaves such a node out (the rows are the full run's all
    the same). Not a MINUS sharing another variable, or one further down."""
    store = pyoxigraph.Store()
    store.load(b"""
        @prefix ex: <http://example.org/> .
        ex:a1 ex:p ex:c1 . ex:a2 ex:p ex:c2 . ex:a3 ex:p ex:c3 .
        ex:a2 ex:gone true . ex:a3 ex:q ex:c3 . ex:a1 ex:q ex:c9 .
        """, format=pyoxigraph.RdfFormat.TURTLE)
    text = ("PREFIX ex: <http://example.org/>\nSELECT ?a ?c WHERE { ?a ex:p ?c "
            "MINUS { SELECT ?a WHERE { ?a ex:gone true } } MINUS { ?a ex:q ?c } "
            "{ ?a ex:p ?d MINUS { ?a ex:gone false } } }")
    check = Check("c", Path("c.rq"), text, "c", "", "asserted")
    analysis = check_focus.analyse(check)
    assert [" ".join(query.split("\n")[1].split()) for query, _openings in analysis.excluding
            ] == ["SELECT DISTINCT ?a WHERE { { SELECT ?a WHERE { ?a ex:gone true } } }"]
    asked: list[list[str]] = []
    focused = check_focus.focused_text

    def spy(query: str, analysis: check_focus.Analysis, written: list[str]) -> str:
        if query == text:  # the check's own runs, not the MINUS group's
            asked.append(list(written))
        return focused(query, analysis, written)

    monkeypatch.setattr(check_focus, "focused_text", spy)
    nodes = [URIRef(f"http://example.org/a{n}") for n in (1, 2, 3)]
    assert _rows(store, check, nodes) == _rows(store, check) == Counter(
        {(nodes[0], URIRef("http://example.org/c1")): 1})
    assert asked == [["<http://example.org/a1>", "<http://example.org/a3>"]]


@pytest.mark.parametrize("where", [
    # A MINUS whose rows meet rows that need not bind ?a: its row of another node removes
    # ?c's row, whose ?a the WHERE group binds only after (a block there keeps the row).
    "?a ex:p ?c . { ?c ex:s ?e MINUS { SELECT ?e ?a WHERE { ?e ex:q ?a } } }",
    # A MINUS of the WHERE group: its rows of another node remove nothing.
    "?a ex:p ?c . MINUS { { SELECT ?a ?c WHERE { ?a ex:q ?c } } ?c ex:s ?e }",
    # The same in the MINUS group itself (its block), and an OPTIONAL's: their rows of
    # another node join no row.
    "?a ex:p ?c . MINUS { ?a ex:q ?c }",
    "?a ex:p ?c . OPTIONAL { ?e ex:q ?a }",
])
def test_a_focus_run_of_a_subquery_in_a_group_is_the_full_run_filtered(where: str) -> None:
    """On data where a wrong block would change the rows, a focus run gives the full run's
    rows of its nodes."""
    store = pyoxigraph.Store()
    store.load(b"""
        @prefix ex: <http://example.org/> .
        ex:a1 ex:p ex:c1 . ex:a2 ex:p ex:c1 . ex:a2 ex:p ex:c2 .
        ex:c1 ex:s ex:e1 . ex:c2 ex:s ex:e2 , ex:e3 .
        ex:e1 ex:q ex:a2 . ex:e2 ex:q ex:a1 . ex:a1 ex:q ex:c2 . ex:a2 ex:q ex:c1 .
        """, format=pyoxigraph.RdfFormat.TURTLE)
    text = f"PREFIX ex: <http://example.org/>\nSELECT ?a ?c ?e WHERE {{ {where} }}"
    check = Check("c", Path("c.rq"), text, "c", "", "asserted")
    full = _rows(store, check)
    assert full  # not vacuous
    for node in ("a1", "a2"):
        focus = [URIRef(f"http://example.org/{node}")]
        assert _rows(store, check, focus) == Counter(
            {row: n for row, n in full.items() if row[0] == focus[0]}), node


def test_a_focus_run_leaves_no_query_results_to_the_garbage_collector(monkeypatch) -> None:
    """pyoxigraph's results may be freed only by the thread that made them (another raises
    "unsendable, but is being dropped on another thread" and leaks them). rdflib's parser
    can keep a focus run's frame in a reference cycle after it returns: the results must not
    be in it, or the collector frees them wherever it runs next (a request's thread in CI)."""
    store = pyoxigraph.Store()
    store.load(b"@prefix ex: <http://example.org/> . ex:a1 ex:p ex:c1 . ex:c1 ex:s ex:e1 .",
               format=pyoxigraph.RdfFormat.TURTLE)
    check = Check("gc", Path("gc.rq"), "PREFIX ex: <http://example.org/>\nSELECT ?a ?c ?e "
                  "WHERE { ?a ex:p ?c . MINUS { { SELECT ?a ?c WHERE { ?a ex:q ?c } } "
                  "?c ex:s ?e } } # a text of its own: parsed here", "gc", "", "asserted")
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook",
                        lambda hook: unraisable.append(str(hook.exc_value)))
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # the worker's cycles kept, to be freed in this thread
    try:
        worker = threading.Thread(target=_rows, args=(store, check,
                                                      [URIRef("http://example.org/a1")]))
        worker.start()
        worker.join()
        gc.collect()
        cycles = len(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()  # the cycles freed, here
    assert cycles  # not vacuous: the parse left a cycle
    assert unraisable == []
