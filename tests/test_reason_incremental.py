"""Reasoning does only the work that can add something: rules re-run only when a triple they
read changed, and the OWL 2 RL closure re-runs only when the rules added what it can use.

Each skip must leave the inferred graph as it was: the tests below make a rule's output need
(or not need) the closure again and check the result, whatever was skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from rdflib import Dataset, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from exomirkg import load_dataset
from exomirkg.namespaces import EKG
from exomirkg.reason import (
    ENGINES,
    _Reasoner,
    _source_graphs,
    infer,
    load_rules,
    rule_reads,
    rule_writes,
)

EX = "https://example.org/"
SKIPPED_OWL = "OWL 2 RL: skipped"


def _iri(name: str) -> URIRef:
    return URIRef(EX + name)


def _rule(folder: Path, name: str, body: str, stratum: int = 1) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.rq").write_text(
        f"#+ summary: test rule {name}\n#+ stratum: {stratum}\n"
        f"PREFIX ex: <{EX}>\n{body}\n", encoding="utf-8")


def _dataset(*triples: tuple) -> Dataset:
    dataset = Dataset()
    for triple in triples:
        dataset.add(triple)
    return dataset


def _make_after_closure(folder: Path) -> None:
    """A rule whose output first appears after the closure: it reads ex:q2, which only the
    closure gives (ex:q rdfs:subPropertyOf ex:q2, see _QUERY)."""
    _rule(folder, "make", "CONSTRUCT { ?x ex:p ?y } WHERE { ?x ex:q2 ?y }")


_QUERY = ((_iri("q"), RDF.type, OWL.ObjectProperty), (_iri("q2"), RDF.type, OWL.ObjectProperty),
          (_iri("q"), RDFS.subPropertyOf, _iri("q2")), (_iri("x"), _iri("q"), _iri("y")))


@pytest.fixture(autouse=True)
def _debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="exomirkg.reason")


def test_shipped_rules_read_what_their_where_names() -> None:
    reads = {rule.name: rule.reads for rule in load_rules()}
    ekg = "https://w3id.org/exomirkg/"
    # FILTER NOT EXISTS nested in FILTER NOT EXISTS counts (rdflib's algebra drops it).
    assert reads["retracted-only"] >= {f"type {ekg}RetractedReference", f"{ekg}retracted"}
    # A variable predicate bound by VALUES reads just those predicates.
    assert f"{ekg}resistanceViaMechanism" in reads["link-drug-mechanism"]
    assert not any(key.startswith("type ") for key in reads["link-drug-mechanism"])
    # Property paths count each IRI on them.
    assert f"{ekg}findingInhibitsPathway" in reads["resistance-via-pathway"]
    # A free variable predicate may read anything.
    assert reads["owl-property-chain"] is None


def test_shipped_rules_write_what_their_template_names() -> None:
    writes = {rule.name: rule.writes for rule in load_rules()}
    ekg, prov = "https://w3id.org/exomirkg/", "http://www.w3.org/ns/prov#"
    assert writes["link-drug-mechanism"] == {
        f"type {ekg}InferredLink", f"{ekg}linkDrug", f"{ekg}linkMechanism",
        f"{ekg}linkProperty", f"{prov}wasDerivedFrom",
        "http://purl.obolibrary.org/obo/RO_0002558"}
    assert writes["owl-property-chain"] is None  # ?x ?property ?z


@pytest.mark.parametrize("template", ["?s ?p ?o", "?s a ?c", "?s ex:p []", "_:b ex:p ?o"])
def test_rule_that_may_write_anything_or_a_blank_node_writes_unknown(template: str) -> None:
    text = f"PREFIX ex: <{EX}> CONSTRUCT {{ {template} }} WHERE {{ ?s ex:q ?o }}"
    assert rule_writes(text) is None


def test_independent_rules_run_together_dependent_ones_after(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """a and b read nothing the other writes: one batch; c reads what a writes: after them,
    in the same round, seeing a's triples; d writes a blank node: alone."""
    _rule(tmp_path, "a", "CONSTRUCT { ?x ex:r1 ?y } WHERE { ?x ex:r0 ?y }")
    _rule(tmp_path, "b", "CONSTRUCT { ?x ex:s1 ?y } WHERE { ?x ex:s0 ?y }")
    _rule(tmp_path, "c", "CONSTRUCT { ?x ex:r2 ?y } WHERE { ?x ex:r1 ?y }")
    _rule(tmp_path, "d", "CONSTRUCT { ?x ex:t [ ex:u ?y ] } WHERE { ?x ex:s0 ?y }")
    dataset = _dataset((_iri("x"), _iri("r0"), _iri("y")), (_iri("x"), _iri("s0"), _iri("y")))
    inferred = infer(dataset, rules_dir=tmp_path)
    ours = {(s, p, o) for s, p, o in inferred if str(p).startswith(EX)}
    assert {(s, p, o) for s, p, o in ours if p != _iri("t")} == {
        (_iri("x"), _iri("r1"), _iri("y")), (_iri("x"), _iri("s1"), _iri("y")),
        (_iri("x"), _iri("r2"), _iri("y"))}
    assert "rule a + b: 2 new triples" in caplog.text
    assert "rule c: 1 new triples" in caplog.text
    assert "rule d:" in caplog.text and "+ d" not in caplog.text


