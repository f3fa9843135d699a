"""Curation fixes of issue 13, each pinned by a SPARQL query against the real build.

Every test quotes the sentence of the review it rests on (triples/source/) and asserts the
corrected facts; run on the data before the fix, each fails. Sections of the issue: §2 state
things at the granularity the review states them; §3 sound inference (the check
validation/checks/link-support-other-drug-violation.rq guards the rest); §4 the curation
defects; §5 pathways as written, biomarker polarity, drug classes.
"""

from __future__ import annotations

import pyoxigraph
import pytest

from exomirkg import paths
from exomirkg.explain import explain_drug
from exomirkg.namespaces import EKG, GRAPH_INFERRED, section_graph
from exomirkg.stats import class_counts

PREFIXES = f"""PREFIX ekg: <{EKG}>
PREFIX obo: <http://purl.obolibrary.org/obo/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX oboInOwl: <http://www.geneontology.org/formats/oboInOwl#>
"""


def _local(term: object) -> str:
    value = str(getattr(term, "value", term))
    return value.removeprefix(str(EKG))


def _select(store: pyoxigraph.Store, query: str) -> set[tuple[str, ...]]:
    """Rows of a SELECT (prefixes added) as tuples of local names or plain values."""
    result = store.query(PREFIXES + query, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return {tuple(_local(row[n]) if row[n] is not None else "" for n in names) for row in result}


def _values(store: pyoxigraph.Store, subject: str, predicate: str) -> set[str]:
    return {row[0] for row in _select(store, f"SELECT ?o WHERE {{ {subject} {predicate} ?o }}")}


def _ask(store: pyoxigraph.Store, where: str) -> bool:
    return bool(store.query(PREFIXES + f"ASK {{ {where} }}", use_default_graph_as_union=True))


def _normalise(text: str) -> str:
    return " ".join(text.split())


REVIEW = _normalise(paths.REVIEW_TEXT_FILE.read_text(encoding="utf-8"))


def _assert_quotes_verbatim(quotes: set[str]) -> None:
    assert quotes, "expected at least one ekg:quote"
    for quote in quotes:
        assert _normalise(quote) in REVIEW, f"not verbatim in the review: {quote!r}"


# --- §2: the ABC-transporter substrates are a statement about the family --------------------


def test_abc_substrates_are_stated_of_the_family_never_of_its_members(
        store: pyoxigraph.Store) -> None:
    """§2.4: "Several cytotoxic drugs, such as cisplatin, paclitaxel, and doxorubicin, are
    substrates to ABC transporters [80]." The review never says ABCB1 (or ABCC1, ABCG2)
    exports cisplatin: no member-level ekg:exportsDrug, three family-level statements."""
    assert not _ask(store, "?member ekg:exportsDrug ?drug"), (
        "a member-level ekg:exportsDrug expands the review's family-level statement")
    assert _values(store, "ekg:abc_transporters", "ekg:familyExportsDrug") == {
        "cisplatin", "paclitaxel", "doxorubicin"}
    rows = _select(store, """SELECT ?drug ?quote ?part ?ref WHERE {
        ?statement a ekg:Statement ; ekg:statementSubject ekg:abc_transporters ;
            ekg:statementPredicate ekg:familyExportsDrug ; ekg:statementObject ?drug ;
            ekg:quote ?quote ; ekg:statedIn ?part ; ekg:supportingReference ?ref }""")
    assert {r[0] for r in rows} == {"cisplatin", "paclitaxel", "doxorubicin"}
    assert {r[2] for r in rows} == {"section_2_4"}
    assert "reference_80" in {r[3] for r in rows}
    quotes = {r[1] for r in rows}
    assert ("Several cytotoxic drugs, such as cisplatin, paclitaxel, and doxorubicin, are "
            "substrates to ABC transporters [80].") in quotes
    _assert_quotes_verbatim(quotes)


# --- §3: sound inference, explained by what entails it --------------------------------------


def _support(store: pyoxigraph.Store, link: str) -> set[str]:
    return _values(store, f"ekg:{link}", "prov:wasDerivedFrom")


def test_inferred_links_and_class_level_links(store: pyoxigraph.Store) -> None:
    """54 explanation nodes (55 before issue 13: oxaliplatin -> reduced drug efflux is gone,
    cisplatin's pathway is AKT1/mTOR as written); two rest only on class-level statements."""
    links = _select(store, f"SELECT ?l WHERE {{ GRAPH <{GRAPH_INFERRED}> "
                           "{ ?l a ekg:InferredLink } }")
    assert len(links) == 54, sorted(links)
    weaker = _select(store, "SELECT ?l WHERE { ?l a ekg:ClassLevelInferredLink }")
    assert weaker == {("link_cisplatin_drug_efflux",), ("link_doxorubicin_drug_efflux",)}


#: The findings about no particular drug whose exosomes carry the ABC transporter family and
#: name drug efflux: §2.4 [81] (with Figure 3, the abstract and §3) and §1's route 2 [16,17].
ABC_FAMILY_FINDINGS = {"finding_2_4_resistant_cell_exosomes_abc_transporters",
                       "finding_1_tumour_exosomes_route_drug_efflux_pumps"}


@pytest.mark.parametrize("drug", ["cisplatin", "doxorubicin"])
def test_efflux_link_of_a_named_substrate_rests_on_the_family_statement(
        store: pyoxigraph.Store, drug: str) -> None:
    """Cisplatin and doxorubicin -> drug efflux were built from the docetaxel/paclitaxel
    P-glycoprotein findings. What the review states: they are substrates of ABC transporters
    [80], and "Exosomes induce drug resistance by carrying ABC transporters, which export
    chemotherapeutic agents out of the recipient cells" (abstract; §2.4 [81]), and §1's second
    route, "transport of drug efflux pumps" [16,17]. A class-level link, supported only by
    these findings about no particular drug."""
    link = f"link_{drug}_drug_efflux"
    assert _support(store, link) == ABC_FAMILY_FINDINGS
    assert _values(store, f"ekg:{link}", "ekg:classLevelSupport") == ABC_FAMILY_FINDINGS
    assert _ask(store, f"ekg:{link} a ekg:ClassLevelInferredLink")
    assert _values(store, f"ekg:{drug}", "ekg:exposedToEffluxVia") == {"abc_transporters"}
    text = explain_drug(store, drug, "drug efflux")
    for expected in ("strength: class-level, weaker", "basis:      class-level",
                     f"ABC transporters export {drug} (class-level",
                     "statement:  [80] doi:10.1186/s13048-016-0278-z"):
        assert expected in text, f"explanation lacks {expected!r}:\n{text}"
    for other in ("mcf_7_abcb1_docetaxel", "prostate_abcb1_docetaxel", "a2780_abcb1_paclitaxel",
                  "resistant_cell_exosomes_p_glycoprotein"):
        assert other not in text, f"{drug}'s explanation cites {other}, about another drug"


def test_paclitaxel_efflux_link_rests_on_its_own_finding_and_the_family_statement(
        store: pyoxigraph.Store) -> None:
    """§2.4: "A2780 human ovarian cancer cells became unresponsive to paclitaxel after the
    exosomal transfer of P-glycoprotein from paclitaxel-resistant A2780 cells [84]" (about
    paclitaxel) and the ABC family finding (paclitaxel is a named substrate); never the
    docetaxel studies [82, 83]. A finding about the drug makes it drug-level."""
    assert _support(store, "link_paclitaxel_drug_efflux") == {
        "finding_2_4_a2780_abcb1_paclitaxel", *ABC_FAMILY_FINDINGS}
    assert not _ask(store, "ekg:link_paclitaxel_drug_efflux a ekg:ClassLevelInferredLink")
    text = explain_drug(store, "paclitaxel", "drug efflux")
    assert "strength: drug-level" in text and "basis:      finding about the drug" in text


def test_oxaliplatin_has_no_reduced_drug_efflux_link(store: pyoxigraph.Store) -> None:
    """§2.5: "miR-128-3p suppressed EMT by upregulating E-cadherin levels and increasing the
    intracellular oxaliplatin concentration in colorectal cancer cells [101]" names no
    mechanism for the concentration: no drug-efflux-reduction mechanism, no link."""
    assert _values(store, "ekg:finding_2_5_intestinal_mir_128_3p_oxaliplatin",
                   "ekg:viaMechanism") == {"emt_suppression"}
    assert not _ask(store, "ekg:oxaliplatin ?p ekg:drug_efflux_reduction")
    assert not _ask(store, "ekg:link_oxaliplatin_drug_efflux_reduction ?p ?o")


# --- §4: curation defects ------------------------------------------------------------------


def _quotes(store: pyoxigraph.Store, finding: str) -> set[str]:
    return _values(store, f"ekg:{finding}", "ekg:quote")


def test_mir_1247_3p_sorafenib_names_no_resistant_recipient_and_cites_only_its_study(
        store: pyoxigraph.Store) -> None:
    """§2.2: "exosomal miR-1247-30 from HCC cells induced CAF activation in the fibroblasts of
    a lung pre-metastatic niche, leading to ... therapy resistance to sorafenib treatment [33]".
    The fibroblasts are the activated recipients (the CAF-activation finding), not the cells
    made resistant; the IL-6 sentence [34] is another study, its own finding."""
    finding = "finding_2_2_hcc_mir_1247_3p_sorafenib"
    assert _values(store, f"ekg:{finding}", "ekg:recipientCellType") == set()
    assert _values(store, f"ekg:{finding}", "ekg:recipientDescription") == set()
    assert _values(store, f"ekg:{finding}", "ekg:supportingReference") == {"reference_33"}
    assert _values(store, f"ekg:{finding}", "ekg:concernsDrug") == {"sorafenib"}
    assert _values(store, f"ekg:{finding}", "ekg:hasEffect") == {"confers_resistance"}
    quotes = _quotes(store, finding)
    assert not any("[34]" in q for q in quotes)
    _assert_quotes_verbatim(quotes)
    assert _values(store, "ekg:finding_2_2_hcc_mir_1247_3p_caf_activation",
                   "ekg:recipientCellType") == {"fibroblast"}
    assert _values(store, "ekg:finding_2_2_il6_sorafenib_biomarker",
                   "ekg:supportingReference") == {"reference_34"}


def test_tme_finding_does_not_make_stromal_cells_resistant(store: pyoxigraph.Store) -> None:
    """§2.2: "the TME may alter the chemotherapy response in favor of a drug-resistant
    phenotype by different mechanisms [24]. In the TME, tumor-derived exosomes mediate
    communication between the tumor and stromal cells, contributing to therapy evasion" [8]."""
    finding = "finding_2_2_tme_alters_chemotherapy_response"
    assert _values(store, f"ekg:{finding}", "ekg:recipientCellType") == set()
    _assert_quotes_verbatim(_quotes(store, finding))


def test_cells_undergoing_emt_are_a_cell_state(store: pyoxigraph.Store) -> None:
    """§2.5: "EMT is the process by which carcinoma cells lose their apical-basal polarity
    ... Due to the highly invasive acquired phenotype, EMT cells are directly associated with
    cancer progression, metastasis, and drug resistance"; "cells undergoing EMT"."""
    state = "ekg:cell_undergoing_emt"
    assert _ask(store, f"{state} a ekg:CellState , ekg:CellType")
    assert _values(store, state, "ekg:stateOfCellType") == {"malignant_cell"}
    assert _values(store, state, "ekg:undergoesProcess") == {"epithelial_mesenchymal_transition"}
    labels = _values(store, state, "skos:altLabel")
    assert {"EMT cells", "cells undergoing EMT"} <= labels
    for label in labels:
        assert _normalise(label) in REVIEW


def test_emt_statements_have_the_emt_cells_as_subject(store: pyoxigraph.Store) -> None:
    """§2.5: "EMT has a close connection to CSCs, including expression of the same surface
    markers CD44+ and CD24-/low [92] as well as activation of similar signaling pathways, such
    as Hedgehog, Wnt, and Notch [88]"; "cells undergoing EMT have been reported to express high
    levels of ABC transporters, including P-glycoprotein [93,94]". The subject is the EMT
    cells, not the CSCs (which section 2.4 gives the same markers [64])."""
    for finding in ("finding_2_5_emt_csc_shared_pathways",
                    "finding_2_5_emt_cells_abc_transporters"):
        assert _values(store, f"ekg:{finding}", "ekg:sourceCellType") == {"cell_undergoing_emt"}
        assert _values(store, f"ekg:{finding}", "ekg:recipientCellType") == set()
        _assert_quotes_verbatim(_quotes(store, finding))
    shared = "ekg:finding_2_5_emt_csc_shared_pathways"
    assert _values(store, shared, "ekg:activatesPathway") == {
        "hedgehog_signaling", "wnt_signaling", "notch_signaling"}
    assert _values(store, shared, "ekg:viaMechanism") == {"metastasis_promotion"}
    markers = _select(store, f"""SELECT ?cell ?level ?marker WHERE {{
        GRAPH <{section_graph('s2-5-emt')}> {{
          {{ ?cell ekg:hasHighMarker ?marker . BIND("high" AS ?level) }}
          UNION {{ ?cell ekg:hasLowMarker ?marker . BIND("low" AS ?level) }} }} }}""")
    assert markers == {("cell_undergoing_emt", "high", "cd44"),
                       ("cell_undergoing_emt", "low", "cd24")}
    quotes = _select(store, """SELECT ?quote WHERE { ?a ekg:statementSubject
        ekg:cell_undergoing_emt ; ekg:statedIn ekg:section_2_5 ; ekg:quote ?quote }""")
    _assert_quotes_verbatim({q[0] for q in quotes})


def test_section_3_general_finding_names_no_source_and_cites_only_its_sentence(
        store: pyoxigraph.Store) -> None:
    """§3: "exosomal miRNAs can modulate several different molecular mechanisms and signaling
    pathways of neighboring cancer cells or TME-associated cells. This influence can either
    induce cancer growth, metastasis, and therapy resistance or inhibit the expression of tumor
    suppressors [116]." No source cell is named; [117,118] and [119] cite other sentences,
    now statements of their own."""
    finding = "finding_3_exosomal_mirnas_growth_metastasis_resistance"
    assert _values(store, f"ekg:{finding}", "ekg:sourceCellType") == set()
    assert _values(store, f"ekg:{finding}", "ekg:supportingReference") == {"reference_116"}
    _assert_quotes_verbatim(_quotes(store, finding))
    rows = _select(store, """SELECT ?entity ?property ?ref ?quote WHERE {
        ?a a ekg:Statement ; ekg:statementSubject ?entity ; ekg:statementPredicate ?property ;
           ekg:statedIn ekg:section_3 ; ekg:supportingReference ?ref ; ekg:quote ?quote
        FILTER (?ref IN (ekg:reference_117, ekg:reference_118, ekg:reference_119)) }""")
    comment = "http://www.w3.org/2000/01/rdf-schema#comment"
    assert {(r[0], r[1], r[2]) for r in rows} == {
        ("malignant_cell", "hasElevatedProcess", "reference_117"),
        ("malignant_cell", "hasElevatedProcess", "reference_118"),
        ("exosome_biogenesis", comment, "reference_119")}
    _assert_quotes_verbatim({r[3] for r in rows})


@pytest.mark.parametrize("mirna", ["mir_155", "mir_210"])
def test_table_1_row_9_records_no_recipient(store: pyoxigraph.Store, mirna: str) -> None:
    """Table 1 row 9: "Pancreatic cancer cells miR-155, miR-210 Involved in promoted ROS
    detoxification and gemcitabine resistance [37,137]": no recipient is printed (as row 3)."""
    finding = f"ekg:finding_table_1_row_9_{mirna}"
    assert _values(store, finding, "ekg:recipientCellType") == set()
    assert _values(store, finding, "ekg:recipientDescription") == set()
    assert _values(store, finding, "ekg:sourceCellType") == {"malignant_cell"}


def test_diagnosis_and_prognosis_biomarkers_are_not_drug_response_biomarkers(
        store: pyoxigraph.Store) -> None:
    """§4: "exosomal miRNAs can be used as potential cancer biomarkers for diagnosis and
    prognosis in a broad or tumor-specific way" - no drug response is stated."""
    finding = "ekg:finding_4_exosomal_mirnas_biomarkers"
    assert _values(store, finding, "ekg:hasEffect") == {"biomarker_of_disease"}
    assert _ask(store, "ekg:biomarker_of_disease a ekg:Effect ; skos:definition ?d")
    assert not _ask(store, "ekg:biomarker_of_disease a ekg:ResistanceEffect")


def test_mir_128_3p_conclusion_rests_only_on_its_retracted_study(
        store: pyoxigraph.Store) -> None:
    """§4 (uncited): "miR-128-3p and miR-425-3p act as drug resistance mediators in colorectal
    and lung cancer, respectively". The only miR-128-3p study is ref 101 (retracted); ref 130
    is, by its title, the miR-31-5p study ("FOXC1 Regulation of miR-31-5p Confers Oxaliplatin
    Resistance ...")."""
    finding = "ekg:finding_4_mir_128_3p_colorectal_resistance"
    assert _values(store, finding, "ekg:supportingReference") == {"reference_101"}
    assert _ask(store, f"{finding} ekg:restsOnlyOnRetractedReferences true")
    assert "miR-31-5p" in next(iter(_values(store, "ekg:reference_130", "dcterms:title")))


def test_table_1_mir_151a_conflicts_with_its_cited_study(store: pyoxigraph.Store) -> None:
    """Table 1 row 4: "Glioblastoma cells miR-1238 miR-151a Involved in transferred
    temozolomide resistance to sensitive glioblastoma cells [132,133]"; ref 133: "Exosomal
    transfer of miR-151a enhances chemosensitivity to temozolomide in drug-resistant
    glioblastoma". Kept as printed, the conflict flagged (as for miR-128-3p and ref 101)."""
    rows = _select(store, """SELECT ?finding ?ref WHERE {
        ?finding ekg:contradictedByCitedReference ?ref ; ekg:conflictNote ?note }""")
    assert ("finding_table_1_row_4_mir_151a", "reference_133") in rows
    assert ("finding_table_1_row_2_mir_128_3p", "reference_101") in rows
    title = next(iter(_values(store, "ekg:reference_133", "dcterms:title")))
    assert "miR-151a enhances chemosensitivity to temozolomide" in title
    finding = "ekg:finding_table_1_row_4_mir_151a"
    assert _values(store, finding, "ekg:hasEffect") == {"transfers_resistance"}
    assert _values(store, finding, "ekg:supportingReference") == {"reference_132",
                                                                  "reference_133"}


# --- §5: pathways as written, biomarker polarity, drug classes -------------------------------


def test_akt1_mtor_is_the_pathway_as_written(store: pyoxigraph.Store) -> None:
    """§2.6: miR-425-3p "via targeting the AKT1/mTOR signaling pathway" [113]; §2.4: miR-210
    "by targeting the mTOR signaling pathway" [37]. Two individuals, related."""
    assert _values(store, "ekg:finding_2_6_nsclc_mir_425_3p_cisplatin",
                   "ekg:affectsPathway") == {"akt1_mtor_signaling"}
    assert _values(store, "ekg:finding_2_4_csc_mir_210_gemcitabine",
                   "ekg:affectsPathway") == {"mtor_signaling"}
    assert _values(store, "ekg:akt1_mtor_signaling", "rdfs:label") == {"AKT1/mTOR signaling"}
    assert _values(store, "ekg:akt1_mtor_signaling", "ekg:subPathwayOf") == {"mtor_signaling"}
    assert "AKT1/mTOR signaling pathway" not in _values(store, "ekg:mtor_signaling",
                                                        "skos:altLabel")
    # Links stay on the pathway the review names; a query can follow ekg:subPathwayOf.
    assert _ask(store, "ekg:link_cisplatin_akt1_mtor_signaling a ekg:InferredLink")
    assert not _ask(store, "ekg:link_cisplatin_mtor_signaling ?p ?o")
    drugs = _select(store, """SELECT ?drug WHERE {
        ?drug ekg:resistanceViaPathway ?p . ?p ekg:subPathwayOf* ekg:mtor_signaling }""")
    assert drugs == {("cisplatin",), ("gemcitabine",)}


def test_biomarker_polarity_is_queryable(store: pyoxigraph.Store) -> None:
    """§2.2: "the expression of inflammatory interleukins, such as IL-6, is directly associated
    with poor clinical prognosis and therapeutic inefficacy of sorafenib in HCC patients [34]";
    §2.6: "cells from trastuzumab-resistant breast cancer patients showed a significantly lower
    expression of exosomal miR-567 in comparison with sensitive patients"."""
    rows = _select(store, """SELECT ?markerLabel ?level ?outcomeLabel ?drugLabel WHERE {
        ?f ekg:biomarkerLevel ?l ; ekg:biomarkerOutcome ?o ; ekg:concernsDrug ?d .
        { ?f ekg:biomarkerGene ?m } UNION { ?f ekg:hasMiRNA ?m }
        ?m rdfs:label ?markerLabel . ?l skos:altLabel ?level . ?o rdfs:label ?outcomeLabel .
        ?d rdfs:label ?drugLabel }""")
    assert rows == {("IL6", "high", "drug resistance", "sorafenib"),
                    ("miR-567", "low", "drug resistance", "trastuzumab")}


def test_kinase_inhibitors_and_monoclonal_antibodies(store: pyoxigraph.Store) -> None:
    """Classes a user expects next to platinum drug, taxane, anthracycline: sorafenib by its
    ChEBI role (tyrosine kinase inhibitor, CHEBI:38637, in shared/reference); gefitinib and
    trastuzumab by standard pharmacology, marked as a curator reading (ECO:0000305), not as
    a statement of the review; no class ID outside the reference table."""
    members = _select(store, """SELECT ?class ?drug WHERE {
        VALUES ?class { ekg:KinaseInhibitor ekg:MonoclonalAntibody } ?drug a ?class }""")
    assert members == {("KinaseInhibitor", "sorafenib"), ("KinaseInhibitor", "gefitinib"),
                       ("MonoclonalAntibody", "trastuzumab")}
    marked = _select(store, """SELECT ?drug ?class ?note WHERE {
        ?a ekg:statementSubject ?drug ; ekg:statementPredicate rdf:type ;
           ekg:statementObject ?class ; obo:RO_0002558 obo:ECO_0000305 ;
           skos:editorialNote ?note }""")
    assert {(r[0], r[1]) for r in marked} == {("gefitinib", "KinaseInhibitor"),
                                              ("trastuzumab", "MonoclonalAntibody")}
    assert all(r[2].startswith("Standard pharmacology, not a statement of the review")
               for r in marked)
    assert _ask(store, "ekg:sorafenib ekg:hasRole ekg:role_tyrosine_kinase_inhibitor . "
                       "ekg:role_tyrosine_kinase_inhibitor skos:exactMatch obo:CHEBI_38637")
    assert not _ask(store, "VALUES ?c { ekg:KinaseInhibitor ekg:MonoclonalAntibody } "
                           "?c skos:exactMatch|skos:closeMatch|oboInOwl:hasDbXref ?id")


# --- §5: what lived only in quotes and labels is structured ---------------------------------

#: The roles of a finding compared by _roles (its provenance apart from part and references,
#: and its labels and notes, are checked separately).
_ROLE_SKIP = {"quote", "label", "editorialNote", "source", "RO_0002558", "type"}


def _roles(store: pyoxigraph.Store, finding: str) -> dict[str, set[str]]:
    """Every asserted property of the finding (local name) with its values, bar quotes,
    labels and notes (inferred super-properties such as ekg:hasCargo are not roles)."""
    roles: dict[str, set[str]] = {}
    for prop, value in _select(store, f"""SELECT ?p ?o WHERE {{
            GRAPH ?g {{ ekg:{finding} ?p ?o }} FILTER (?g != <{GRAPH_INFERRED}>) }}"""):
        name = prop.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if name not in _ROLE_SKIP:
            roles.setdefault(name, set()).add(value)
    return roles


def _statement(store: pyoxigraph.Store, subject: str, predicate: str,
               obj: str) -> dict[str, set[str]]:
    """The asserted triple must hold; the evidence of the ekg:Statement naming it."""
    assert _ask(store, f"ekg:{subject} {predicate} ekg:{obj}"), (
        f"ekg:{subject} {predicate} ekg:{obj} is not asserted")
    rows = _select(store, f"""SELECT ?s ?part ?ref ?eco ?quote WHERE {{
        ?s a ekg:Statement ; ekg:statementSubject ekg:{subject} ;
           ekg:statementPredicate {predicate} ; ekg:statementObject ekg:{obj} ;
           ekg:statedIn ?part ; ekg:supportingReference ?ref ; obo:RO_0002558 ?eco ;
           ekg:quote ?quote }}""")
    assert rows, f"no ekg:Statement names ekg:{subject} {predicate} ekg:{obj}"
    return {key: {r[i] for r in rows}
            for i, key in enumerate(("statement", "part", "ref", "eco", "quote"))}


CAF_SENTENCE = ("Recently, tumor-derived exosomes have been reported to play a substantial role "
                "in the differentiation of TME fibroblasts into cancer-associated fibroblasts "
                "(CAFs), which promote tumor growth, pro-angiogenic, invasive, and drug-resistant "
                "phenotypes [25,26,27].")


def test_caf_phenotypes_are_two_findings_about_cafs(store: pyoxigraph.Store) -> None:
    """§2.2 [25,26,27]: CAFs "promote tumor growth, pro-angiogenic, invasive, and
    drug-resistant phenotypes". Two results (one effect each), about CAFs themselves."""
    refs = {"reference_25", "reference_26", "reference_27"}
    assert _roles(store, "finding_2_2_cafs_promote_growth_angiogenic_invasive_phenotypes") == {
        "sourceCellType": {"cancer_associated_fibroblast"},
        "hasEffect": {"promotes_malignant_phenotype"},
        "viaMechanism": {"proliferation_promotion", "angiogenesis_promotion",
                         "invasion_promotion"},
        "statedIn": {"section_2_2"}, "supportingReference": refs}
    assert _roles(store, "finding_2_2_cafs_promote_drug_resistance") == {
        "sourceCellType": {"cancer_associated_fibroblast"},
        "hasEffect": {"confers_resistance"},
        "statedIn": {"section_2_2"}, "supportingReference": refs}
    for finding in ("finding_2_2_cafs_promote_growth_angiogenic_invasive_phenotypes",
                    "finding_2_2_cafs_promote_drug_resistance"):
        assert _ask(store, f"ekg:{finding} a ekg:GeneralFinding ; "
                           "obo:RO_0002558 obo:ECO_0000304")
        assert _quotes(store, finding) == {CAF_SENTENCE}
    _assert_quotes_verbatim({CAF_SENTENCE})


ROUTES_SENTENCE = ("Drug resistance induced by tumoral exosomes is mediated through different "
                   "routes, such as direct drug export, transport of drug efflux pumps, and "
                   "signaling of miRNAs [16,17].")


def test_three_routes_of_exosome_induced_resistance_are_one_finding_each(
        store: pyoxigraph.Store) -> None:
    """§1 [16,17]: "direct drug export, transport of drug efflux pumps, and signaling of
    miRNAs". Route 2's pumps are the ABC transporters (the review's own equation, Figure 3:
    "ABC transporters (drug efflux pumps)"), at the family level."""
    common = {"sourceCellType": {"malignant_cell"}, "sourceDescription": {"tumoral exosomes"},
              "hasEffect": {"confers_resistance"}, "statedIn": {"section_1"},
              "supportingReference": {"reference_16", "reference_17"}}
    routes = {
        "finding_1_tumour_exosomes_route_direct_drug_export": {
            "affectsProcess": {"drug_efflux_process"}},
        "finding_1_tumour_exosomes_route_drug_efflux_pumps": {
            "hasCargoFamily": {"abc_transporters"}, "viaMechanism": {"drug_efflux"}},
        "finding_1_tumour_exosomes_route_mirna_signaling": {
            "affectsProcess": {"exosome_mediated_signaling"}},
    }
    for finding, own in routes.items():
        assert _roles(store, finding) == {**common, **own}, finding
        assert _quotes(store, finding) == {ROUTES_SENTENCE}
        assert _ask(store, f"ekg:{finding} a ekg:GeneralFinding")
    got = _select(store, """SELECT ?f WHERE { ?f ekg:quote ?q
        FILTER (CONTAINS(?q, "different routes, such as direct drug export")) }""")
    assert got == {(f,) for f in routes}, "the routes sentence belongs to the three routes only"
    _assert_quotes_verbatim({ROUTES_SENTENCE})


PI3K_SENTENCE = ("The PI3K/AKT signaling pathway is directly associated with macrophage "
                 "polarization, thereby promoting cancer migration, invasion, and drug "
                 "resistance [57].")


def test_pi3k_akt_macrophage_polarization_promotes_migration_invasion_and_resistance(
        store: pyoxigraph.Store) -> None:
    """§2.3 [57]: PI3K/AKT and macrophage polarization "thereby promoting cancer migration,
    invasion, and drug resistance": two findings (phenotype, resistance), besides the
    statement that PI3K/AKT leads to TAM polarization."""
    common = {"sourceCellType": {"tumour_associated_macrophage"},
              "recipientCellType": {"malignant_cell"},
              "affectsPathway": {"pi3k_akt_signaling"}, "statedIn": {"section_2_3"},
              "supportingReference": {"reference_57"}}
    assert _roles(store, "finding_2_3_pi3k_akt_macrophage_polarization_migration_invasion") == {
        **common, "hasEffect": {"promotes_malignant_phenotype"},
        "viaMechanism": {"tam_polarization", "migration_promotion", "invasion_promotion"}}
    assert _roles(store, "finding_2_3_pi3k_akt_macrophage_polarization_drug_resistance") == {
        **common, "hasEffect": {"confers_resistance"}, "viaMechanism": {"tam_polarization"}}
    for finding in ("finding_2_3_pi3k_akt_macrophage_polarization_migration_invasion",
                    "finding_2_3_pi3k_akt_macrophage_polarization_drug_resistance"):
        assert _quotes(store, finding) == {PI3K_SENTENCE}
    evidence = _statement(store, "pi3k_akt_signaling", "ekg:pathwayPromotesMechanism",
                          "tam_polarization")
    assert evidence["quote"] == {PI3K_SENTENCE} and evidence["ref"] == {"reference_57"}
    _assert_quotes_verbatim({PI3K_SENTENCE})


def test_csc_abc_overexpression_names_the_family_not_its_members(
        store: pyoxigraph.Store) -> None:
    """§2.4 [70,78]: "CSCs can also enhance multidrug resistance in many types of tumors due to
    the overexpression of ATP-binding cassette (ABC) transporters". The family, at the family
    level (ekg:upregulatesGeneFamily), as for §2.5's cells undergoing EMT [93,94]."""
    finding = "finding_2_4_csc_abc_overexpression_multidrug_resistance"
    assert _roles(store, finding) == {
        "sourceCellType": {"cancer_stem_cell"}, "hasEffect": {"enhances_resistance"},
        "upregulatesGeneFamily": {"abc_transporters"}, "viaMechanism": {"drug_efflux"},
        "statedIn": {"section_2_4"}, "supportingReference": {"reference_70", "reference_78"}}
    quotes = _quotes(store, finding)
    assert ("Despite the horizontal transfer of miRNAs to neighboring cells mediated by "
            "exosomes, CSCs can also enhance multidrug resistance in many types of tumors due "
            "to the overexpression of ATP-binding cassette (ABC) transporters [70,78].") in quotes
    _assert_quotes_verbatim(quotes)
    assert _values(store, "ekg:finding_2_5_emt_cells_abc_transporters",
                   "ekg:upregulatesGeneFamily") == {"abc_transporters"}
    # Never expanded into the members.
    assert not _ask(store, f"ekg:{finding} ekg:upregulatesGene ?gene")
    assert _select(store, """SELECT ?f WHERE { ?f ekg:upregulatesGeneFamily ?family }""") == {
        (finding,), ("finding_2_5_emt_cells_abc_transporters",)}


MIR_223_SENTENCE = ("For instance, TAMs are capable of conferring malignant phenotypes and "
                    "enhancing drug resistance to epithelial ovarian cancer cells through the "
                    "transfer of exosomes carrying miR-223 [61].")


def test_tam_mir_223_malignant_phenotypes_is_its_own_finding(store: pyoxigraph.Store) -> None:
    """§2.3 [61]: TAMs "conferring malignant phenotypes and enhancing drug resistance" through
    exosomal miR-223: two results; the resistance one keeps Table 1 row 16 (cisplatin)."""
    common = {"sourceCellType": {"tumour_associated_macrophage"}, "hasMiRNA": {"mir_223"},
              "recipientCellType": {"malignant_cell"},
              "recipientDescription": {"epithelial ovarian cancer cells"},
              "inCancerType": {"epithelial_ovarian_cancer", "ovarian_cancer"},
              "supportingReference": {"reference_61"}}
    assert _roles(store, "finding_2_3_tam_mir_223_malignant_phenotypes") == {
        **common, "hasEffect": {"promotes_malignant_phenotype"}, "statedIn": {"section_2_3"}}
    assert _quotes(store, "finding_2_3_tam_mir_223_malignant_phenotypes") == {MIR_223_SENTENCE}
    assert _roles(store, "finding_2_3_tam_mir_223_cisplatin") == {
        **common, "hasEffect": {"enhances_resistance"}, "concernsDrug": {"cisplatin"},
        "statedIn": {"section_2_3", "table_1_row_16"}}
    assert MIR_223_SENTENCE in _quotes(store, "finding_2_3_tam_mir_223_cisplatin")
    _assert_quotes_verbatim({MIR_223_SENTENCE})


def test_tumour_cells_release_more_exosomes_is_a_triple(store: pyoxigraph.Store) -> None:
    """§3 [117,118]: "Tumor cells release more exosomes into the TME than non-tumoral cells",
    once an rdfs:comment on exosome secretion, now a queryable triple with its statement."""
    evidence = _statement(store, "malignant_cell", "ekg:hasElevatedProcess",
                          "exosome_secretion")
    assert evidence["part"] == {"section_3"}
    assert evidence["ref"] == {"reference_117", "reference_118"}
    assert evidence["eco"] == {"http://purl.obolibrary.org/obo/ECO_0000304"}
    assert evidence["quote"] == {
        "Tumor cells release more exosomes into the TME than non-tumoral cells, which means "
        "that the circulating level of exosomes in the TME is abundant [117,118]."}
    _assert_quotes_verbatim(evidence["quote"])
    assert not _ask(store, "ekg:exosome_secretion rdfs:comment ?comment")


def test_exosomes_are_key_mediators_of_tumour_tme_communication(
        store: pyoxigraph.Store) -> None:
    """§4 (uncited): "exosomes are key extracellular mediators of the communication between
    tumor cells and the TME during different cancer stages"; one triple per partner."""
    quote = ("Here, we presented a plethora of evidence that exosomes are key extracellular "
             "mediators of the communication between tumor cells and the TME during different "
             "cancer stages, including cancer progression and metastasis.")
    assert _values(store, "ekg:exosome", "ekg:mediatesCommunicationBetween") == {
        "malignant_cell", "tumour_microenvironment"}
    for partner in ("malignant_cell", "tumour_microenvironment"):
        evidence = _statement(store, "exosome", "ekg:mediatesCommunicationBetween", partner)
        assert evidence["part"] == {"section_4"} and evidence["ref"] == {"review"}
        assert evidence["eco"] == {"http://purl.obolibrary.org/obo/ECO_0000352"}
        assert evidence["quote"] == {quote}
    _assert_quotes_verbatim({quote})


#: Claims only a figure caption makes: caption finding -> (body finding, the caption's own
#: roles, the body finding's roles, the caption sentence).
CAPTION_SPLITS = {
    "finding_1_figure_1_exosomes_angiogenesis_t_cell_suppression": (
        "finding_1_tumour_exosomes_hallmarks", "figure_1",
        {"recipientCellType": {"t_cell"}, "affectsProcess": {"antitumor_immune_response"},
         "viaMechanism": {"angiogenesis_promotion", "immune_suppression"}},
        "Cancer-derived exosomes are able to promote angiogenesis and to suppress the antitumor "
        "immune response of T cells."),
    "finding_2_2_figure_2_caf_exosomal_mirnas_resistance_mechanisms": (
        "finding_2_2_caf_exosomal_mirnas_resistance", "figure_2",
        {"recipientCellType": {"malignant_cell"},
         "viaMechanism": {"metastasis_promotion", "proliferation_promotion",
                          "apoptosis_inhibition", "cell_cycle_arrest_escape"}},
        "thereby exosomal miRNAs derived from CAFs confer drug resistance in cancer cells by "
        "inducing metastasis and proliferation and inhibiting the antitumor effects of "
        "cytotoxic drugs, such as apoptosis and cell cycle arrest."),
    "finding_2_4_figure_3_csc_exosomal_mirnas_foxo3a_mtor": (
        "finding_2_4_csc_exosomal_mirnas_transfer_resistance", "figure_3",
        {"downregulatesGene": {"foxo3"}, "activatesPathway": {"mtor_signaling"},
         "viaMechanism": {"apoptosis_inhibition"}},
        "Exosomal miRNAs secreted by CSCs are transferred to sensitive cancer cells and inhibit "
        "the pro-apoptotic property of FOXO3a and activates the mTOR signaling pathway, which "
        "is directly associated with inhibition of apoptosis and tumor progression, thereby "
        "blocking the drug-induced apoptosis."),
}


@pytest.mark.parametrize("caption_finding", sorted(CAPTION_SPLITS))
def test_a_claim_only_a_caption_makes_is_its_own_finding_stated_in_the_figure(
        store: pyoxigraph.Store, caption_finding: str) -> None:
    """Figures 1-3: where the caption says something the body does not (T cells; the CAF
    mechanisms; FOXO3a and mTOR), the caption's claim is its own finding, stated in the figure
    with the caption's sentence only (uncited: ECO:0000352); the body finding keeps the
    body's sentence and part, and none of the caption's roles."""
    body, figure, own, sentence = CAPTION_SPLITS[caption_finding]
    roles = _roles(store, caption_finding)
    assert roles["statedIn"] == {figure}
    assert roles["supportingReference"] == {"review"}
    assert {k: roles.get(k, set()) for k in own} == own
    assert _quotes(store, caption_finding) == {sentence}
    assert _ask(store, f"ekg:{caption_finding} obo:RO_0002558 obo:ECO_0000352")
    body_roles = _roles(store, body)
    assert figure not in body_roles["statedIn"]
    assert sentence not in _quotes(store, body)
    for prop in ("downregulatesGene", "activatesPathway", "affectsProcess"):
        if prop in own:
            assert prop not in body_roles, f"{body} keeps the caption's {prop}"
    if caption_finding != "finding_1_figure_1_exosomes_angiogenesis_t_cell_suppression":
        # The body sentence names no mechanism (the hallmarks sentence names its own).
        assert "viaMechanism" not in body_roles, body
    _assert_quotes_verbatim({sentence} | _quotes(store, body))


def test_reference_title_entities_are_marked_and_not_the_reviews(
        store: pyoxigraph.Store) -> None:
    """Entities named only in reference titles (4 miRNAs, 22 genes, tamoxifen, entinostat, ...)
    stay declared with labels and IDs, so the titles are searchable, but carry
    ekg:mentionedOnlyInReferenceTitle true: "the review's exosomal miRNAs" are 35, not 39."""
    marked = _select(store, """SELECT ?class ?label WHERE {
        ?e ekg:mentionedOnlyInReferenceTitle true ; a ?class ; rdfs:label ?label
        VALUES ?class { ekg:ExosomalMiRNA ekg:Gene ekg:Drug } }""")
    by_class: dict[str, set[str]] = {}
    for cls, label in marked:
        by_class.setdefault(cls, set()).add(label)
    assert by_class["ExosomalMiRNA"] == {"miR-16-5p", "miR-301a", "miR-30a", "miR-940"}
    assert by_class["Drug"] == {"tamoxifen", "entinostat"}
    assert len(by_class["Gene"]) == 22, sorted(by_class["Gene"])
    # Every marked entity says so in its note too, and no finding or statement uses it.
    assert not _select(store, """SELECT ?e WHERE { ?e ekg:mentionedOnlyInReferenceTitle true
        FILTER NOT EXISTS { ?e skos:editorialNote ?n
                            FILTER (CONTAINS(?n, "mentioned only in a reference title")) } }""")
    assert not _select(store, """SELECT ?e ?p WHERE { ?e ekg:mentionedOnlyInReferenceTitle true .
        { ?f a ekg:Finding ; ?p ?e } UNION { ?s a ekg:Statement ;
          ekg:statementSubject|ekg:statementObject ?e BIND (ekg:statementSubject AS ?p) } }""")
    assert not _select(store, """SELECT ?e WHERE { ?e skos:editorialNote ?n
        FILTER (STRSTARTS(?n, "mentioned only in a reference title"))
        FILTER NOT EXISTS { ?e ekg:mentionedOnlyInReferenceTitle true } }"""), (
        "an entity noted as mentioned only in a reference title lacks the marker")
    # Still findable by label and ID.
    assert _ask(store, 'ekg:tamoxifen rdfs:label "tamoxifen"@en ; '
                       'oboInOwl:hasDbXref "CHEBI:41774"')
    counts = class_counts(store)
    assert counts["ExosomalMiRNA"] == 35
    assert len(_select(store, "SELECT ?m WHERE { ?m a ekg:ExosomalMiRNA }")) == 39


def test_cell_interactions_in_the_tme_are_queryable(store: pyoxigraph.Store) -> None:
    """§1 [5]: "The interactions between tumor and non-tumor cells within the TME occur through
    direct cell-to-cell contact and secretion of soluble molecules, such as cytokines and
    chemokines". One value per way, in the review's words, each with its statement."""
    quote = ("The interactions between tumor and non-tumor cells within the TME occur through "
             "direct cell-to-cell contact and secretion of soluble molecules, such as cytokines "
             "and chemokines [5].")
    modes = {"direct cell-to-cell contact",
             "secretion of soluble molecules, such as cytokines and chemokines"}
    assert _values(store, "ekg:tumour_microenvironment", "ekg:cellInteractionMode") == modes
    rows = _select(store, """SELECT ?mode ?part ?ref ?quote WHERE {
        ?s a ekg:Statement ; ekg:statementSubject ekg:tumour_microenvironment ;
           ekg:statementPredicate ekg:cellInteractionMode ; ekg:statementObject ?mode ;
           ekg:statedIn ?part ; ekg:supportingReference ?ref ; ekg:quote ?quote ;
           obo:RO_0002558 obo:ECO_0000304 }""")
    assert rows == {(mode, "section_1", "reference_5", quote) for mode in modes}
    _assert_quotes_verbatim({quote})
