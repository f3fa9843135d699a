"""``*-violation.rq`` checks: each fires alone on its fixture, stays silent on its passing
fixture, and returns no row on the real graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Dataset
from rdflib.namespace import RDF
from rdflib.plugins.sparql import prepareQuery

from exomirkg import check_focus, paths
from exomirkg.build import BuildResult
from exomirkg.load import DataFileError, Sources, read_ntriples
from exomirkg.namespaces import (
    GRAPH_INFERRED,
    PREFIXES,
    REASONER_GRAPHS,
    entity_graph,
    section_graph,
)
from exomirkg.validate import (
    CHECK_SCOPES,
    INFERRED_FILE,
    Check,
    ShapesRun,
    checks_store,
    load_checks,
    run_checks,
    validate_sources,
)

FIXTURES = Path(__file__).parent / "resources" / "checks"
CHECKS = load_checks()
FAILING = sorted([*FIXTURES.glob("*.ttl"), *FIXTURES.glob("*.trig")])
PASSING = sorted([*(FIXTURES / "valid").glob("*.ttl"), *(FIXTURES / "valid").glob("*.trig")])


def _stem(path: Path) -> str:
    return path.name.removesuffix(".ttl").removesuffix(".trig")


def _load(path: Path) -> Dataset:
    """A ``.ttl`` fixture becomes one section graph; a ``.trig`` one keeps its named graphs
    (graph/imports/* for the import check, graph/inferred for the reasoner's output)."""
    dataset = Dataset(default_union=True)
    if path.suffix == ".trig":
        dataset.parse(path, format="trig")
    else:
        dataset.graph(section_graph(path.stem)).parse(path, format="turtle")
    return dataset


def _focus(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines()[:3]:
        if line.startswith("# focus:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path}: add '# focus: <the offending node>' as the first line")


@pytest.mark.parametrize("check", [pytest.param(c, id=c.name) for c in CHECKS])
def test_check_has_summary_fix_scope_and_parses(check: Check) -> None:
    assert check.summary, f"{check.path}: add '#+ summary: ...'"
    assert check.description, f"{check.path}: add '#+ description: ...' saying how to fix a row"
    assert check.scope in CHECK_SCOPES
    assert "ORDER BY" in check.text, f"{check.path}: end with ORDER BY (deterministic reports)"
    prepareQuery(check.text)  # rdflib's parser as a second opinion on the syntax
    for line in check.text.splitlines():
        if line.startswith("PREFIX "):
            prefix, iri = line.split()[1].rstrip(":"), line.split()[2].strip("<>")
            assert PREFIXES.get(prefix, iri) == iri, f"{check.path}: {prefix}: is not {iri}"


@pytest.mark.parametrize("path", [pytest.param(p, id=_stem(p)) for p in FAILING])
def test_failing_fixture_fires_exactly_its_check(path: Path) -> None:
    results = run_checks(checks_store(_load(path)), CHECKS)
    fired = {r.rule for r in results}
    assert fired == {_stem(path)}, (
        f"{path}: expected only {_stem(path)} to fire, got {sorted(fired)}:\n"
        + "\n".join(f"  {r.rule} {r.focus} {r.details}" for r in results))
    assert {r.focus for r in results} == {_focus(path)}, (
        f"{path}: the check must SELECT the offending node first; got "
        f"{sorted({r.focus for r in results})}")


@pytest.mark.parametrize("path", [pytest.param(p, id=_stem(p)) for p in PASSING])
def test_passing_fixture_fires_no_check(path: Path) -> None:
    results = run_checks(checks_store(_load(path)), CHECKS)
    assert not results, f"{path} should pass every check:\n" + "\n".join(
        f"  {r.rule} {r.focus} {r.details}" for r in results)


def test_every_check_has_a_failing_and_a_passing_fixture() -> None:
    names = {c.name for c in CHECKS}
    assert names, f"no checks found in {paths.CHECKS_DIR}"
    assert names <= {_stem(p) for p in FAILING}, (
        f"add tests/resources/checks/<name>.ttl for {sorted(names - {_stem(p) for p in FAILING})}")
    assert names <= {_stem(p) for p in PASSING}, (
        f"add tests/resources/checks/valid/<name>.ttl for "
        f"{sorted(names - {_stem(p) for p in PASSING})}")


@pytest.mark.parametrize("check", [pytest.param(c, id=c.name) for c in CHECKS])
def test_check_returns_no_row_on_the_real_graph(check: Check, built: BuildResult) -> None:
    results = run_checks(checks_store(built.dataset), [check])
    assert not results, f"{check.name}: {check.description}\n" + "\n".join(
        f"  {r.focus} {r.path} {r.value} {r.details}" for r in results)


def test_a_result_names_the_first_file_that_declares_its_node(
        tmp_path: Path, min_count_shape: tuple[Path, Path]) -> None:
    """A node declared in two files is filed under the first in load order (not whichever
    the store lists first); a node only the reasoner names, under graph/inferred."""
    shapes_dir, checks_dir = min_count_shape
    (checks_dir / "c-violation.rq").write_text(
        "#+ summary: every inferred C\nPREFIX ex: <http://example.org/>\n"
        "SELECT ?node WHERE { ?node a ex:D }\n", encoding="utf-8")
    c = "<http://example.org/n> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    sources = Sources({
        entity_graph("z-later-name"): (c + "<http://example.org/C> .\n").encode(),
        section_graph("a-earlier-name"): (c + "<http://example.org/C> .\n").encode()})
    store = sources.load_into(pyoxigraph.Store())
    store.add(pyoxigraph.Quad(pyoxigraph.NamedNode("http://example.org/m"),
                              pyoxigraph.NamedNode(str(RDF.type)),
                              pyoxigraph.NamedNode("http://example.org/D"),
                              pyoxigraph.NamedNode(str(GRAPH_INFERRED))))
    report = validate_sources(sources, store, shapes_dir=shapes_dir, checks_dir=checks_dir,
                              data_root=tmp_path)
    assert sorted((r.focus, r.file) for r in report.results) == [
        ("<http://example.org/m>", INFERRED_FILE),
        ("<http://example.org/n>", str(entity_graph("z-later-name")))]


ASSERTED_FAILING = [path for path in FAILING
                    if next(c for c in CHECKS if c.name == _stem(path)).scope == "asserted"]


@pytest.mark.parametrize("path", [pytest.param(p, id=_stem(p)) for p in ASSERTED_FAILING])
def test_asserted_checks_run_beside_the_reasoner_give_the_same_results(
        path: Path, tmp_path: Path) -> None:
    """The build runs the checks of scope asserted in the shapes' thread, on the store before
    reasoning adds graph/inferred: the same results as run after it."""
    sources = Sources.from_rdflib(_load(path))
    store = sources.load_into(pyoxigraph.Store())
    empty = tmp_path / "no-shapes"
    empty.mkdir()
    beside = ShapesRun(sources, shapes_dir=empty, store=store)
    assert _stem(path) in {check.name for check in beside.checks}
    assert {check.scope for check in beside.checks} == {"asserted"}
    after = validate_sources(sources, store, shapes_dir=empty)
    assert validate_sources(sources, store, shapes=beside).results == after.results
    assert _stem(path) in {result.rule for result in after.results}


@pytest.mark.parametrize("path", [pytest.param(p, id=_stem(p)) for p in ASSERTED_FAILING])
def test_asserted_checks_never_read_the_reasoners_working_graphs(path: Path) -> None:
    """The reasoner works in the build's store while these checks run there: its working
    graphs (what it stages, what the rules added since the OWL 2 RL closure, each round's
    new triples) are neither their default graph nor a graph ``GRAPH ?g`` reaches (the
    statements' union, GRAPH_STATEMENTS, is the one graph both read). The fixture's
    statements fire its check from their own graphs, and nothing from the reasoner's."""
    checks = [check for check in CHECKS if check.scope == "asserted"]
    store = Sources.from_rdflib(_load(path)).load_into(pyoxigraph.Store())
    assert _stem(path) in {result.rule for result in run_checks(store, checks)}
    working = pyoxigraph.Store()
    for graph in ("staging", "pending", "round/cax-sco"):
        working.extend(pyoxigraph.Quad(q.subject, q.predicate, q.object,
                                       pyoxigraph.NamedNode(REASONER_GRAPHS + graph))
                       for q in store)
    assert len(working) > 0
    assert run_checks(working, checks) == []


def test_a_broken_asserted_check_is_reported_from_the_shapes_thread(tmp_path: Path) -> None:
    checks_dir = tmp_path / "checks"
    checks_dir.mkdir()
    broken = checks_dir / "broken-violation.rq"
    broken.write_text("#+ summary: broken\n#+ scope: asserted\nSELECT ?x WHERE { ?x \n",
                      encoding="utf-8")
    sources = Sources({section_graph("s"): b""})
    run = ShapesRun(sources, shapes_dir=tmp_path, store=sources.load_into(pyoxigraph.Store()),
                    checks_dir=checks_dir)
    with pytest.raises(DataFileError, match="SPARQL syntax error") as error:
        validate_sources(sources, pyoxigraph.Store(), shapes=run, checks_dir=checks_dir)
    assert error.value.path == broken


#: unexplained-link-violation.rq's MINUS as one join, as it was before the links citing a
#: finding were taken first (same rows, faster: see the check).
_UNEXPLAINED_AS_ONE_JOIN = """
PREFIX ekg: <https://w3id.org/exomirkg/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?drug ?property ?value WHERE {
  VALUES ?property {
    ekg:drugLinkedToMechanism ekg:resistanceViaMechanism ekg:sensitivityViaMechanism
    ekg:exposedToResistanceVia
    ekg:drugLinkedToPathway ekg:resistanceViaPathway ekg:sensitivityViaPathway
  }
  ?drug ?property ?value .
  MINUS {
    ?link a ekg:InferredLink ; ekg:linkDrug ?drug ; prov:wasDerivedFrom ?finding .
    { ?link ekg:linkMechanism ?value } UNION { ?link ekg:linkPathway ?value }
    ?finding a ekg:Finding .
  }
}
ORDER BY ?drug ?property ?value
"""


def test_unexplained_link_check_selects_the_rows_of_its_one_join_form() -> None:
    """Links explained, unexplained (no finding, another drug's link, an untyped link) and
    one link citing two findings: the check and its former text select the same rows."""
    store = pyoxigraph.Store()
    store.load(b"""
        @prefix ekg: <https://w3id.org/exomirkg/> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        ekg:graph\\/inferred {
          ekg:d1 ekg:resistanceViaMechanism ekg:m1 ; ekg:drugLinkedToPathway ekg:p1 .
          ekg:d2 ekg:sensitivityViaMechanism ekg:m1 ; ekg:drugLinkedToMechanism ekg:m2 .
          ekg:d3 ekg:resistanceViaPathway ekg:p2 ; ekg:exposedToResistanceVia ekg:m1 .
          ekg:l1 a ekg:InferredLink ; ekg:linkDrug ekg:d1 ; ekg:linkMechanism ekg:m1 ;
            prov:wasDerivedFrom ekg:f1 .
          ekg:l2 a ekg:InferredLink ; ekg:linkDrug ekg:d1 ; ekg:linkPathway ekg:p1 ;
            prov:wasDerivedFrom ekg:not_a_finding .
          ekg:l3 a ekg:InferredLink ; ekg:linkDrug ekg:d1 ; ekg:linkMechanism ekg:m2 ;
            prov:wasDerivedFrom ekg:f1 .
          ekg:l4 ekg:linkDrug ekg:d2 ; ekg:linkMechanism ekg:m1 ; prov:wasDerivedFrom ekg:f1 .
          ekg:l5 a ekg:InferredLink ; ekg:linkDrug ekg:d3 ; ekg:linkPathway ekg:p2 ;
            ekg:linkMechanism ekg:m1 ; prov:wasDerivedFrom ekg:f1 , ekg:f2 .
        }
        ekg:graph\\/section\\/fixture { ekg:f1 a ekg:Finding . ekg:f2 a ekg:Finding . }
        """, format=pyoxigraph.RdfFormat.TRIG, base_iri="https://w3id.org/exomirkg/")
    (check,) = [c for c in CHECKS if c.name == "unexplained-link-violation"]

    def rows(text: str) -> list[tuple[str, ...]]:
        return [tuple(str(s[v]) for v in ("drug", "property", "value"))
                for s in store.query(text, use_default_graph_as_union=True)]

    expected = rows(_UNEXPLAINED_AS_ONE_JOIN)
    assert len(expected) == 3  # d1-p1 (no finding), d2-m1 (untyped link), d2-m2 (d1's link)
    assert rows(check.text) == expected


#: external-iri-not-imported-violation.rq's MINUS as the FILTER NOT EXISTS it was before
#: (same rows; 5.8 s against 2.3 s at 10^6 triples: see the check).
_NOT_IMPORTED_AS_NOT_EXISTS = """
SELECT DISTINCT ?iri ?property ?usedBy ?graph
WHERE {
  GRAPH ?graph {
    { ?usedBy ?property ?iri . }
    UNION { ?usedBy ?iri ?object . BIND (?iri AS ?property) }
    UNION { ?iri ?property ?object . BIND (?iri AS ?usedBy) }
  }
  FILTER (!STRSTARTS(STR(?graph), "https://w3id.org/exomirkg/graph/imports/")
          && ?graph != <https://w3id.org/exomirkg/graph/inferred>)
  FILTER (isIRI(?iri) && (STRSTARTS(STR(?iri), "http://purl.obolibrary.org/obo/")
                         || STRSTARTS(STR(?iri), "https://identifiers.org/")))
  FILTER NOT EXISTS {
    GRAPH ?module { ?iri ?anyPredicate ?anyObject }
    FILTER (STRSTARTS(STR(?module), "https://w3id.org/exomirkg/graph/imports/"))
  }
}
ORDER BY ?iri ?usedBy
"""


def test_external_iri_check_selects_the_rows_of_its_not_exists_form() -> None:
    """IRIs imported, not imported, imported only as an object, used as subject, predicate
    and object, and used in graph/inferred alone: the check and its former text select the
    same rows, and a focus run also restricts the imported IRIs' subquery."""
    store = pyoxigraph.Store()
    store.load(b"""
        @prefix ekg: <https://w3id.org/exomirkg/> .
        @prefix obo: <http://purl.obolibrary.org/obo/> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        ekg:graph\\/imports\\/chebi {
          obo:CHEBI_1 rdfs:label "one" . obo:RO_1 rdfs:label "rel" .
          obo:CHEBI_9 rdfs:seeAlso obo:CHEBI_3 .
        }
        ekg:graph\\/section\\/a {
          ekg:f1 ekg:concernsDrug obo:CHEBI_1 , obo:CHEBI_2 , obo:CHEBI_3 ;
            obo:RO_1 obo:ECO_1 ; obo:RO_2 <https://identifiers.org/hgnc:5> .
          obo:CHEBI_4 rdfs:label "four" .
        }
        ekg:graph\\/inferred { ekg:f1 ekg:concernsDrug obo:CHEBI_5 . }
        """, format=pyoxigraph.RdfFormat.TRIG, base_iri="https://w3id.org/exomirkg/")
    (check,) = [c for c in CHECKS if c.name == "external-iri-not-imported-violation"]

    def rows(text: str) -> list[tuple[str, ...]]:
        return [tuple(str(s[v]) for v in ("iri", "property", "usedBy", "graph"))
                for s in store.query(text, use_default_graph_as_union=True)]

    expected = rows(_NOT_IMPORTED_AS_NOT_EXISTS)
    # CHEBI_2, CHEBI_3 (an object in the module only), CHEBI_4, ECO_1, RO_2, hgnc:5
    assert sorted({row[0].rsplit("/", 1)[1] for row in expected}) == [
        "CHEBI_2>", "CHEBI_3>", "CHEBI_4>", "ECO_1>", "RO_2>", "hgnc:5>"]
    assert rows(check.text) == expected
    analysis = check_focus.analyse(check)
    assert analysis.variable == "iri" and len(analysis.openings) == 2
    nodes = ["<http://purl.obolibrary.org/obo/CHEBI_1>", "<http://purl.obolibrary.org/obo/RO_2>"]
    focused = check_focus.focused_text(check.text, analysis, nodes)
    assert focused.count("VALUES ?iri") == 2
    assert rows(focused) == [row for row in expected if row[0] in nodes]


def test_duplicate_label_rows_do_not_depend_on_the_order_statements_were_loaded() -> None:
    """Its entities in order, whatever order the store reads them in (an incremental build's
    store and a full one's differ so): loaded backwards the row was ``cisplatin cis_platinum``."""
    check = next(c for c in CHECKS if c.name == "duplicate-label-violation")
    lines = read_ntriples(FIXTURES / "duplicate-label-violation.ttl").splitlines(True)
    rows = []
    for order in (lines, lines[::-1]):
        store = pyoxigraph.Store()
        store.bulk_load(input=b"".join(order), format=pyoxigraph.RdfFormat.N_TRIPLES,
                        to_graph=pyoxigraph.NamedNode("urn:x:graph"))
        rows.append([result.details for result in run_checks(store, [check])])
    assert rows[0] == rows[1] == [{"class": "ekg:Drug", "entities": (
        "https://w3id.org/exomirkg/cis_platinum https://w3id.org/exomirkg/cisplatin")}]