@pytest.mark.parametrize("where", [
    "?s ?p ?o",
    "?s ex:p ?o . GRAPH ?g { ?s ex:q ?o }",
    "?s !ex:p ?o",
    "{ VALUES ?p { ex:p } } UNION { ?s ?p ?o }",
])
def test_rule_that_may_read_anything_is_never_skipped(where: str) -> None:
    assert rule_reads(f"PREFIX ex: <{EX}> CONSTRUCT {{ ?s ex:r ?o }} WHERE {{ {where} }}") is None


@pytest.mark.parametrize("allowed", [
    "VALUES ?p { ex:p ex:q }",
    "FILTER(?p IN (ex:p, ex:q))",
    "FILTER(?p IN (ex:p, ex:q, ex:r)) VALUES ?p { ex:p ex:q ex:s }",  # both hold
])
def test_rule_variable_predicate_reads_what_its_group_allows(allowed: str) -> None:
    text = f"PREFIX ex: <{EX}> CONSTRUCT {{ ?s ex:t ?o }} WHERE {{ ?s ?p ?o {allowed} }}"
    assert rule_reads(text) == frozenset({f"{EX}p", f"{EX}q"})


@pytest.mark.parametrize("filter_", ["FILTER(?p NOT IN (ex:p))", "FILTER(?p IN (ex:p, ?o))",
                                     "FILTER(?p IN (ex:p) || true)"])
def test_rule_variable_predicate_other_filters_read_anything(filter_: str) -> None:
    text = f"PREFIX ex: <{EX}> CONSTRUCT {{ ?s ex:t ?o }} WHERE {{ ?s ?p ?o {filter_} }}"
    assert rule_reads(text) is None


def test_rule_type_pattern_reads_its_class_or_every_class() -> None:
    text = f"PREFIX ex: <{EX}> CONSTRUCT {{ ?s ex:r ?c }} WHERE {{ ?s a ex:A . ?s a ?c }}"
    assert rule_reads(text) == frozenset({f"type {EX}A", "type *"})


def test_rule_reruns_when_a_later_rule_feeds_it(tmp_path: Path) -> None:
    """Rules run in name order; b reads what c writes, so b runs again in the next round."""
    _rule(tmp_path, "b", "CONSTRUCT { ?x ex:r2 ?y } WHERE { ?x ex:r1 ?y }")
    _rule(tmp_path, "c", "CONSTRUCT { ?x ex:r1 ?y } WHERE { ?x ex:r0 ?y }")
    inferred = infer(_dataset((_iri("x"), _iri("r0"), _iri("y"))), rules_dir=tmp_path)
    assert (_iri("x"), _iri("r2"), _iri("y")) in inferred


