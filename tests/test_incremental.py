"""Incremental reasoning (exomirkg.incremental): after random edits of the review's
sections, the updated inferred graphs (the lowest stratum's, the higher strata's and
graph/inferred, their union) equal a full reasoning over the edited data."""

from __future__ import annotations

import random
from collections import Counter

import pyoxigraph
import pytest
from helpers import benchmark

from exomirkg import owl_rules
from exomirkg.incremental import _PROBED, HIGHER, INFERRED, LOWEST, Levels
from exomirkg.load import parse_sources
from exomirkg.reason import infer_into, load_rules

_NT = pyoxigraph.RdfFormat.N_TRIPLES


def _lines(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode) -> set[str]:
    return set((store.dump(format=_NT, from_graph=graph) or b"").decode().splitlines(True))


def _store(graphs: dict[str, bytes]) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    for name, text in graphs.items():
        store.bulk_load(input=text, format=_NT, to_graph=pyoxigraph.NamedNode(name))
    return store


def _assert_same_levels(store: pyoxigraph.Store, reference: pyoxigraph.Store) -> None:
    """The two parts as a full reasoning gives them, and graph/inferred their union."""
    lowest, higher = _lines(store, LOWEST), _lines(store, HIGHER)
    assert lowest == _lines(reference, LOWEST)
    assert higher == _lines(reference, HIGHER)
    assert _lines(store, INFERRED) == lowest | higher == _lines(reference, INFERRED)


@pytest.fixture(scope="module")
def review() -> dict[str, bytes]:
    return {str(name): text for name, text in parse_sources().by_name().items()}


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _edit(rng: random.Random, graphs: dict[str, bytes], *, clash: bool) -> tuple[str, bytes]:
    """A section with some triples dropped, some copied from another section, and some
    given the object of another triple of their predicate (a new value; for a functional
    property a second one when ``clash``)."""
    sections = sorted(name for name in graphs if "/section/" in name)
    name = rng.choice(sections)
    lines = sorted(set(graphs[name].decode().splitlines(True)))
    kept = set(lines) - set(rng.sample(lines, min(len(lines), rng.randint(1, 40))))
    pool = sorted(line for other in sections for line in graphs[other].decode().splitlines(True))
    kept |= set(rng.sample(pool, 5))
    for _ in range(rng.randint(1, 6)):
        subject, predicate, _rest = rng.choice(pool).split(" ", 2)
        if not clash and predicate.endswith("hasEffect>"):
            continue  # functional: a second effect makes owl:sameAs
        same = [line.split(" ", 2)[2] for line in pool if line.split(" ", 2)[1] == predicate]
        kept.add(f"{subject} {predicate} {rng.choice(same)}")
    return name, "".join(sorted(kept)).encode()


def test_levels_are_the_full_reasoning(review, rules):
    store = _store(review)
    levels = Levels.reason(store, review, rules)
    assert levels.incremental
    full = _store(review)
    infer_into(full, statements=b"".join(review.values()))
    lowest, higher = _lines(store, LOWEST), _lines(store, HIGHER)
    assert not lowest & higher
    assert lowest | higher == _lines(full, INFERRED) == _lines(store, INFERRED)
    assert len(lowest | higher) == 1647
    # The higher strata write the links: none of the lowest stratum's triples is one.
    assert any("/link_" in line.split(" ")[0] for line in higher)
    assert not any(" <https://w3id.org/exomirkg/linkDrug> " in line for line in lowest)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_match_a_full_reasoning(review, rules, seed):
    rng = random.Random(seed)
    current = dict(review)
    store = _store(current)
    levels = Levels.reason(store, current, rules)
    for _step in range(4):
        name, text = _edit(rng, current, clash=False)
        before = _lines(store, INFERRED)
        change = levels.update({name: text})
        current[name] = text
        assert not change.full
        reference = _store(current)
        Levels.reason(reference, current, rules)
        _assert_same_levels(store, reference)
        assert _lines(store, pyoxigraph.NamedNode(name)) == _lines(
            reference, pyoxigraph.NamedNode(name))
        after = _lines(store, INFERRED)
        assert change.inferred_added == after - before
        assert change.inferred_removed == before - after


