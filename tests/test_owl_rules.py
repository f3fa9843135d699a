"""OWL 2 RL over the data as SPARQL rules compiled from the schema (exomirkg.owl_rules).

The reference is the engine reading everything (``reason.COMPILE_DATA_RULES = False``): on
every construct compiled, the two infer the same triples; on every construct not compiled
the reasoner notices and lets the engine read everything.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from rdflib import URIRef

from exomirkg import reason
from exomirkg.load import parse_sources
from exomirkg.owl_rules import DataRule, _close, _composed, can_match, is_schema_key
from exomirkg.reason import _Reasoner, load_rules

EX = "https://example.org/"
PREFIXES = f"""@prefix ex: <{EX}> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def _store(turtle: str) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load((PREFIXES + turtle).encode(), format=pyoxigraph.RdfFormat.TURTLE)
    return store


def _run(store: pyoxigraph.Store, compiled: bool, rules_dir: Path,
         monkeypatch: pytest.MonkeyPatch) -> tuple[set[tuple[str, str, str]], _Reasoner]:
    """The inferred triples (as N-Triples terms) and the reasoner that found them."""
    monkeypatch.setattr(reason, "COMPILE_DATA_RULES", compiled)
    reasoner = _Reasoner(store, load_rules(rules_dir), "reasonable")
    reasoner.run()
    reasoner.finish()
    inferred = {(str(q.subject), str(q.predicate), str(q.object))
                for q in reasoner.store.quads_for_pattern(None, None, None, reason._INFERRED)}
    return inferred, reasoner


def _same(turtle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          compiles: bool = True) -> set[tuple[str, str, str]]:
    """Infer with the compiled rules and with the engine alone: the same; return it."""
    compiled, reasoner = _run(_store(turtle), True, tmp_path, monkeypatch)
    engine, _ = _run(_store(turtle), False, tmp_path, monkeypatch)
    assert compiled == engine
    assert reasoner.uncompilable is not compiles
    return compiled


def _has(inferred: set, s: str, p: str, o: str) -> bool:
    """Whether ex:s ex:p ex:o (p "a": rdf:type) was inferred."""
    p = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" if p == "a" else f"<{EX}{p}>"
    return (f"<{EX}{s}>", p, f"<{EX}{o}>") in inferred


SCHEMA = """
ex:A rdfs:subClassOf ex:B . ex:B rdfs:subClassOf ex:C .
ex:p a owl:ObjectProperty ; rdfs:domain ex:A ; rdfs:range ex:R ; rdfs:subPropertyOf ex:q .
ex:q a owl:ObjectProperty ; rdfs:domain ex:Q ; owl:inverseOf ex:qi .
ex:qi rdfs:domain ex:I .
ex:s a owl:SymmetricProperty . ex:t a owl:TransitiveProperty .
ex:role a owl:NamedIndividual .
ex:D owl:equivalentClass [ a owl:Class ; owl:intersectionOf ( ex:B
    [ a owl:Restriction ; owl:onProperty ex:hasRole ; owl:hasValue ex:role ] ) ] .
ex:E owl:equivalentClass [ a owl:Restriction ; owl:onProperty ex:hasRole ;
    owl:hasValue ex:other ] .
ex:E rdfs:subClassOf ex:F .
ex:Effect owl:equivalentClass [ a owl:Class ; owl:oneOf ( ex:e1 ex:e2 ) ] .
ex:N owl:intersectionOf ( ex:C ex:Q ) .
ex:X owl:disjointWith ex:Y .
"""