@pytest.mark.parametrize("engine", ENGINES)
def test_closure_reruns_for_rule_output_with_a_new_domain_type(
        tmp_path: Path, engine: str, caplog: pytest.LogCaptureFixture) -> None:
    """The rule's triple gives x a type it had not: the closure must run again."""
    _make_after_closure(tmp_path)
    dataset = _dataset(
        (_iri("p"), RDF.type, OWL.ObjectProperty), (_iri("p"), RDFS.domain, _iri("D")),
        (_iri("D"), RDFS.subClassOf, _iri("E")),
        *_QUERY)
    inferred = infer(dataset, rules_dir=tmp_path, engine=engine)
    assert (_iri("x"), RDF.type, _iri("E")) in inferred
    assert SKIPPED_OWL not in caplog.text


@pytest.mark.parametrize("engine", ENGINES)
def test_closure_skipped_when_rule_output_adds_nothing_it_can_use(
        tmp_path: Path, engine: str, caplog: pytest.LogCaptureFixture) -> None:
    """x is already a D and x ex:s y already holds: the closure has nothing to add."""
    _make_after_closure(tmp_path)
    dataset = _dataset(
        (_iri("p"), RDF.type, OWL.ObjectProperty), (_iri("p"), RDFS.domain, _iri("D")),
        (_iri("p"), RDFS.subPropertyOf, _iri("s")),
        (_iri("x"), RDF.type, _iri("D")), (_iri("x"), _iri("s"), _iri("y")), *_QUERY)
    inferred = infer(dataset, rules_dir=tmp_path, engine=engine)
    assert (_iri("x"), _iri("p"), _iri("y")) in inferred
    assert SKIPPED_OWL in caplog.text


@pytest.mark.parametrize(("extra", "expected"), [
    # a super-property triple not known yet
    ((_iri("p"), RDFS.subPropertyOf, _iri("s")), (_iri("x"), _iri("s"), _iri("y"))),
    # an inverse: p is not plain
    ((_iri("p"), OWL.inverseOf, _iri("pi")), (_iri("y"), _iri("pi"), _iri("x"))),
    # a restriction on p: not plain
    ((_iri("R"), OWL.onProperty, _iri("p")), None),
    # x is the same as another node
    ((_iri("x"), OWL.sameAs, _iri("x2")), (_iri("x2"), _iri("p"), _iri("y"))),
])
def test_closure_reruns_when_rule_output_can_give_more(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, extra: tuple,
        expected: tuple | None) -> None:
    _make_after_closure(tmp_path)
    dataset = _dataset((_iri("p"), RDF.type, OWL.ObjectProperty), *_QUERY, extra)
    inferred = infer(dataset, rules_dir=tmp_path)
    assert SKIPPED_OWL not in caplog.text
    if expected is not None:
        assert expected in inferred


