"""Reasoning: OWL 2 RL + rules to a fixpoint, explanation nodes, `exomirkg explain`, HermiT.

Two kinds of tests. Rule tests run on tiny findings in tests/resources/reasoning/findings.ttl
(with the real ontology and entities, without triples/sections/), so they hold whatever the
curated sections say. Real-data tests check the inferences the review supports on the real
build (the session's `built` / `store` fixtures).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph
import pytest
from helpers import benchmark
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from exomirkg import paths, reason
from exomirkg.build import BuildResult
from exomirkg.cli import main
from exomirkg.explain import explain_drug
from exomirkg.load import Sources, parse_turtle, source_files
from exomirkg.namespaces import EKG, GRAPH_INFERRED, GRAPH_STATEMENTS, OBO, PROV
from exomirkg.reason import (
    _WORTH_KEEPING,
    ENGINES,
    _worth_keeping,
    construct_as_insert,
    infer,
    infer_into,
    load_rules,
)
from exomirkg.store import dataset_to_store
from exomirkg.validate import validate_dataset

RESOURCES = Path(__file__).parent / "resources" / "reasoning"
FIXTURE = RESOURCES / "findings.ttl"
FIXTURE_GRAPH = URIRef("https://w3id.org/exomirkg/graph/section/fixture")

#: Drug-mechanism pairs the review does not support: no link, no explanation node.
UNSUPPORTED = [
    ("temozolomide", "drug_efflux"),
    ("gemcitabine", "drug_efflux"),
    ("sorafenib", "drug_efflux"),
    ("paclitaxel", "autophagy_activation"),
    ("cisplatin", "tam_polarization"),
    ("trastuzumab", "apoptosis_inhibition"),
    # §2.5 states "increasing the intracellular oxaliplatin concentration", no mechanism.
    ("oxaliplatin", "drug_efflux_reduction"),
]
#: Properties that make a drug-mechanism link.
LINK_PROPERTIES = [EKG.drugLinkedToMechanism, EKG.exposedToResistanceVia]
RDF_TYPE = pyoxigraph.NamedNode(str(RDF.type))


def _fixture_dataset() -> Dataset:
    """Ontology, imports, review and entities (no sections) plus the rule fixture."""
    dataset = Dataset(default_union=True)
    for source in source_files():
        if "/section/" not in str(source.graph):
            parse_turtle(source.path, dataset.graph(source.graph))
    parse_turtle(FIXTURE, dataset.graph(FIXTURE_GRAPH))
    return dataset


def _sorted_nquads(dataset: Dataset) -> bytes:
    lines = dataset.serialize(format="nquads").splitlines(keepends=True)
    return "".join(sorted(lines)).encode("utf-8")


@pytest.fixture(scope="module")
def fixture_build() -> tuple[Dataset, Graph]:
    """The fixture dataset and its inferred graph (added as graph/inferred)."""
    dataset = _fixture_dataset()
    inferred = infer(dataset)
    target = dataset.graph(GRAPH_INFERRED)
    for triple in inferred:
        target.add(triple)
    return dataset, inferred


@pytest.fixture(scope="module")
def fixture_store(fixture_build: tuple[Dataset, Graph]) -> pyoxigraph.Store:
    return dataset_to_store(fixture_build[0])


def _ask(store: pyoxigraph.Store, where: str) -> bool:
    query = f"PREFIX ekg: <{EKG}> PREFIX obo: <{OBO}> PREFIX prov: <{PROV}> ASK {{ {where} }}"
    return bool(store.query(query, use_default_graph_as_union=True))


def _inferred_ask(store: pyoxigraph.Store, pattern: str) -> bool:
    return _ask(store, f"GRAPH <{GRAPH_INFERRED}> {{ {pattern} }}")


# --- rules as data -------------------------------------------------------------------------


def test_every_rule_is_a_construct_with_summary_and_stratum() -> None:
    rules = load_rules()
    assert len(rules) >= 10, "ontology/rules/*.rq went missing"
    for rule in rules:
        assert rule.summary, f"{rule.path}: add a '#+ summary:' line"
        assert rule.stratum >= 1, f"{rule.path}: '#+ stratum:' must be 1 or more"
        pyoxigraph.Store().query(rule.text)  # raises SyntaxError on a broken rule


def test_every_rule_runs_inside_the_store_with_its_construct_s_triples(
        store: pyoxigraph.Store) -> None:
    """Each shipped rule becomes an INSERT (no Python object per triple) that writes exactly
    the triples its CONSTRUCT gives, on the built review (asserted + inferred)."""
    work = pyoxigraph.Store()
    work.extend(pyoxigraph.Quad(q.subject, q.predicate, q.object, pyoxigraph.DefaultGraph())
                for q in store)
    staging = pyoxigraph.NamedNode("urn:test:staging")
    some_rule_adds = False
    for rule in load_rules():
        update = construct_as_insert(rule.text, staging.value)
        assert update is not None, f"{rule.path}: no INSERT form; it would run in Python"
        work.update(update)
        got = {(q.subject, q.predicate, q.object)
               for q in work.quads_for_pattern(None, None, None, staging)}
        want = {(t.subject, t.predicate, t.object) for t in work.query(rule.text)}
        assert got == want, rule.name
        some_rule_adds |= bool(want)
        work.update(f"CLEAR GRAPH <{staging.value}>")
    assert some_rule_adds


@pytest.mark.parametrize(("text", "expected"), [
    ("PREFIX ex: <http://x/>\nCONSTRUCT { ?s ex:p \"}\" } WHERE { ?s ?p ?o }",
     'PREFIX ex: <http://x/>\nINSERT { GRAPH <urn:g> { ?s ex:p "}" } } WHERE { ?s ?p ?o }'),
    ("construct {?s <http://x/q> ?o} where {{?s ?p ?o} # }\n}",
     "INSERT { GRAPH <urn:g> {?s <http://x/q> ?o} } where {{?s ?p ?o} # }\n}"),
    # An update cannot hold these: the rule keeps the CONSTRUCT path.
    ("CONSTRUCT WHERE { ?s ?p ?o }", None),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5", None),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s", None),
    ("CONSTRUCT { ?s ?p ?o } FROM <http://x/g> WHERE { ?s ?p ?o }", None),
    ("CONSTRUCT { ?s ?p ?o } { ?s ?p ?o }", None),
    ("SELECT * { ?s ?p ?o }", None),
])
def test_construct_as_insert(text: str, expected: str | None) -> None:
    assert construct_as_insert(text, "urn:g") == expected


def test_construct_as_insert_reads_the_merge_of_the_graphs_it_is_given() -> None:
    """The reasoner keeps statements and inferred triples in two graphs; a rule joining one
    of each must see both as its default graph (``USING``), and nothing else."""
    store = pyoxigraph.Store()
    store.update("INSERT DATA { GRAPH <urn:a> { <urn:x> <urn:p> <urn:y> } "
                 "GRAPH <urn:b> { <urn:y> <urn:p> <urn:z> } "
                 "GRAPH <urn:c> { <urn:z> <urn:p> <urn:w> } }")
    rule = "CONSTRUCT { ?x <urn:pp> ?z } WHERE { ?x <urn:p> ?y . ?y <urn:p> ?z }"
    update = construct_as_insert(rule, "urn:out", ["urn:a", "urn:b"])
    assert update == ("INSERT { GRAPH <urn:out> { ?x <urn:pp> ?z } } USING <urn:a> USING <urn:b>"
                      " WHERE { ?x <urn:p> ?y . ?y <urn:p> ?z }")
    store.update(update)
    assert [(q.subject.value, q.object.value) for q in store.quads_for_pattern(
        None, None, None, pyoxigraph.NamedNode("urn:out"))] == [("urn:x", "urn:z")]


def test_rule_without_summary_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.rq").write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }\n")
    with pytest.raises(ValueError, match="summary"):
        load_rules(tmp_path)


def test_rule_header_with_bad_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.rq").write_text("#+ summary: a: b: c\nCONSTRUCT {} WHERE {}\n")
    with pytest.raises(ValueError, match="bad.rq"):
        load_rules(tmp_path)


# --- the three inferences the review supports, on the fixture ------------------------------


def test_paclitaxel_resistance_via_apoptosis_inhibition_from_caf_mir_21(
    fixture_store: pyoxigraph.Store,
) -> None:
    assert _inferred_ask(fixture_store, "ekg:paclitaxel ekg:resistanceViaMechanism "
                                        "ekg:apoptosis_inhibition"), \
        "rule resistance-via-mechanism.rq should link paclitaxel to apoptosis inhibition"
    text = explain_drug(fixture_store, "paclitaxel", "apoptosis inhibition")
    for expected in ("cancer-associated fibroblast", "miR-21", "APAF1 (downregulated)",
                     "-> apoptosis inhibition", "[39] doi:10.1038/ncomms11150"):
        assert expected in text, f"explanation lacks {expected!r}:\n{text}"
    assert "WARNING" not in text


def test_cisplatin_resistance_via_autophagy_activation_from_mir_425_3p(
    fixture_store: pyoxigraph.Store,
) -> None:
    assert _inferred_ask(fixture_store, "ekg:cisplatin ekg:resistanceViaMechanism "
                                        "ekg:autophagy_activation")
    assert _inferred_ask(fixture_store, "ekg:cisplatin ekg:resistanceViaPathway "
                                        "ekg:mtor_signaling"), \
        "miR-425-3p represses AKT1, which drives mTOR: the sign rule should reach mTOR"
    text = explain_drug(fixture_store, "cisplatin", "autophagy activation")
    for expected in ("miR-425-3p", "AKT1 (downregulated) -> mTOR signaling (inhibited)",
                     "[113] doi:10.1158/1055-9965.EPI-18-0569",
                     "[114] doi:10.2147/IJN.S221383"):
        assert expected in text, f"explanation lacks {expected!r}:\n{text}"


@pytest.mark.parametrize("mechanism", ["apoptosis_inhibition", "proliferation_promotion"])
def test_gemcitabine_resistance_from_csc_mir_210_through_mtor(
    fixture_store: pyoxigraph.Store, mechanism: str
) -> None:
    assert _inferred_ask(fixture_store, f"ekg:gemcitabine ekg:resistanceViaMechanism "
                                        f"ekg:{mechanism}")
    text = explain_drug(fixture_store, "gemcitabine", f"ekg:{mechanism}")
    for expected in ("cancer stem cell", "miR-210", "mTOR signaling (targeted)",
                     "[37] doi:10.1007/s13402-019-00476-6"):
        assert expected in text, f"explanation lacks {expected!r}:\n{text}"


# --- other rules on the fixture ------------------------------------------------------------


def test_pten_sign_rule_mir_21_activates_pi3k_akt(fixture_store: pyoxigraph.Store) -> None:
    assert _inferred_ask(fixture_store, "ekg:mir_21 obo:RO_0003002 ekg:pten")
    assert _inferred_ask(fixture_store, "ekg:mir_21 ekg:miRNAActivatesPathway "
                                        "ekg:pi3k_akt_signaling"), \
        "OWL chain RO_0003002 o negativelyRegulatesPathway should fire on the rule's output"
    assert _inferred_ask(fixture_store, "ekg:fx_hcc_mir_21_pten ekg:findingActivatesPathway "
                                        "ekg:pi3k_akt_signaling")


def test_two_mirnas_in_one_finding_are_not_credited_with_its_target(
    fixture_store: pyoxigraph.Store,
) -> None:
    for mirna in ("mir_155", "mir_210"):
        assert not _inferred_ask(fixture_store, f"ekg:{mirna} obo:RO_0003002 ekg:cdh1"), \
            "mirna-represses-target.rq must only use findings naming exactly one miRNA"


def test_platinum_drugs_classified_from_chebi_class(fixture_store: pyoxigraph.Store) -> None:
    for drug in ("cisplatin", "oxaliplatin"):
        assert _inferred_ask(fixture_store, f"ekg:{drug} a ekg:PlatinumDrug")
    assert not _inferred_ask(fixture_store, "ekg:paclitaxel a ekg:PlatinumDrug")


def _support(store: pyoxigraph.Store, link: str, prop: str = "prov:wasDerivedFrom") -> set[str]:
    query = (f"PREFIX ekg: <{EKG}> PREFIX prov: <{PROV}> "
             f"SELECT ?f WHERE {{ ekg:{link} {prop} ?f }}")
    return {row["f"].value.removeprefix(str(EKG))
            for row in store.query(query, use_default_graph_as_union=True)}


def test_named_substrates_of_a_transferred_family_are_exposed_to_efflux_class_level(
    fixture_store: pyoxigraph.Store,
) -> None:
    """"Several cytotoxic drugs, such as cisplatin, paclitaxel, and doxorubicin, are substrates
    to ABC transporters [80]" + exosomes carrying ABC transporters [81]: a class-level link,
    resting on the finding about no drug, never on the docetaxel finding (issue 13, §3)."""
    for drug in ("paclitaxel", "cisplatin"):
        assert _inferred_ask(fixture_store, f"ekg:{drug} ekg:exposedToResistanceVia "
                                            "ekg:drug_efflux ; ekg:exposedToEffluxVia "
                                            "ekg:abc_transporters")
        assert _inferred_ask(fixture_store, f"ekg:link_{drug}_drug_efflux a "
                                            "ekg:ClassLevelInferredLink")
        assert _support(fixture_store, f"link_{drug}_drug_efflux") == {"fx_abc_family_transfer"}
        assert _support(fixture_store, f"link_{drug}_drug_efflux", "ekg:classLevelSupport") \
            == {"fx_abc_family_transfer"}
    # The member-level trap: ABCB1 "exports" cisplatin and the docetaxel finding carries ABCB1.
    assert not _ask(fixture_store, "ekg:cisplatin ekg:exposedToEffluxVia ekg:abcb1")
    # Docetaxel's efflux link comes from its own finding, drug-level.
    assert not _inferred_ask(fixture_store, "ekg:docetaxel ekg:exposedToResistanceVia ?m")
    assert _support(fixture_store, "link_docetaxel_drug_efflux") == {"fx_abcb1_transfer"}
    assert not _ask(fixture_store, "ekg:link_docetaxel_drug_efflux a ekg:ClassLevelInferredLink")
    text = explain_drug(fixture_store, "cisplatin", "drug efflux")
    for expected in ("strength: class-level, weaker", "basis:      class-level",
                     "ABC transporters export cisplatin (class-level",
                     "statement:  [80] doi:10.1186/s13048-016-0278-z"):
        assert expected in text, f"explanation lacks {expected!r}:\n{text}"
    assert "fx_abcb1_transfer" not in text
    assert "strength: drug-level" in explain_drug(fixture_store, "docetaxel", "drug efflux")


def test_class_level_link_with_a_finding_about_the_drug_is_drug_level() -> None:
    """A finding about the drug naming the mechanism makes the link drug-level, even when a
    class-level finding supports it too; each support keeps its own kind."""
    dataset = _fixture_dataset()
    finding, section = EKG.fx_a2780_paclitaxel, dataset.graph(FIXTURE_GRAPH)
    for p, o in ((RDF.type, EKG.Finding), (EKG.concernsDrug, EKG.paclitaxel),
                 (EKG.hasProteinCargo, EKG.abcb1), (EKG.hasEffect, EKG.transfers_resistance),
                 (EKG.viaMechanism, EKG.drug_efflux)):
        section.add((finding, p, o))
    target = dataset.graph(GRAPH_INFERRED)
    for triple in infer(dataset):
        target.add(triple)
    store = dataset_to_store(dataset)
    assert _support(store, "link_paclitaxel_drug_efflux") == {
        "fx_abc_family_transfer", "fx_a2780_paclitaxel"}
    assert not _ask(store, "ekg:link_paclitaxel_drug_efflux a ekg:ClassLevelInferredLink")
    text = explain_drug(store, "paclitaxel", "drug efflux")
    assert "strength: drug-level" in text and "basis:      finding about the drug" in text
    assert "basis:      class-level" in text


def test_finding_on_retracted_reference_only_is_marked_and_warned(
    fixture_store: pyoxigraph.Store,
) -> None:
    assert _inferred_ask(fixture_store, "ekg:fx_mir_567_trastuzumab "
                                        "ekg:restsOnlyOnRetractedReferences true")
    assert _inferred_ask(fixture_store, "ekg:link_trastuzumab_autophagy_inhibition "
                                        "ekg:supportRetracted true")
    assert not _inferred_ask(fixture_store, "ekg:fx_caf_mir_21_paclitaxel "
                                            "ekg:restsOnlyOnRetractedReferences ?x")
    assert not _inferred_ask(fixture_store, "?link ekg:linkDrug ekg:paclitaxel ; "
                                            "ekg:supportRetracted ?x")
    text = explain_drug(fixture_store, "trastuzumab")
    assert "[115] doi:10.1038/s41419-020-2250-5 [RETRACTED]" in text
    assert "WARNING: every finding supporting this link rests only on retracted" in text


@pytest.mark.parametrize(("drug", "mechanism"), UNSUPPORTED)
def test_unsupported_link_absent_in_fixture(
    fixture_store: pyoxigraph.Store, drug: str, mechanism: str
) -> None:
    for prop in LINK_PROPERTIES:
        assert not _ask(fixture_store, f"ekg:{drug} <{prop}> ekg:{mechanism}")
    assert not _ask(fixture_store, f"ekg:link_{drug}_{mechanism} ?p ?o")


def test_every_fixture_link_has_an_explanation_node(fixture_store: pyoxigraph.Store) -> None:
    _assert_links_explained(fixture_store)


def test_inferred_graph_has_no_asserted_literal_subject_or_blank_node(
    fixture_build: tuple[Dataset, Graph],
) -> None:
    dataset, inferred = fixture_build
    asserted = {t for g in dataset.graphs() if g.identifier != GRAPH_INFERRED for t in g}
    assert inferred, "infer() returned nothing"
    for triple in inferred:
        assert triple not in asserted, f"asserted triple in graph/inferred: {triple}"
        assert not isinstance(triple[0], (Literal, BNode)), f"bad subject: {triple}"
        assert not isinstance(triple[2], BNode), f"blank-node object leaks: {triple}"


def test_asserted_graphs_byte_identical_after_reasoning() -> None:
    dataset = _fixture_dataset()
    before = _sorted_nquads(dataset)
    inferred = infer(dataset)
    assert len(inferred) > 0
    assert _sorted_nquads(dataset) == before, "infer() must not modify the asserted dataset"


def test_a_store_reasons_as_its_dataset_does(fixture_build: tuple[Dataset, Graph]) -> None:
    """infer() over the pyoxigraph copy (the build's path) gives the rdflib path's triples,
    and infer_into() replaces graph/inferred with them, leaving the other graphs alone."""
    dataset = _fixture_dataset()
    store = dataset_to_store(dataset)
    asserted = set(store)
    assert set(infer(store)) == set(fixture_build[1])
    stale = pyoxigraph.Quad(pyoxigraph.NamedNode("http://example.org/stale"), RDF_TYPE,
                            RDF_TYPE, pyoxigraph.NamedNode(str(GRAPH_INFERRED)))
    store.add(stale)
    count = infer_into(store).count
    inferred = set(store.quads_for_pattern(None, None, None,
                                           pyoxigraph.NamedNode(str(GRAPH_INFERRED))))
    assert count == len(inferred) == len(fixture_build[1]) and stale not in inferred
    assert set(store) - inferred == asserted
    # The build hands the reasoner the statements as text: the same triples are inferred.
    again = dataset_to_store(dataset)
    infer_into(again, statements=Sources.from_rdflib(dataset).ntriples())
    assert set(again.quads_for_pattern(None, None, None,
                                       pyoxigraph.NamedNode(str(GRAPH_INFERRED)))) == inferred
    # ... or loads their union in GRAPH_STATEMENTS, which the checks read too: the reasoner
    # reads it there, leaves it as it was, and infers the same triples.
    loaded = dataset_to_store(dataset)
    statements = pyoxigraph.NamedNode(GRAPH_STATEMENTS)
    loaded.load(Sources.from_rdflib(dataset).ntriples(), format=pyoxigraph.RdfFormat.N_TRIPLES,
                to_graph=statements)
    before = set(loaded)
    infer_into(loaded, loaded=True)
    assert set(loaded.quads_for_pattern(None, None, None,
                                        pyoxigraph.NamedNode(str(GRAPH_INFERRED)))) == inferred
    assert set(loaded) - inferred == before


def test_engines_derive_the_same_abox() -> None:
    """reasonable + the property-chain rule derives what owlrl derives about individuals."""
    assert set(ENGINES) == {"reasonable", "owlrl"}
    dataset = _fixture_dataset()
    results = {engine: infer(dataset, engine=engine) for engine in ENGINES}

    def abox(graph: Graph) -> set:
        return {
            t for t in graph
            if str(t[0]).startswith(str(EKG)) and not str(t[1]).startswith(
                ("http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2002/07/owl#"))
            and not (t[1] == RDF.type and "www.w3.org" in str(t[2]))
        }

    only_owlrl = abox(results["owlrl"]) - abox(results["reasonable"])
    only_reasonable = abox(results["reasonable"]) - abox(results["owlrl"])
    assert not only_owlrl and not only_reasonable, (
        f"engines disagree; owlrl only: {sorted(only_owlrl)[:5]}, "
        f"reasonable only: {sorted(only_reasonable)[:5]} - a rule may depend on what one "
        "engine skips (see ontology/README.md)"
    )


def test_fixture_inferred_graph_passes_validation(
    fixture_build: tuple[Dataset, Graph],
) -> None:
    dataset, inferred = fixture_build
    report = validate_dataset(dataset, inferred)
    assert report.conforms, report.text


def test_an_iri_rdflib_accepts_is_reasoned_over_not_refused() -> None:
    """rdflib takes and writes an IRI such as ``http://example.org/drug%zz`` (a broken
    percent-escape), which a strict N-Triples reader refuses. The reasoner reads what it is
    given as written (``load_ntriples`` is lenient) and derives from it; the checks, not a
    crash mid-reasoning, report such IRIs."""
    odd = URIRef("http://example.org/drug%zz")
    dataset = Dataset(default_union=True)
    graph = dataset.graph(URIRef("http://example.org/graph"))
    graph.add((EKG.ExampleDrugClass, RDF.type, OWL.Class))
    graph.add((EKG.ExampleDrugClass, RDFS.subClassOf, EKG.Drug))
    graph.add((odd, RDF.type, EKG.ExampleDrugClass))
    with pytest.raises(SyntaxError):  # what a strict reader of the same text says
        list(pyoxigraph.parse(graph.serialize(format="nt", encoding="utf-8"),
                              format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert (odd, RDF.type, EKG.Drug) in infer(dataset)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="reasonable"):
        infer(Dataset(), engine="hermit")


# --- explain: lookup ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["5-FU", "5-fluorouracil", "ekg:fluorouracil",
                                  "https://w3id.org/exomirkg/fluorouracil", "FLUOROURACIL"])
def test_explain_resolves_labels_synonyms_and_iris(
    fixture_store: pyoxigraph.Store, name: str
) -> None:
    assert explain_drug(fixture_store, name).startswith("5-fluorouracil <")


def test_explain_unknown_drug_suggests_close_names(fixture_store: pyoxigraph.Store) -> None:
    with pytest.raises(LookupError, match="Did you mean: cisplatin"):
        explain_drug(fixture_store, "cisplatn")


def test_explain_unknown_mechanism_is_a_lookup_error(fixture_store: pyoxigraph.Store) -> None:
    with pytest.raises(LookupError, match="mechanism or pathway"):
        explain_drug(fixture_store, "cisplatin", "telepathy")


# --- real data -------------------------------------------------------------------------------


def _assert_links_explained(store: pyoxigraph.Store) -> None:
    for prop in LINK_PROPERTIES:
        query = f"""PREFIX ekg: <{EKG}> PREFIX prov: <{PROV}>
        SELECT ?drug ?mechanism WHERE {{
          GRAPH <{GRAPH_INFERRED}> {{ ?drug <{prop}> ?mechanism }}
          FILTER NOT EXISTS {{
            ?link a ekg:InferredLink ; ekg:linkDrug ?drug ; ekg:linkMechanism ?mechanism ;
                ekg:linkProperty <{prop}> ; prov:wasDerivedFrom ?finding .
            ?finding a ekg:Finding .
          }}
        }}"""
        missing = [(r["drug"].value, r["mechanism"].value)
                   for r in store.query(query, use_default_graph_as_union=True)]
        assert not missing, (
            f"{prop} links without an ekg:InferredLink explanation node: {missing[:5]}; "
            "check ontology/rules/link-*.rq"
        )


def test_every_real_link_has_an_explanation_node(store: pyoxigraph.Store) -> None:
    _assert_links_explained(store)


def test_real_paclitaxel_apoptosis_link_from_caf_mir_21_apaf1(store: pyoxigraph.Store) -> None:
    text = explain_drug(store, "paclitaxel", "apoptosis inhibition")
    for expected in ("cancer-associated fibroblast", "miR-21", "APAF1 (downregulated)",
                     "doi:10.1038/ncomms11150"):
        assert expected in text, f"real explanation lacks {expected!r}:\n{text}"


def test_real_cisplatin_autophagy_link_from_mir_425_3p(store: pyoxigraph.Store) -> None:
    text = explain_drug(store, "cisplatin", "autophagy activation")
    for expected in ("miR-425-3p", "AKT1/mTOR", "mTOR signaling",
                     "doi:10.1158/1055-9965.EPI-18-0569", "doi:10.2147/IJN.S221383"):
        assert expected in text, f"real explanation lacks {expected!r}:\n{text}"


@pytest.mark.parametrize("mechanism", ["apoptosis inhibition", "proliferation promotion"])
def test_real_gemcitabine_link_from_csc_mir_210(store: pyoxigraph.Store, mechanism: str) -> None:
    text = explain_drug(store, "gemcitabine", mechanism)
    for expected in ("cancer stem cell", "miR-210", "mTOR", "doi:10.1007/s13402-019-00476-6"):
        assert expected in text, f"real explanation lacks {expected!r}:\n{text}"


def test_real_platinum_drugs_are_cisplatin_and_oxaliplatin(store: pyoxigraph.Store) -> None:
    query = f"SELECT ?d WHERE {{ ?d a <{EKG.PlatinumDrug}> }} ORDER BY ?d"
    drugs = [row["d"].value for row in store.query(query, use_default_graph_as_union=True)]
    assert drugs == [str(EKG.cisplatin), str(EKG.oxaliplatin)]


def test_real_pten_sign_rule(store: pyoxigraph.Store) -> None:
    assert _inferred_ask(store, "ekg:mir_21 obo:RO_0003002 ekg:pten")
    assert _inferred_ask(store, "ekg:mir_21 ekg:miRNAActivatesPathway ekg:pi3k_akt_signaling")


@pytest.mark.parametrize(("drug", "mechanism"), UNSUPPORTED)
def test_unsupported_link_absent_in_real_graph(
    store: pyoxigraph.Store, drug: str, mechanism: str
) -> None:
    for prop in LINK_PROPERTIES:
        assert not _ask(store, f"ekg:{drug} <{prop}> ekg:{mechanism}"), (
            f"the review does not link {drug} to {mechanism}; find the finding or rule that "
            "does (exomirkg explain)"
        )


def test_real_inferred_graph_passes_validation(built: BuildResult) -> None:
    report = validate_dataset(built.dataset, built.inferred)
    assert report.conforms, report.text


def _drug_iris() -> list[str]:
    graph = Graph()
    parse_turtle(paths.ENTITIES_DIR / "drugs.ttl", graph)
    return sorted(str(s) for s in graph.subjects(RDF.type, EKG.Drug))


@pytest.mark.parametrize("drug", _drug_iris(), ids=lambda iri: iri.rsplit("/", 1)[-1])
def test_explain_works_for_every_drug(store: pyoxigraph.Store, drug: str) -> None:
    first_line = explain_drug(store, drug).splitlines()[0]
    assert f"<{drug}>: " in first_line, first_line
    assert "inferred link(s)" in first_line or "no inferred drug-mechanism link" in first_line


def test_cli_explain_prints_chain(runner, built: BuildResult, build_dir: Path) -> None:
    result = runner.invoke(main, ["explain", "paclitaxel", "apoptosis inhibition",
                                  "--out", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert "chain:      finding -> miR-21 -> APAF1 (downregulated) -> apoptosis inhibition" \
        in result.output


def test_cli_explain_drug_without_links_exits_0(runner, built: BuildResult,
                                                build_dir: Path) -> None:
    result = runner.invoke(main, ["explain", "temozolomide", "--out", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert "no inferred drug-mechanism link" in result.output


def test_cli_explain_unknown_drug_exits_2(runner, built: BuildResult, build_dir: Path) -> None:
    result = runner.invoke(main, ["explain", "aspirinx", "--out", str(build_dir)])
    assert result.exit_code == 2
    assert "no drug called 'aspirinx'" in result.output


# --- DL consistency (HermiT) ---------------------------------------------------------------

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a JVM")


@needs_java
@pytest.mark.slow
def test_real_graph_is_consistent_for_hermit() -> None:
    from exomirkg.consistency import check_consistency

    report = check_consistency()
    assert report.ok, f"HermiT: {report.text} - see python -m exomirkg.consistency"


@needs_java
@pytest.mark.slow
def test_hermit_reports_individual_in_disjoint_classes() -> None:
    from exomirkg.consistency import check_files

    report = check_files([paths.ONTOLOGY_FILE, RESOURCES / "inconsistent-individual.ttl"])
    assert not report.consistent
    assert not report.ok


@needs_java
@pytest.mark.slow
def test_hermit_lists_unsatisfiable_class() -> None:
    from exomirkg.consistency import check_files

    report = check_files([paths.ONTOLOGY_FILE, RESOURCES / "unsatisfiable-class.ttl"])
    assert report.consistent
    assert report.unsatisfiable == [str(EKG.FxDrugMechanism)]
    assert "unsatisfiable class: https://w3id.org/exomirkg/FxDrugMechanism" in report.text


# --- synthetic graph -------------------------------------------------------------------------


def test_synthetic_graph_is_deterministic_and_reasons_to_explained_links() -> None:
    generate = benchmark("synthetic").generate

    first = generate(2000, seed=7, with_ontology=False)
    second = generate(2000, seed=7, with_ontology=False)
    assert _sorted_nquads(first) == _sorted_nquads(second), "same seed must give same graph"
    assert len(first) >= 2000
    dataset = generate(6000, seed=7)
    inferred = infer(dataset)
    for triple in inferred:
        dataset.graph(GRAPH_INFERRED).add(triple)
    store = dataset_to_store(dataset)
    assert _inferred_ask(store, "?d ekg:resistanceViaMechanism ?m")
    assert _inferred_ask(store, "?d a ekg:PlatinumDrug")
    _assert_links_explained(store)


def test_what_is_worth_keeping_is_one_rule_in_sparql_and_in_python() -> None:
    """The merge's SPARQL condition and the benchmark's Python predicate keep the same
    triples, one of each kind each drops and one they keep."""
    x, y, p = (URIRef(f"https://example.org/{n}") for n in ("x", "y", "p"))
    triples = [
        (x, p, y), (x, RDF.type, y),  # kept
        (BNode("b"), p, y), (x, p, BNode("b")),
        (x, URIRef("http://www.daml.org/2002/03/agents/agent-ont#error"), y),
        (x, RDFS.subClassOf, x), (x, OWL.sameAs, x), (x, OWL.sameAs, y),
        (x, RDF.type, OWL.Thing), (x, RDF.type, RDFS.Resource), (OWL.Nothing, p, y),
        (x, RDF.type, RDFS.Datatype),
    ]
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(*(pyoxigraph.BlankNode(t) if isinstance(t, BNode)
                                   else pyoxigraph.NamedNode(t) for t in triple))
                 for triple in triples)
    kept_sparql = {(URIRef(r["s"].value), URIRef(r["p"].value), URIRef(r["o"].value))
                   for r in store.query(f"SELECT * {{ ?s ?p ?o FILTER({_WORTH_KEEPING}) }}")}
    kept_python = {triple for triple in triples if _worth_keeping(triple)}
    assert kept_sparql == kept_python == {(x, p, y), (x, RDF.type, y), (x, OWL.sameAs, y)}
    assert not _worth_keeping((Literal("a"), p, y))  # generalised RDF: Python's side only


def test_lines_go_by_their_subject_s_prefix() -> None:
    e = "https://e/"
    lines = [f"<{e}link_a_b> <{e}p> <{e}o> .\n", f"<{e}link_c_d> <{e}p> <{e}o> .\n",
             f"<{e}x#finding_1> <{e}p> <{e}o> .\n", f"<{e}plain> <{e}p> <{e}o> .\n"]
    assert reason._by_subject_prefix(lines) == {
        f"{e}link_": lines[:2], f"{e}x#finding_": [lines[2]], e: [lines[3]]}
    # a blank node, an IRI without a namespace, too many prefixes: asked line by line
    for other in ("_:b <https://e/p> <https://e/o> .\n", "<urn:x> <https://e/p> <https://e/o> .\n"):
        assert reason._by_subject_prefix([lines[0], other]) == {None: [lines[0], other]}
    many = [f"<{e}{i}/x> <{e}p> <{e}o> .\n" for i in range(reason._MOST_PREFIXES + 1)]
    assert reason._by_subject_prefix(many) == {None: many}


def test_a_batch_s_lines_of_a_subject_prefix_the_store_lacks_go_straight_in() -> None:
    """Of a key the store holds, the lines whose subject's prefix it holds none of are new
    (not staged); the others are staged and asked: only the new ones are kept."""
    e = "https://w3id.org/exomirkg/"
    held = f"<{e}finding_1> <{e}p> <{e}o> .\n"
    reasoner = reason._Reasoner(held.encode(), [], "reasonable")
    staged: list[str] = []
    real = reasoner._stage

    def stage(lines: list[str]) -> None:
        staged.extend(lines)
        real(lines)
    reasoner._stage = stage  # type: ignore[method-assign]
    new = [f"<{e}link_a_b> <{e}p> <{e}o> .\n", f"<{e}finding_2> <{e}p> <{e}o3> .\n"]
    rule = reason.load_rules()[0]
    assert reasoner._take([rule], ["".join([held, *new]).encode()]) == 2
    assert sorted(staged) == sorted([held, new[1]])  # the finding_ prefix is held
    inferred = reasoner.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                                   from_graph=reason._INFERRED).decode()
    assert sorted(inferred.splitlines(keepends=True)) == sorted(new)