@pytest.mark.parametrize("data, expected", [
    ("ex:x a ex:A .", [("x", "a", "B"), ("x", "a", "C")]),
    ("ex:x ex:p ex:y .", [("x", "a", "A"), ("x", "a", "C"), ("y", "a", "R"),
                          ("x", "q", "y"), ("x", "a", "Q"), ("y", "qi", "x"), ("y", "a", "I")]),
    ("ex:x ex:s ex:y .", [("y", "s", "x")]),
    ("ex:n1 ex:t ex:n2 . ex:n2 ex:t ex:n3 . ex:n3 ex:t ex:n4 . ex:n4 ex:t ex:n5 .",
     [("n1", "t", "n5"), ("n2", "t", "n5"), ("n1", "t", "n3")]),
    # cls-int1 through a hasValue member; cls-int2 and cls-hv1 the other way
    ("ex:x a ex:A ; ex:hasRole ex:role .", [("x", "a", "D")]),
    ("ex:x a ex:D .", [("x", "a", "B"), ("x", "hasRole", "role")]),
    # cls-hv2 up to a named class and its superclass
    ("ex:x ex:hasRole ex:other .", [("x", "a", "E"), ("x", "a", "F")]),
    ("ex:x a ex:E .", [("x", "hasRole", "other"), ("x", "a", "F")]),
    # a named intersection, entered through a domain
    ("ex:x ex:p ex:y .", [("x", "a", "N")]),
    # cls-oo: the engine does not apply it, so neither is anything compiled for it
    ("ex:e1 a ex:A .", [("e1", "a", "C")]),
    # a disjointness violation: what the engine gives (the checks report it)
    ("ex:x a ex:X , ex:Y .", []),
])
def test_compiled_rules_infer_what_the_engine_infers(
        data: str, expected: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inferred = _same(SCHEMA + data, tmp_path, monkeypatch)
    for triple in expected:
        assert _has(inferred, *triple), triple


@pytest.mark.parametrize("extra", [
    # constructs not compiled: the engine reads everything
    "ex:G rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:p ; "
    "owl:someValuesFrom ex:B ] . ex:x ex:p ex:y . ex:y a ex:B .",
    "ex:U owl:unionOf ( ex:A ex:X ) . ex:x a ex:A .",
    "ex:L owl:equivalentClass [ a owl:Restriction ; owl:onProperty ex:label ; "
    "owl:hasValue \"x\" ] .",
    "ex:x owl:sameAs ex:y . ex:y ex:p ex:z .",
    "ex:x a [ a owl:Restriction ; owl:onProperty ex:hasRole ; owl:hasValue ex:role ] .",
    "owl:Thing rdfs:subClassOf ex:A . ex:x ex:p ex:y .",
    # a blank node in the data, and a consequence through it
    "ex:x ex:p [ ex:t ex:z ] . ex:w ex:t ex:x .",
])
def test_what_is_not_compiled_goes_to_the_engine(
        extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _same(SCHEMA + extra, tmp_path, monkeypatch, compiles=False)


def test_a_rule_writing_the_schema_recompiles_the_data_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stratum-1 rule adds ex:B rdfs:subClassOf ex:G: x, an A, is then a G too."""
    (tmp_path / "schema.rq").write_text(
        f"#+ summary: writes the schema\nPREFIX ex: <{EX}>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "CONSTRUCT { ex:B rdfs:subClassOf ex:G } WHERE { ?x ex:makes ex:G }",
        encoding="utf-8")
    turtle = SCHEMA + "ex:x a ex:A . ex:y ex:makes ex:G . ex:z ex:p ex:w ."
    compiled, reasoner = _run(_store(turtle), True, tmp_path, monkeypatch)
    engine, _ = _run(_store(turtle), False, tmp_path, monkeypatch)
    assert compiled == engine
    assert _has(compiled, "x", "a", "G") and _has(compiled, "z", "a", "G")
    assert not reasoner.uncompilable and reasoner.data_rules is not None


def test_the_review_infers_the_same_with_compiled_rules(
        monkeypatch: pytest.MonkeyPatch) -> None:
    statements = parse_sources().ntriples()  # the files' graphs (no inferred graph)
    graphs: dict[bool, set] = {}
    for compiled in (True, False):
        monkeypatch.setattr(reason, "COMPILE_DATA_RULES", compiled)
        reasoner = _Reasoner(statements, load_rules(), "reasonable")
        reasoner.run()
        if compiled:
            assert reasoner.data_rules and not reasoner.uncompilable
        graphs[compiled] = set(reasoner.inferred_graph())
    assert graphs[True] == graphs[False]
    assert len(graphs[True]) == 1647


def test_a_rule_reads_and_writes_the_keys_of_its_patterns_and_values() -> None:
    rule = DataRule("r", "?x a ?d", ("?x ?p ?y", "?x a <https://e/C>"), "?p ?d",
                    (("https://e/p1", "https://e/D"), ("https://e/p2", "https://e/D")))
    assert rule.reads == (frozenset({"https://e/p1", "https://e/p2"}),
                          frozenset({"https://e/C"}))
    assert rule.writes == (frozenset(), frozenset({"https://e/D"}))
    first = rule.query(None, lambda s, p, o: "true")
    assert "GRAPH" not in first and "VALUES (?p ?d)" in first
    # semi-naive: one branch per premise, that premise read from the delta graph
    delta = rule.query(["urn:delta"], lambda s, p, o: "true")
    assert delta.count("GRAPH <urn:delta>") == 2
    assert pyoxigraph.Store().query(delta) is not None  # valid SPARQL


def test_schema_keys() -> None:
    assert is_schema_key(str(URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf")))
    assert is_schema_key("type http://www.w3.org/2002/07/owl#Class")
    assert not is_schema_key("type https://example.org/Drug")
    assert not is_schema_key("https://example.org/p")


def test_domains_take_the_super_properties_domains() -> None:
    """scm-dom2 and scm-spo, which the engine leaves out of the schema's closure."""
    supers = [("p", "q"), ("q", "r")]
    assert _composed(supers) == [("p", "q"), ("p", "r"), ("q", "r")]
    assert _composed(supers, [("r", "R"), ("p", "P")]) == [
        ("p", "P"), ("p", "R"), ("q", "R"), ("r", "R")]
    assert _composed([("p", "q"), ("q", "p")]) == [("p", "q"), ("q", "p")]  # a cycle


def _rule(name: str, rows: list[tuple[str, str]]) -> DataRule:
    return DataRule(name, "?x a ?d", ("?x ?p ?y",), "?p ?d", tuple(rows))


@pytest.mark.parametrize("domains, sco, dom_closed, sco_closed", [
    # closed rows: prp-dom need not read prp-spo1's triples, cax-sco neither its own
    ([("p", "D"), ("q", "D")], [("D", "E")], {"prp-spo1"}, {"cax-sco"}),
    # p's domain is not q's: x q y from x p y gives x a Q only through prp-dom; Q has
    # no superclass
    ([("q", "Q")], [("D", "E")], set(), {"cax-sco", "prp-dom"}),
    # E above D, but not C above E: the rows are not transitive
    ([("p", "D"), ("q", "D")], [("C", "D"), ("D", "E")], {"prp-spo1"}, set()),
    # the domains with their superclasses: cax-sco need not read prp-dom's triples either
    ([("p", "D"), ("p", "E"), ("q", "D"), ("q", "E")], [("D", "E")], {"prp-spo1"},
     {"cax-sco", "prp-dom"}),
])
def test_a_rule_skips_what_it_would_derive_in_the_same_round(
        domains: list, sco: list, dom_closed: set, sco_closed: set) -> None:
    rules = {rule.name: rule for rule in _close([
        _rule("prp-dom", domains), _rule("prp-spo1", [("p", "q")]), _rule("cax-sco", sco)])}
    assert rules["prp-dom"].closed == dom_closed
    assert rules["cax-sco"].closed == sco_closed
    assert rules["prp-spo1"].closed == {"prp-spo1"}


def test_a_delta_of_several_graphs_reads_each() -> None:
    rule = DataRule("r", "?x a ?d", ("?x ?p ?y", "?y a <https://e/C>"), "?p ?d",
                    (("https://e/p1", "https://e/D"),))
    text = rule.query(["urn:a", "urn:b"], lambda s, p, o: "true")
    assert text.count("GRAPH <urn:a>") == 2 and text.count("GRAPH <urn:b>") == 2
    store = pyoxigraph.Store()
    e = "https://e/"
    for graph, triple in (("urn:a", ("x", "p1", "y")), ("urn:b", ("z", "p1", "w"))):
        store.add(pyoxigraph.Quad(*(pyoxigraph.NamedNode(e + t) for t in triple),
                                  pyoxigraph.NamedNode(graph)))
    for node in ("y", "w"):
        store.add(pyoxigraph.Quad(pyoxigraph.NamedNode(e + node), pyoxigraph.NamedNode(
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), pyoxigraph.NamedNode(e + "C")))
    found = {str(t.subject) for t in store.query(text, use_default_graph_as_union=True)}
    assert found == {f"<{e}x>", f"<{e}z>"}


_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.mark.parametrize("reads, writes, match", [
    ((["p"], []), (["p", "q"], []), True),
    ((["p"], []), (["q"], ["C"]), False),
    (([], ["C"]), ([], ["C"]), True),
    (([], ["C"]), ([], ["D"]), False),
    # rdf:type as a premise's predicate value reads every class a rule writes, and back
    (([_TYPE], []), ([], ["D"]), True),
    (([], ["C"]), ([_TYPE], []), True),
    (([_TYPE], []), (["q"], []), False),
])
def test_what_a_rule_writes_can_match_what_another_reads(
        reads: tuple, writes: tuple, match: bool) -> None:
    def terms(pair: tuple) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(pair[0]), frozenset(pair[1])
    assert can_match(terms(reads), terms(writes)) is match


def test_a_premise_reads_only_the_delta_graphs_that_can_hold_its_triples() -> None:
    """The OWL 2 RL closure's rounds name the rule that added each delta graph: a premise
    reads a graph only when that rule's heads can match it."""
    e = "https://e/"
    rule = DataRule("r", "?x a ?d", ("?x ?p ?y", f"?y a <{e}C>"), "?p ?d",
                    ((f"{e}p1", f"{e}D"),))
    holds = {"urn:p1": (frozenset({f"{e}p1"}), frozenset()),
             "urn:C": (frozenset(), frozenset({f"{e}C"})),
             "urn:D": (frozenset(), frozenset({f"{e}D"}))}
    graphs = ["urn:p1", "urn:C", "urn:D", "urn:any"]
    text = rule.query(graphs, lambda s, p, o: "true", holds=holds)
    assert "GRAPH <urn:p1> { ?x ?p ?y }" in text and f"GRAPH <urn:C> {{ ?y a <{e}C> }}" in text
    assert "GRAPH <urn:p1> { ?y a" not in text and "GRAPH <urn:C> { ?x ?p" not in text
    assert "urn:D" not in text and text.count("GRAPH <urn:any>") == 2  # anything: both
    store = pyoxigraph.Store()
    for graph, triple in (("urn:p1", (f"{e}x", f"{e}p1", f"{e}y")),
                          ("urn:C", (f"{e}z", _TYPE, f"{e}C")),
                          ("urn:D", (f"{e}w", _TYPE, f"{e}D")),
                          ("urn:base", (f"{e}y", _TYPE, f"{e}C")),
                          ("urn:base", (f"{e}v", f"{e}p1", f"{e}z"))):
        store.add(pyoxigraph.Quad(*map(pyoxigraph.NamedNode, triple),
                                  pyoxigraph.NamedNode(graph)))

    def found(query: str) -> set[str]:
        return {t.subject.value for t in store.query(query, use_default_graph_as_union=True)}
    # the same heads as reading every graph, when they hold what ``holds`` says
    assert found(text) == found(rule.query(graphs, lambda s, p, o: "true")) == {
        f"{e}x", f"{e}v"}
    # no premise can read the graph: nothing, in valid SPARQL
    assert found(rule.query(["urn:D"], lambda s, p, o: "true", holds=holds)) == set()


@pytest.mark.parametrize("own_graph", [True, False])
def test_a_round_kept_in_no_graph_of_its_own_notes_the_same_keys_and_count(
        own_graph: bool) -> None:
    """The closure keeps a rule's new triples in a graph of their own only when a rule can
    read them next round; else their keys are searched for in the text. Both ways note the
    same keys (a predicate met only as an object is none) and count the same triples."""
    e = "https://e/"
    text = (f"<{e}x> <{e}p> <{e}y> .\n<{e}x> <{e}q> \"v\" .\n<{e}x> <{_TYPE}> <{e}C> .\n"
            f"<{e}y> <{e}r> <{e}s> .\n").encode()
    writes = (frozenset({f"{e}{p}" for p in "pqrs"}), frozenset({f"{e}C", f"{e}D"}))
    reasoner = _Reasoner(b"", [], "reasonable")
    before = dict(reasoner.changed)
    graph = pyoxigraph.NamedNode(reason._ROUND + "r") if own_graph else None
    assert reasoner._load_new([text, text], [graph, None], [writes, writes]) == 4
    assert {key for key, version in reasoner.changed.items() if before.get(key) != version} == {
        f"{e}p", f"{e}q", f"{e}r", f"type {e}C"}
    assert reasoner._size(reason._INFERRED) == 4


def test_a_rule_reads_another_s_round_when_a_premise_can_match_it_and_it_is_not_closed() -> None:
    e = "https://e/"
    spo1 = DataRule("prp-spo1", "?x ?q ?y", ("?x ?p ?y",), "?p ?q", ((f"{e}p", f"{e}q"),))
    dom = DataRule("prp-dom", "?x a ?d", ("?x ?p ?y",), "?p ?d", ((f"{e}q", f"{e}D"),))
    sco = DataRule("cax-sco", "?x a ?d", ("?x a ?c",), "?c ?d", ((f"{e}D", f"{e}E"),))
    assert dom.reads_from(spo1) and sco.reads_from(dom)
    assert not spo1.reads_from(dom) and not dom.reads_from(sco)  # no premise can match
    closed = DataRule("prp-dom", dom.head, dom.premises, dom.variables, dom.rows,
                      closed=frozenset({"prp-spo1"}))
    assert not closed.reads_from(spo1)