def test_a_retraction_flows_through_every_stratum(review, rules):
    """Dropping a finding's last supporting reference's retraction flag is a change to a
    negated pattern (retracted-only.rq, stratum 2) and to the links it flags (stratum 3)."""
    graphs = dict(review)
    references = "https://w3id.org/exomirkg/graph/entities/references"
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    flagged = {line for line in _lines(store, HIGHER) if "supportRetracted" in line}
    assert flagged
    lines = graphs[references].decode().splitlines(True)
    unflagged = "".join(line for line in lines if "RetractedReference>" not in line
                        and "/retracted>" not in line).encode()
    assert unflagged != graphs[references]
    # An entity graph is asserted too.
    change = levels.update({references: unflagged})
    assert not change.full
    assert flagged <= change.inferred_removed
    graphs[references] = unflagged
    reference = _store(graphs)
    Levels.reason(reference, graphs, rules)
    _assert_same_levels(store, reference)


def test_a_data_rule_runs_only_on_a_delta_it_can_read(review, rules, monkeypatch):
    """An update runs an OWL 2 RL data rule only when a triple of the round's delta can
    match one of its premises (or, rederiving, a candidate its head): sorafenib losing its
    tyrosine kinase inhibitor role runs that class's intersection rule, and is no longer of
    the class; an edit of findings alone runs none of the intersection rules."""
    ran: list[str] = []
    query = owl_rules.DataRule.query

    def recording(rule, *args, **kwargs):
        ran.append(rule.name)
        return query(rule, *args, **kwargs)

    monkeypatch.setattr(owl_rules.DataRule, "query", recording)
    graphs = dict(review)
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    intersections = {rule.name for rule in levels.data_rules if rule.name.startswith("cls-")
                     and rule.name.endswith("-types")}
    assert len(intersections) == 6
    tki = next(rule.name for rule in levels.data_rules
               if "role_tyrosine_kinase_inhibitor" in str(rule.premises))
    drugs = "https://w3id.org/exomirkg/graph/entities/drugs"
    role = ("<https://w3id.org/exomirkg/sorafenib> <https://w3id.org/exomirkg/hasRole> "
            "<https://w3id.org/exomirkg/role_tyrosine_kinase_inhibitor> .\n")
    assert role.encode() in graphs[drugs]
    sections = sorted(name for name in graphs if "/section/" in name)
    findings = graphs[sections[0]].decode().splitlines(True)
    edits = [(drugs, graphs[drugs].replace(role.encode(), b"")),
             (sections[0], "".join(line for line in findings
                                   if "/viaMechanism> " not in line).encode())]
    assert edits[1][1] != graphs[sections[0]]
    for name, text in edits:
        ran.clear()
        change = levels.update({name: text})
        if name == drugs:
            assert tki in ran
            assert ("<https://w3id.org/exomirkg/sorafenib> <http://www.w3.org/1999/02/22-rdf-"
                    "syntax-ns#type> <https://w3id.org/exomirkg/TyrosineKinaseInhibitor> .\n"
                    in change.inferred_removed)
        else:
            assert ran and not intersections & set(ran)
        graphs[name] = text
        assert not change.full
        reference = _store(graphs)
        Levels.reason(reference, graphs, rules)
        _assert_same_levels(store, reference)