def _without_plain_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every triple goes to the OWL 2 RL engine, as before plain properties were set aside."""
    monkeypatch.setattr(_Reasoner, "_plain_consequences",
                        lambda self: (0, self.owl_input, None))


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_properties_set_aside_give_the_same_closure(
        engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review: the engine never reads a plain property's triples, and what it infers is
    what it infers reading them all."""
    dataset = load_dataset()
    reasoner = _Reasoner(_source_graphs(dataset), load_rules(), engine)
    # Shown to matter: the review has plain properties (a finding's references, ...).
    assert f"{EKG}supportingReference" in reasoner.plain_properties()
    shortcut = set(infer(dataset, engine=engine))
    _without_plain_shortcut(monkeypatch)
    assert shortcut == set(infer(dataset, engine=engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_property_gives_its_super_properties_domains_and_ranges(engine: str) -> None:
    """ex:p is plain (a domain, a range, a super-property); the super-property ex:s has an
    inverse and a domain, whose class has a superclass: all of it follows from x p y."""
    dataset = _dataset(
        (_iri("p"), RDF.type, OWL.ObjectProperty), (_iri("p"), RDFS.subPropertyOf, _iri("s")),
        (_iri("p"), RDFS.range, _iri("R")),
        (_iri("s"), OWL.inverseOf, _iri("si")), (_iri("s"), RDFS.domain, _iri("D")),
        (_iri("D"), RDFS.subClassOf, _iri("E")),
        (_iri("x"), _iri("p"), _iri("y")))
    assert f"{EX}p" in _Reasoner(_source_graphs(dataset), [], engine).plain_properties()
    inferred = set(infer(dataset, rules_dir=Path("/nonexistent"), engine=engine))
    assert {(_iri("x"), _iri("s"), _iri("y")), (_iri("y"), _iri("si"), _iri("x")),
            (_iri("x"), RDF.type, _iri("D")), (_iri("x"), RDF.type, _iri("E")),
            (_iri("y"), RDF.type, _iri("R"))} <= inferred


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_property_triples_reach_the_engine_when_nodes_are_the_same(engine: str) -> None:
    """With owl:sameAs, OWL 2 RL copies every triple of a node to its equals (eq-rep-s):
    plain properties included."""
    dataset = _dataset(
        (_iri("p"), RDF.type, OWL.ObjectProperty), (_iri("x"), OWL.sameAs, _iri("x2")),
        (_iri("x"), _iri("p"), _iri("y")))
    inferred = set(infer(dataset, rules_dir=Path("/nonexistent"), engine=engine))
    assert (_iri("x2"), _iri("p"), _iri("y")) in inferred


def test_rule_declared_not_recursive_runs_once_and_gives_the_same(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A rule that reads ex:r and writes ex:r of other nodes: as a recursive rule it runs a
    second time to find nothing new; declared ``recursive: false``, once, same triples."""
    body = "CONSTRUCT { ?y ex:r ?x } WHERE { ?x ex:s ?y . OPTIONAL { ?x ex:r ?z } }"
    dataset = _dataset((_iri("x"), _iri("s"), _iri("y")), (_iri("x"), _iri("r"), _iri("z")))
    outputs, reruns = [], []
    for header in ("", "#+ recursive: false\n"):
        folder = tmp_path / f"rules{len(outputs)}"
        folder.mkdir()
        (folder / "label.rq").write_text(
            f"#+ summary: test\n#+ stratum: 3\n{header}PREFIX ex: <{EX}>\n{body}\n",
            encoding="utf-8")
        caplog.clear()
        outputs.append({triple for triple in infer(dataset, rules_dir=folder)
                        if triple[1] == _iri("r")})
        reruns.append(caplog.text.count("rule label: ") - caplog.text.count("rule label: skipped"))
    assert outputs[0] == outputs[1] == {(_iri("y"), _iri("r"), _iri("x"))}
    assert reruns == [2, 1]


def test_recursive_header_takes_a_boolean(tmp_path: Path) -> None:
    _rule(tmp_path, "bad", "CONSTRUCT { ?x ex:r ?y } WHERE { ?x ex:s ?y }")
    path = tmp_path / "bad.rq"
    path.write_text("#+ recursive: sometimes\n" + path.read_text(encoding="utf-8"),
                    encoding="utf-8")
    with pytest.raises(ValueError, match="recursive"):
        load_rules(tmp_path)


def test_shipped_link_label_rule_is_declared_not_recursive() -> None:
    assert {rule.name for rule in load_rules() if not rule.recursive} == {"link-label"}


@pytest.mark.parametrize("engine", ENGINES)
def test_closure_triple_of_a_property_its_input_left_out_is_not_taken_for_new(
        engine: str, tmp_path: Path) -> None:
    """ex:p is plain, so the engine never reads its triples; from x q y (q has an inverse,
    so it is not plain) it derives x p y, which the data asserts: not inferred. A new
    triple of a property the input held in full (y qi x) goes straight to the inferred
    graph."""
    x, y = _iri("x"), _iri("y")
    dataset = _dataset(
        (_iri("p"), RDF.type, OWL.ObjectProperty), (_iri("q"), RDF.type, OWL.ObjectProperty),
        (_iri("q"), RDFS.subPropertyOf, _iri("p")), (_iri("q"), OWL.inverseOf, _iri("qi")),
        (x, _iri("q"), y), (x, _iri("p"), y))
    reasoner = _Reasoner(_source_graphs(dataset), [], engine)
    assert f"{_iri('p')}" in reasoner.plain_properties()
    inferred = set(infer(dataset, rules_dir=tmp_path, engine=engine))
    assert (x, _iri("p"), y) not in inferred
    assert (y, _iri("qi"), x) in inferred