def test_what_it_does_not_handle_is_reasoned_in_full(review, rules):
    graphs = dict(review)
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    name = sorted(n for n in graphs if "/section/" in n)[0]
    # A schema triple: the data rules would change.
    schema = (b"<https://w3id.org/exomirkg/Finding> "
              b"<http://www.w3.org/2000/01/rdf-schema#subClassOf> "
              b"<https://w3id.org/exomirkg/Evidence> .\n")
    change = levels.update({name: graphs[name] + schema})
    assert change.full
    graphs[name] += schema
    reference = _store(graphs)
    Levels.reason(reference, graphs, rules)
    _assert_same_levels(store, reference)
    assert ("<https://w3id.org/exomirkg/finding_2_2_hcc_mir_1247_3p_sorafenib> "
            "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            "<https://w3id.org/exomirkg/Evidence> .\n") in change.inferred_added
    with pytest.raises(ValueError, match="not an asserted graph"):
        levels.update({"https://example.org/elsewhere": b""})


def test_a_second_value_of_a_functional_property_is_reasoned_in_full(review, rules):
    rng = random.Random(7)
    graphs = dict(review)
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    name = sorted(n for n in graphs if "/section/" in n)[2]
    finding = next(line.split(" ")[0] for line in graphs[name].decode().splitlines()
                   if "/hasEffect>" in line and "induces_cell_transition" not in line)
    second = (f"{finding} <https://w3id.org/exomirkg/hasEffect> "
              f"<https://w3id.org/exomirkg/induces_cell_transition> .\n").encode()
    change = levels.update({name: graphs[name] + second})
    assert change.full
    graphs[name] += second
    reference = _store(graphs)
    infer_into(reference, statements=b"".join(graphs.values()))
    assert _lines(store, INFERRED) == _lines(store, LOWEST) | _lines(store, HIGHER) == _lines(
        reference, INFERRED)
    assert any("owl#sameAs" in line for line in change.inferred_added)
    # From then on every update is a full one, and still right.
    name, text = _edit(rng, graphs, clash=False)
    assert levels.update({name: text}).full


def test_edited_sections_of_the_synthetic_graph_match_a_full_reasoning(rules):
    """The benchmark's edits (findings dropped, others given another drug, mechanism or
    pathway) on the synthetic graph, whose drugs, mechanisms and pathways are shared by
    many findings: an edit reaches links whose other supports are in other sections."""
    data = benchmark("synthetic").generate_ntriples(20_000, seed=1, sections=6)
    edit = benchmark("incremental").edit_section
    graphs = {str(name): b"".join(lines) for name, lines in data.graphs.items()}
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    # Seed 3's last edit gives a link a new supporting finding: it failed while the keys of
    # the link's findings were read from the store before the change only.
    rng = random.Random(3)
    sections = sorted(name for name in graphs if "/section/" in name)
    for _step in range(4):
        name = rng.choice(sections)
        text = edit(rng, graphs[name], 4)
        change = levels.update({name: text})
        graphs[name] = text
        assert not change.full and change.inferred_added and change.inferred_removed
        reference = _store(graphs)
        Levels.reason(reference, graphs, rules)
        _assert_same_levels(store, reference)


@pytest.mark.parametrize("clash", [False, True])
def test_a_state_restored_for_one_update_settles_to_the_full_reasoning(review, rules, clash):
    """The layout of a state restored for one build (``published=False``): graph/inferred
    holds the lowest stratum's triples while the update runs, and :meth:`Levels.settle`
    adds the higher strata's; also after an update that reasons in full (a clash)."""
    graphs = dict(review)
    reasoned = _store(graphs)
    levels = Levels.reason(reasoned, graphs, rules)
    lowest, higher = levels.parts()
    store = pyoxigraph.Store()
    restored = Levels.restore(store, graphs, lowest, higher, rules, levels.data_rules,
                              published=False)
    assert _lines(store, INFERRED) == _lines(reasoned, LOWEST)
    name, text = _edit(random.Random(4), graphs, clash=False)
    if clash:
        finding = next(line.split(" ")[0] for line in text.decode().splitlines()
                       if "/hasEffect>" in line and "induces_cell_transition" not in line)
        text += (f"{finding} <https://w3id.org/exomirkg/hasEffect> "
                 "<https://w3id.org/exomirkg/induces_cell_transition> .\n").encode()
    change = restored.update({name: text})
    assert change.full == clash
    graphs[name] = text
    reference = _store(graphs)
    Levels.reason(reference, graphs, rules)
    parts = restored.settle()
    assert _lines(store, INFERRED) == _lines(reference, INFERRED)
    assert [set(part.splitlines()) for part in parts] == [
        set(_dump(reference, graph).splitlines()) for graph in (LOWEST, HIGHER)]
    before, after = _lines(reasoned, INFERRED), _lines(store, INFERRED)
    assert change.inferred_added == after - before
    assert change.inferred_removed == before - after
    assert not {LOWEST, HIGHER} & set(store.named_graphs())


def _dump(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode) -> bytes:
    return store.dump(format=_NT, from_graph=graph) or b""


def test_a_cover_runs_a_rule_on_the_key_whose_rows_write_least(rules):
    """To rederive a link's triples, link-drug-mechanism must run on every row that writes
    them. On the key it runs on for a change (the supporting finding) that is each of the
    link's findings; on its drug, mechanism or property, one value each, whose rows write
    other links too. The cover takes the key whose values write fewest triples, and gives
    the link's triples as a full run does."""
    data = benchmark("synthetic").generate_ntriples(20_000, seed=1, sections=6)
    graphs = {str(name): b"".join(lines) for name, lines in data.graphs.items()}
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    keyed = next(keyed for keyed in levels.high if keyed.rule.name == "link-drug-mechanism")
    assert keyed.option.key == "finding"
    assert [option.key for option in keyed.options] == ["finding", "drug", "mechanism",
                                                         "property"]
    link, supports = next(iter(store.query(f"""
        SELECT ?link (COUNT(?finding) AS ?n) {{ GRAPH <{HIGHER.value}> {{
          ?link <https://w3id.org/exomirkg/linkDrug> ?drug ;
                <http://www.w3.org/ns/prov#wasDerivedFrom> ?finding }} }}
        GROUP BY ?link ORDER BY DESC(?n) ?link LIMIT 1""")))
    assert int(supports.value) >= 3
    lines = keyed.mine({line for line in _lines(store, HIGHER)
                        if line.startswith(f"{link} ")})

    def written(option) -> int:
        values = {line.split(" ")[2] for line in lines if line.split(" ")[1] == option.via}
        return levels._written(option.via, values, 10**9)

    option, keys = levels._cover(keyed, lines)
    assert option.key != "finding" and len(keys) == 1
    assert written(option) == min(map(written, keyed.options)) < written(keyed.option)
    full = levels._lines(keyed.rule.text, levels.after)
    assert {line for line in levels._heads(keyed, levels.after, (option, keys))
            if line.startswith(f"{link} ")} == {line for line in full
                                                 if line.startswith(f"{link} ")}
    # A row that changed since the store took its last change writes keys the store does
    # not name yet: they are read from the lines (the rows' heads).
    new = "<https://w3id.org/exomirkg/syn_new>"
    assert levels._cover(keyed, lines | {f"{link} {option.via} {new} .\n"}) == (
        option, keys | {new})
    # Where the rule ran already on keys that hold the cover's, it does not run again.
    findings = {line.split(" ")[2] for line in lines if "wasDerivedFrom" in line}
    ran = (keyed.option, findings | {"<https://w3id.org/exomirkg/another>"})
    assert levels._cover(keyed, lines, ran) is ran
    assert levels._cover(keyed, lines, (keyed.option, set(sorted(findings)[1:])))[0] is option


def test_a_few_rows_of_a_link_decide_what_it_still_derives(rules, monkeypatch):
    """Whether a rule still derives a link's triples is asked first of a few of the link's
    findings (Levels._probe): a link keeps its type and drug while one of them supports it.
    Only what they leave undecided is covered (Levels._cover), and a line ``link <p> k`` of
    a predicate the key owns only on the rows of key k."""
    data = benchmark("synthetic").generate_ntriples(20_000, seed=1, sections=6)
    graphs = {str(name): b"".join(lines) for name, lines in data.graphs.items()}
    store = _store(graphs)
    levels = Levels.reason(store, graphs, rules)
    mechanism = next(keyed for keyed in levels.high if keyed.rule.name == "link-drug-mechanism")
    assert mechanism.option.owned == {"<http://www.w3.org/ns/prov#wasDerivedFrom>"}
    keyed = next(keyed for keyed in levels.high if keyed.rule.name == "link-efflux-exposure")
    assert keyed.option.owned == {"<http://www.w3.org/ns/prov#wasDerivedFrom>",
                                  "<https://w3id.org/exomirkg/classLevelSupport>"}
    full = levels._lines(keyed.rule.text, levels.after)
    supports = Counter(line.split(" ")[0] for line in full if "/prov#wasDerivedFrom> " in line)
    link, count = min(supports.items(), key=lambda item: (-item[1], item[0]))
    assert count > _PROBED
    lines = {line for line in full if line.startswith(f"{link} ")}
    shared = {line for line in lines if line.split(" ")[1] not in keyed.option.owned}
    unsupported = f"{link} <http://www.w3.org/ns/prov#wasDerivedFrom> <https://e.org/none> .\n"
    ran: list[tuple[str, int]] = []
    heads = Levels._heads

    def recording(self, keyed, graphs, where):
        ran.append((where[0].key, len(where[1])))
        return heads(self, keyed, graphs, where)

    monkeypatch.setattr(Levels, "_heads", recording)
    assert levels._still(keyed, levels.after, shared) == shared
    assert ran == [("finding", _PROBED)]  # a few of the link's findings decided it
    ran.clear()
    assert levels._still(keyed, levels.after, shared | {unsupported}) == shared
    # The probe, then a cover of the one line it left, on that line's own key.
    assert ran == [("finding", _PROBED + 1), ("finding", 1)]
    ran.clear()
    # A line of an owned predicate is asked of its own key: all the link's findings here.
    assert levels._still(keyed, levels.after, lines) == lines
    assert ran == [("finding", count)]


def test_the_asserted_graphs_hold_each_triple_once_while_the_update_goes_on(review, rules
                                                                          ) -> None:
    """The checks a watcher starts from ``on_asserted`` query the graphs it names while the
    update goes on: a query there, whenever it starts, reads each asserted triple once.
    Asked between every two requests the update makes of the store after it: settled in two
    requests (ASSERTED_PLUS added to STATEMENTS, then dropped), a query between them read
    the added triples twice, as pyoxigraph's default graph of several graphs is not a set."""
    current = dict(review)
    store = _store(current)
    levels = Levels.reason(store, current, rules)
    name, text = _edit(random.Random(5), current, clash=False)
    # One query, one state of the store: its triples as read, and each once.
    count = ("SELECT ?all ?set WHERE { { SELECT (COUNT(*) AS ?all) { ?s ?p ?o } } "
             "{ SELECT (COUNT(*) AS ?set) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } } }")
    named: list[list[pyoxigraph.NamedNode]] = []
    seen: list[tuple[int, int]] = []

    def look() -> None:
        if named:
            row = next(iter(store.query(count, default_graph=named[0])))
            seen.append((int(row[0].value), int(row[1].value)))

    class Watched:
        """The store, its graphs looked at after each change the update makes."""

        def __getattr__(self, attribute: str) -> object:
            found = getattr(store, attribute)
            if attribute not in ("update", "load", "bulk_load", "add", "remove", "remove_graph",
                                 "extend", "clear_graph"):
                return found

            def changed(*args: object, **kwargs: object) -> object:
                result = found(*args, **kwargs)
                look()
                return result
            return changed

    def asserted(graphs: list[pyoxigraph.NamedNode], added: frozenset[str],
                 removed: frozenset[str]) -> None:
        assert added  # not vacuous: the edit adds asserted triples
        named.append(graphs)
        look()

    levels.store = Watched()
    change = levels.update({name: text}, on_asserted=asserted)
    assert not change.full and len(seen) >= 5, seen
    assert all(every == distinct for every, distinct in seen), seen


def test_a_query_reads_the_store_as_it_was_when_it_started() -> None:
    """What ``Levels.update(on_asserted=...)`` relies on: a query started on the asserted
    triples' graphs reads them as they were then, while the update goes on changing the
    store (adding ASSERTED_PLUS to STATEMENTS, dropping ASSERTED_PLUS)."""
    store = pyoxigraph.Store()
    statements, plus = pyoxigraph.NamedNode("http://example.org/s"), pyoxigraph.NamedNode(
        "http://example.org/plus")
    store.bulk_load(input="".join(f"<http://example.org/a{i}> <http://example.org/p> "
                                  f"<http://example.org/b{i}> .\n" for i in range(2000)).encode(),
                    format=_NT, to_graph=statements)
    store.add(pyoxigraph.Quad(pyoxigraph.NamedNode("http://example.org/new"),
                              pyoxigraph.NamedNode("http://example.org/p"),
                              pyoxigraph.NamedNode("http://example.org/b0"), plus))
    solutions = store.query("SELECT ?s WHERE { ?s ?p ?o }", default_graph=[statements, plus])
    first = next(solutions)
    store.update(f"ADD <{plus.value}> TO <{statements.value}>")
    store.remove_graph(plus)
    store.update(f"DELETE WHERE {{ GRAPH <{statements.value}> "
                 "{ ?s ?p <http://example.org/b1> } }")
    seen = [first, *solutions]
    assert len(seen) == 2001
    assert len(list(store.query("SELECT ?s WHERE { ?s ?p ?o }",
                                default_graph=[statements]))) == 2000
