"""Every example query in server/queries/: well-formed, and its answer pinned from the review.

The expected answers below were read from the review (Santos & Almeida, Cells 2020), not
copied from what the graph returns; each test quotes the sentences it rests on. When one
fails, re-read the quoted sentence: fix the finding in triples/sections/ if the graph is
wrong, or this expectation if it was misread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
from rdflib.plugins.sparql import prepareQuery

from exomirkg import paths
from exomirkg.queries import parse_query_file, run_query

QUERY_FILES = sorted(paths.QUERIES_DIR.glob("*.rq"))
QUERIES = {path.stem: path for path in QUERY_FILES}

#: The only prefixes a query may declare, with their canonical IRIs.
CANONICAL_PREFIXES = {
    "ekg": "https://w3id.org/exomirkg/",
    "obo": "http://purl.obolibrary.org/obo/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
PREFIX_RE = re.compile(r"^\s*PREFIX\s+([\w-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)

#: Query names that have a pinned-answer test (filled by the @pins decorator below).
PINNED: set[str] = set()

CAF = "cancer-associated fibroblast"
TAM = "tumour-associated macrophage"
SIX_PGP_MIRNAS = {"miR-204-5p", "miR-139-5p", "miR-29c-5p", "miR-551b-3p", "miR-29b-2-5p",
                  "miR-204-3p"}


def pins(name: str) -> Callable:
    """Register a test as the pinned-answer test of one query file."""
    PINNED.add(name)
    return lambda func: func


def _rows(store: pyoxigraph.Store, name: str) -> list[dict[str, str]]:
    path = QUERIES.get(name)
    assert path is not None, f"server/queries/{name}.rq is missing"
    columns, rows = run_query(store, path.read_text(encoding="utf-8"))
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _tuples(store: pyoxigraph.Store, name: str, *columns: str) -> set[tuple[str, ...]]:
    return {tuple(row[c] for c in columns) for row in _rows(store, name)}


def _column(store: pyoxigraph.Store, name: str, column: str) -> set[str]:
    return {row[column] for row in _rows(store, name)}


def _assert_same(name: str, got: set, expected: set) -> None:
    """Compare answer sets; the message lists what is missing and what is unexpected."""
    missing, unexpected = sorted(expected - got), sorted(got - expected)
    assert not missing and not unexpected, (
        f"{name}.rq: missing {missing}, unexpected {unexpected}. Re-read the review sentence "
        f"quoted in the test: fix the finding in triples/sections/ if the graph is wrong.")


# ---------------------------------------------------------------------------
# Form: every .rq file (one case per file)
# ---------------------------------------------------------------------------


def test_there_are_at_least_25_example_queries() -> None:
    assert len(QUERY_FILES) >= 25, f"only {len(QUERY_FILES)} queries in {paths.QUERIES_DIR}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in QUERY_FILES])
def test_query_file_has_summary_and_parses(path: Path) -> None:
    query = parse_query_file(path)
    assert query.summary, f"{path}: add a '#+ summary: <the question in plain words>' line"
    assert query.description, f"{path}: add a '#+ description:' line citing the review section"
    assert query.tags, f"{path}: add '#+ tags:' with at least one '#+   - tag' line"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", path.stem), f"{path}: use a kebab-case name"
    prepareQuery(query.text)  # raises on a syntax error
    assert re.search(r"\bORDER\s+BY\b", query.text, re.IGNORECASE), (
        f"{path}: add ORDER BY so the answer order is stable")


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in QUERY_FILES])
def test_query_file_uses_only_canonical_prefixes(path: Path) -> None:
    declared = PREFIX_RE.findall(path.read_text(encoding="utf-8"))
    assert declared, f"{path}: declare the prefixes you use"
    for prefix, iri in declared:
        assert CANONICAL_PREFIXES.get(prefix) == iri, (
            f"{path}: PREFIX {prefix}: <{iri}> is not canonical; use one of "
            f"{CANONICAL_PREFIXES}")


def test_every_query_has_a_pinned_answer_test() -> None:
    unpinned = sorted(set(QUERIES) - PINNED)
    assert not unpinned, f"write a pinned-answer test in {__file__} for: {unpinned}"
    stale = sorted(PINNED - set(QUERIES))
    assert not stale, f"pinned tests name queries that do not exist: {stale}"


# ---------------------------------------------------------------------------
# Answers, pinned from the review (one test per query)
# ---------------------------------------------------------------------------


@pins("mir-155-resistance-drugs")
def test_mir_155_confers_resistance_to_doxorubicin_paclitaxel_and_gemcitabine(store) -> None:
    """§2.4: "miR-155 transferred by CSC-derived exosomes enhanced the resistance of breast
    cancer cells to doxorubicin and paclitaxel treatment" [77]; §2.5: "Exosomal miR-155-5p
    released by paclitaxel-resistant gastric cancer MGC-803 cells ... enhanced paclitaxel
    resistance" [100]; Table 1 row 9: "Pancreatic cancer cells miR-155, miR-210 Involved in
    promoted ROS detoxification and gemcitabine resistance"; §4: "miR-155 has been reported to
    promote resistance to doxorubicin and paclitaxel treatment in multiple kinds of cancer."
    """
    got = _tuples(store, "mir-155-resistance-drugs", "mirnaLabel", "drugLabel")
    _assert_same("mir-155-resistance-drugs", got, {
        ("miR-155", "doxorubicin"), ("miR-155", "paclitaxel"), ("miR-155", "gemcitabine"),
        ("miR-155-5p", "paclitaxel"),
    })


@pins("caf-mirnas-cisplatin-resistance-targets")
def test_caf_mirnas_conferring_cisplatin_resistance_and_their_targets(store) -> None:
    """§2.2: "CAF-derived exosomal miR-98-5p ... promoted a cisplatin-resistant phenotype by
    downregulating CDKN1A" [41]; "CAF-secreted exosomal miR-196a downregulated the expression
    of CDNK1B" [42] (Table 1 row 13: "conferred cisplatin resistance in head and neck cancer
    cells"); "miR-522 derived from CAF exosomes conferred cisplatin resistance to gastric
    cancer cells" [43] (no target named).
    """
    got = _tuples(store, "caf-mirnas-cisplatin-resistance-targets", "mirnaLabel", "geneLabel")
    _assert_same("caf-mirnas-cisplatin-resistance-targets", got, {
        ("miR-98-5p", "CDKN1A"), ("miR-196a", "CDKN1B"), ("miR-522", ""),
    })


@pins("mirnas-acting-through-pi3k-akt")
def test_mirnas_acting_through_pi3k_akt_are_mir_21_and_mir_32_5p(store) -> None:
    """§2.2: HCC exosomes "converted normal hepatic stellate cells to CAFs via miR-21 that
    downregulated ... PTEN and consequently upregulated the PI3K/AKT signaling pathway" [32];
    §2.3: "TAM-derived exosomal miR-21 ... activating the PI3K/AKT signaling pathway" [59];
    §2.5: "exosomal miR32-5p ... leading to activation of the PI3K/AKT signaling pathway" [99].
    (§2.3's "modulate PI3K/AKT pathway-related genes in macrophages" names no miRNA.)
    """
    got = _column(store, "mirnas-acting-through-pi3k-akt", "mirnaLabel")
    _assert_same("mirnas-acting-through-pi3k-akt", got, {"miR-21", "miR-32-5p"})


@pins("findings-resting-only-on-retracted-references")
def test_findings_resting_only_on_retracted_papers(store) -> None:
    """The reference list marks 71, 99, 101 and 115 [Retracted]. Resting on them alone:
    §2.5 miR32-5p in HCC [99]; §2.5 miR-128-3p in colorectal cancer [101]; §2.6 miR-567 and
    trastuzumab [115] (two findings); and §4's uncited "miR-128-3p ... drug resistance
    mediators", whose only miR-128-3p study is [101] (issue 13: ref 130 is, by its title, the
    miR-31-5p study). Reference 71 is cited with 70 and 72 (§2.4), so nothing rests on it
    alone.
    """
    got = _tuples(store, "findings-resting-only-on-retracted-references",
                  "cargoLabel", "referenceLabel")
    _assert_same("findings-resting-only-on-retracted-references", got, {
        ("miR-32-5p", "[99] Fu X. 2018"),
        ("miR-128-3p", "[101] Liu T. 2019"),
        ("miR-567", "[115] Han M. 2020"),
    })
    findings = {f.removeprefix("https://w3id.org/exomirkg/") for f in
                _column(store, "findings-resting-only-on-retracted-references", "finding")}
    _assert_same("findings-resting-only-on-retracted-references", findings, {
        "finding_2_5_hcc_mir_32_5p_multidrug", "finding_2_5_intestinal_mir_128_3p_oxaliplatin",
        "finding_2_6_mir_567_trastuzumab_biomarker", "finding_2_6_mir_567_trastuzumab_reverses",
        "finding_4_mir_128_3p_colorectal_resistance",
    })
    # The rules' marker (used by the one-line exclusion) must flag exactly these findings.
    marked = store.query("PREFIX ekg: <https://w3id.org/exomirkg/> SELECT ?f WHERE "
                         "{ ?f ekg:restsOnlyOnRetractedReferences true }",
                         use_default_graph_as_union=True)
    _assert_same("findings-resting-only-on-retracted-references",
                 {row["f"].value for row in marked},
                 _column(store, "findings-resting-only-on-retracted-references", "finding"))


@pins("resistance-mirnas-excluding-retracted")
def test_resistance_mirnas_without_retracted_only_findings(store) -> None:
    """Every miRNA the review says confers, transfers or enhances resistance, from §2.2
    (miR-1247-3p and sorafenib; CAF miR-21, miR-98-5p, miR-196a, miR-522, miR-106b,
    miR-146a; "miR-155 and miR-210 ... drive therapy resistance"), §2.3 (miR-223, miR365,
    miR-21), §2.4 (miR-155, miR-210, the six P-glycoprotein miRNAs), §2.5 (miR-155-5p),
    §2.6 (miR-425-3p) and Table 1 (rows 1-5, 7, 8). miR-32-5p drops out: its only support is
    the retracted [99]. miR-128-3p stays: Table 1 row 2 ("transferred oxaliplatin resistant
    phenotype", [101,130]) also cites the unretracted 130. miR-567 reverses resistance.
    """
    got = _column(store, "resistance-mirnas-excluding-retracted", "mirnaLabel")
    _assert_same("resistance-mirnas-excluding-retracted", got, {
        "miR-1247-3p", "miR-21", "miR-98-5p", "miR-196a", "miR-522", "miR-106b", "miR-146a",
        "miR-155", "miR-210", "miR-223", "miR-365", "miR-155-5p", "miR-425-3p", "miR-1246",
        "miR-423-5p", "miR-128-3p", "miR-31-5p", "miR-106a-5p", "miR-421", "miR-1238",
        "miR-151a", "miR-100-5p", "miR-214", *SIX_PGP_MIRNAS,
    })


@pins("cancers-with-gemcitabine-resistance-mirnas")
def test_cancers_with_gemcitabine_resistance_mirnas(store) -> None:
    """Pancreatic: §2.2 CAF "miR-106b ... promote gemcitabine resistance in pancreatic cancer
    cells" and "miR-146a accelerated the gemcitabine-resistant phenotype in pancreatic
    cancer"; §2.3 "gemcitabine resistance was induced in pancreatic cancer cells by the
    delivery of miR365"; §2.4 pancreatic CSC "miR-210"; Table 1 row 9 "miR-155, miR-210 ...
    gemcitabine resistance". Breast: Table 1 row 1 "miR-1246 miR-423-5p Involved in increased
    cisplatin, docetaxel, epirubicin, and gemcitabine resistance in sensitive breast cancer
    cells". Hepatocellular carcinoma: §2.5 multidrug-resistant HCC line (sorafenib,
    gemcitabine, oxaliplatin, 5-fluorouracil) "delivered exosomal miR32-5p ... inducing
    multidrug resistance".
    """
    got = _tuples(store, "cancers-with-gemcitabine-resistance-mirnas", "cancerLabel",
                  "mirnaLabel")
    _assert_same("cancers-with-gemcitabine-resistance-mirnas", got, {
        ("pancreatic cancer", "miR-106b"), ("pancreatic cancer", "miR-146a"),
        ("pancreatic cancer", "miR-365"), ("pancreatic cancer", "miR-210"),
        ("pancreatic cancer", "miR-155"),
        ("breast cancer", "miR-1246"), ("breast cancer", "miR-423-5p"),
        ("hepatocellular carcinoma", "miR-32-5p"),
    })


@pins("mirna-count-per-drug")
def test_distinct_mirnas_per_drug(store) -> None:
    """Counted from every miRNA-drug statement of the text and Table 1:
    cisplatin: miR-98-5p, miR-196a, miR-522 (§2.2), miR-21, miR-223 (§2.3, rows 15-16),
    miR-425-3p (§2.6, row 7), miR-1246, miR-423-5p (row 1), miR-100-5p (row 5);
    gemcitabine: miR-106b, miR-146a, miR-365, miR-210, miR-155, miR-1246, miR-423-5p,
    miR-32-5p; doxorubicin: miR-155 (§2.4) and the six of §2.4/row 6; paclitaxel: miR-21
    (§2.2), miR-155 (§2.4), miR-155-5p (§2.5), miR-1246 (row 8); oxaliplatin: miR-128-3p,
    miR-31-5p (row 2), miR-32-5p; 5-fluorouracil: miR-106a-5p, miR-421 (row 3), miR-32-5p;
    sorafenib: miR-1247-3p (§2.2), miR-32-5p; docetaxel, epirubicin: miR-1246, miR-423-5p;
    temozolomide: miR-1238, miR-151a (row 4); gefitinib: miR-214 (row 7, "respectively");
    trastuzumab: miR-567 (§2.6).
    """
    got = _tuples(store, "mirna-count-per-drug", "drugLabel", "mirnaCount")
    _assert_same("mirna-count-per-drug", got, {
        ("cisplatin", "9"), ("gemcitabine", "8"), ("doxorubicin", "7"), ("paclitaxel", "4"),
        ("oxaliplatin", "3"), ("5-fluorouracil", "3"), ("sorafenib", "2"), ("docetaxel", "2"),
        ("epirubicin", "2"), ("temozolomide", "2"), ("gefitinib", "1"), ("trastuzumab", "1"),
    })


@pins("mirnas-restoring-sensitivity")
def test_mirnas_restoring_sensitivity_are_mir_128_3p_and_mir_567(store) -> None:
    """§2.5: "miR-128-3p suppressed EMT by upregulating E-cadherin levels and increasing the
    intracellular oxaliplatin concentration in colorectal cancer cells" [101]; §2.6:
    "miR-567 inhibited trastuzumab-induced autophagy and reverted the acquired drug
    resistance" [115].
    """
    got = _tuples(store, "mirnas-restoring-sensitivity", "mirnaLabel", "drugLabel")
    _assert_same("mirnas-restoring-sensitivity", got, {
        ("miR-128-3p", "oxaliplatin"), ("miR-567", "trastuzumab"),
    })


@pins("cell-types-releasing-platinum-resistance-mirnas")
def test_cell_types_releasing_platinum_resistance_mirnas(store) -> None:
    """Cisplatin: CAFs (§2.2 miR-98-5p, miR-196a, miR-522), TAMs (§2.3 miR-21; Table 1 row 16
    miR-223), cancer cells (§2.6 cisplatin-resistant NSCLC miR-425-3p; Table 1 rows 1 and 5).
    Oxaliplatin: cancer cells only (Table 1 row 2 "Colorectal cancer cells"; §2.5 the
    multidrug-resistant HCC line). The §2.5 miR-128-3p from transfected normal intestinal
    cells restores sensitivity, so it is not a resistance source. Cisplatin and oxaliplatin
    are platinum drugs (§2.2: "Cisplatin is a platinum-based drug").
    """
    got = _tuples(store, "cell-types-releasing-platinum-resistance-mirnas",
                  "cellTypeLabel", "drugLabel")
    _assert_same("cell-types-releasing-platinum-resistance-mirnas", got, {
        (CAF, "cisplatin"), (TAM, "cisplatin"), ("malignant cell", "cisplatin"),
        ("malignant cell", "oxaliplatin"),
    })


@pins("findings-per-section")
def test_every_section_with_findings_has_its_graph(store) -> None:
    """Sections stating findings: the abstract ("Exosomes induce drug resistance by carrying
    ABC transporters"), §1 (tumour-derived exosomes and the hallmarks; Figure 1), §2.2-§2.6,
    §3 (exosome-biogenesis inhibitors), §4 ("miR-155 has been reported to promote resistance
    to doxorubicin and paclitaxel treatment in multiple kinds of cancer") and Table 1 rows the
    text does not report. §2.1 is a general overview with no exosome finding.
    """
    rows = _rows(store, "findings-per-section")
    _assert_same("findings-per-section", {r["section"] for r in rows}, {
        "abstract", "1", "2-2", "2-3", "2-4", "2-5", "2-6", "3", "4", "table-1",
    })
    assert all(int(r["findingCount"]) >= 1 for r in rows), rows


@pins("mirnas-from-cancer-stem-cells")
def test_mirnas_from_cancer_stem_cells(store) -> None:
    """§2.4: "miR-155 transferred by CSC-derived exosomes enhanced the resistance of breast
    cancer cells to doxorubicin and paclitaxel" [77]; "gemcitabine-resistant pancreatic CSCs
    exosomes containing high levels of miR-210 horizontally transferred the resistant
    phenotype to gemcitabine-sensitive pancreatic cancer cells" [37].
    """
    got = _tuples(store, "mirnas-from-cancer-stem-cells", "mirnaLabel", "drugLabel")
    _assert_same("mirnas-from-cancer-stem-cells", got, {
        ("miR-155", "doxorubicin"), ("miR-155", "paclitaxel"), ("miR-210", "gemcitabine"),
    })


@pins("abc-transporters-exported-drugs")
def test_abc_transporters_export_cisplatin_paclitaxel_and_doxorubicin(store) -> None:
    """§2.4: "Several cytotoxic drugs, such as cisplatin, paclitaxel, and doxorubicin, are
    substrates to ABC transporters" [80]: a statement about the family. The review never says
    which member (ABCB1, ABCC1, ABCG2 [79]) exports which drug, so there is no member-level
    answer (issue 13: the nine member-level pairs were a cross product the review never states).
    """
    got = _tuples(store, "abc-transporters-exported-drugs", "transporterLabel", "drugLabel",
                  "level")
    _assert_same("abc-transporters-exported-drugs", got, {
        ("ABC transporters", d, "family") for d in ("cisplatin", "paclitaxel", "doxorubicin")
    })


@pins("exosomal-abc-transporter-transfer")
def test_exosomal_p_glycoprotein_transfers_taxane_resistance(store) -> None:
    """§2.4: "Docetaxel-resistant MCF-7 breast cancer cells promoted drug resistance by the
    exosomal delivery of P-glycoprotein to docetaxel-sensitive MCF-7 cells" [82]; "P-glycoprotein
    released by prostate cancer exosomes ... conferred a significant increase in docetaxel
    resistance" [83]; "A2780 human ovarian cancer cells became unresponsive to paclitaxel after
    the exosomal transfer of P-glycoprotein from paclitaxel-resistant A2780 cells" [84].
    """
    got = _tuples(store, "exosomal-abc-transporter-transfer", "cargoLabel", "drugLabel",
                  "cancerLabel")
    _assert_same("exosomal-abc-transporter-transfer", got, {
        ("ABCB1", "docetaxel", "breast cancer"), ("ABCB1", "docetaxel", "prostate cancer"),
        ("ABCB1", "paclitaxel", "ovarian cancer"),
    })


@pins("mirnas-regulating-p-glycoprotein")
def test_six_mirnas_regulate_p_glycoprotein(store) -> None:
    """§2.4: "six different miRNAs associated with drug resistance (miR-204-5p, miR-139-5p,
    miR-29c-5p, miR-551b-3p, miR-29b-2-5p, and miR-204-3p) ... doxorubicin-resistant lung
    cancer and chronic myeloid leukemia cells transferred exosomal miRNAs responsible for
    P-glycoprotein regulation" [85].
    """
    got = _column(store, "mirnas-regulating-p-glycoprotein", "mirnaLabel")
    _assert_same("mirnas-regulating-p-glycoprotein", got, SIX_PGP_MIRNAS)


@pins("exosome-biogenesis-inhibitors-by-cancer")
def test_exosome_biogenesis_inhibitors_and_their_cancers(store) -> None:
    """§3: "GW4869 ... inhibitor of exosome biogenesis in different types of cancer, including
    prostate [120], colorectal [121], and pancreatic cancer [46]"; "promising mediators of
    exosome biogenesis and secretion in prostate cancer cells, including ... tipifarnib and
    manumycin A, and ... climbazole, ketoconazole, and neticonazole" [123]; manumycin A "in
    prostate cancer cells" [124]; "Sulfisoxazole ... an inhibitor of exosome biogenesis in
    breast cancer cells" [125]; "chloramidine with bisindolylmaleimide ... inhibit exosome
    biogenesis in resistant prostate and breast cancer cells" [126]. (GW4869 with bortezomib
    [122] names no cancer.)
    """
    got = _tuples(store, "exosome-biogenesis-inhibitors-by-cancer", "inhibitorLabel",
                  "cancerLabel")
    expected = {("GW4869", c) for c in ("prostate cancer", "colorectal cancer",
                                         "pancreatic cancer")}
    expected |= {(d, "prostate cancer") for d in ("tipifarnib", "manumycin A", "climbazole",
                                                  "ketoconazole", "neticonazole")}
    expected |= {("sulfisoxazole", "breast cancer")}
    expected |= {(d, c) for d in ("Cl-amidine", "bisindolylmaleimide I")
                 for c in ("prostate cancer", "breast cancer")}
    _assert_same("exosome-biogenesis-inhibitors-by-cancer", got, expected)


@pins("exosome-biogenesis-inhibitor-combinations")
def test_exosome_biogenesis_inhibitor_combination_drugs(store) -> None:
    """§3: "GW4869 in combination with bortezomib showed a strong anti-tumor response in
    vivo" [122]; "sulfisoxazole in combination with docetaxel reduced the proliferation and
    metastasis" [125]; "chloramidine with bisindolylmaleimide ... enhanced the efficacy of
    5-fluorouracil" [126].
    """
    got = _tuples(store, "exosome-biogenesis-inhibitor-combinations", "inhibitorLabel",
                  "drugLabel")
    _assert_same("exosome-biogenesis-inhibitor-combinations", got, {
        ("GW4869", "bortezomib"), ("sulfisoxazole", "docetaxel"),
        ("Cl-amidine", "5-fluorouracil"), ("bisindolylmaleimide I", "5-fluorouracil"),
    })


@pins("indomethacin-enhanced-drugs")
def test_indomethacin_increases_pixantrone_and_doxorubicin_effects(store) -> None:
    """§3: "indomethacin ... was revealed to be an effective inhibitor of ABC transporter
    expression, consequently increasing the anticancer effects of pixantrone and doxorubicin
    in B-cell lymphoma cells in vitro" [127].
    """
    got = _tuples(store, "indomethacin-enhanced-drugs", "drugLabel", "cancerLabel")
    _assert_same("indomethacin-enhanced-drugs", got, {
        ("pixantrone", "B-cell lymphoma"), ("doxorubicin", "B-cell lymphoma"),
    })


@pins("cell-type-transitions")
def test_cell_type_transitions_and_their_drivers(store) -> None:
    """Transitions: fibroblasts into CAFs (§2.2, Figures 1-2), hepatic stellate cells into
    CAFs (§2.2), macrophages into TAMs (§2.3, Figure 1). Named drivers, §2.2: "MiR-21 ...
    promote[s] ... the formation and activation of CAFs by regulating TGFβ1 signaling" [31]
    (CAF formation from an unnamed cell, so no source cell type);
    "the transforming growth factor beta-1 (TGFβ1) transported by cancer exosomes is required
    to activate the tumor-promoting stroma" [29]; HCC exosomes "converted normal hepatic
    stellate cells to CAFs via miR-21" [32]; "exosomal miR-1247-30 from HCC cells induced CAF
    activation in the fibroblasts of a lung pre-metastatic niche" [33]. §2.3: "colon
    cancer-derived exosomes carrying miR-1246 induced macrophages toward a TAM phenotype" [51].
    """
    rows = _rows(store, "cell-type-transitions")
    _assert_same("cell-type-transitions", {(r["fromLabel"], r["toLabel"]) for r in rows}, {
        ("fibroblast", CAF), ("hepatic stellate cell", CAF), ("macrophage", TAM), ("", CAF),
    })
    drivers = {(r["fromLabel"], r["toLabel"], r["driverLabel"]) for r in rows
               if r["driverLabel"]}
    _assert_same("cell-type-transitions", drivers, {
        ("", CAF, "miR-21"), ("fibroblast", CAF, "TGFB1"),
        ("fibroblast", CAF, "miR-1247-3p"), ("hepatic stellate cell", CAF, "miR-21"),
        ("macrophage", TAM, "miR-1246"),
    })


@pins("conflicting-findings")
def test_the_review_contradicts_itself_on_mir_128_3p_and_mir_210(store) -> None:
    """Table 1 row 2: "Colorectal cancer cells miR-128-3p ... transferred oxaliplatin
    resistant phenotype to sensitive colorectal cancer cells" and §4: "miR-128-3p and
    miR-425-3p act as drug resistance mediators in colorectal and lung cancer" against §2.5:
    normal intestinal cells transfected with miR-128-3p, whose exosomes "suppressed EMT ...
    and increas[ed] the intracellular oxaliplatin concentration" (sensitivity, not
    resistance). Table 1 row 9: "Pancreatic cancer cells ... miR-210 ... promoted ROS
    detoxification and gemcitabine resistance" [37,137] against §2.4: miR-210 from
    "gemcitabine-resistant pancreatic CSCs", "inhibiting apoptosis and promoting proliferation
    by targeting the mTOR signaling pathway" [37] (different donor cell and mechanism).
    Row 16 (miR-223, "induced cisplatin-resistant phenotype") only adds the drug to §2.3's
    "enhancing drug resistance to epithelial ovarian cancer cells": no contradiction.
    """
    rows = _rows(store, "conflicting-findings")
    base = "https://w3id.org/exomirkg/"
    got = {(r["mirnaLabel"], frozenset({r["part"].removeprefix(base),
                                        r["otherPart"].removeprefix(base)})) for r in rows}
    _assert_same("conflicting-findings", got, {
        ("miR-128-3p", frozenset({"table_1_row_2", "section_2_5"})),
        ("miR-128-3p", frozenset({"section_2_5", "section_4"})),
        ("miR-210", frozenset({"table_1_row_9", "section_2_4"})),
    })
    for row in rows:
        assert row["note"], f"add an ekg:conflictNote to {row['finding']} saying how they differ"


@pins("downregulated-target-genes-per-mirna")
def test_genes_downregulated_by_each_mirna(store) -> None:
    """§2.2: miR-21 "downregulated the tumor suppressor gene PTEN" [32]; CAF miR-21 "by
    downregulating the expression of ... APAF1" [39]; miR-98-5p "by downregulating CDKN1A"
    [41]; miR-196a "downregulated the expression of CDNK1B" [42]; miR-106b "by directly
    downregulating TP53INP1 expression" [45]. §2.5: miR-155-5p "via the suppression of GATA3
    and TP53INP1" [100]. (miR-146a "targeting Snail pathways" and miR-425-3p "targeting the
    AKT1/mTOR signaling pathway" state no direction for a gene.)
    """
    got = _tuples(store, "downregulated-target-genes-per-mirna", "mirnaLabel", "geneLabel")
    _assert_same("downregulated-target-genes-per-mirna", got, {
        ("miR-21", "PTEN"), ("miR-21", "APAF1"), ("miR-98-5p", "CDKN1A"),
        ("miR-196a", "CDKN1B"), ("miR-106b", "TP53INP1"), ("miR-155-5p", "GATA3"),
        ("miR-155-5p", "TP53INP1"),
    })


@pins("upregulated-genes-per-mirna")
def test_genes_upregulated_by_each_mirna(store) -> None:
    """§2.2: miR-1247-3p "induced CAF activation ... leading to the upregulation of
    pro-inflammatory genes, such as IL1B, IL6, and IL8" [33]; §2.5: "miR-128-3p suppressed EMT
    by upregulating E-cadherin levels" [101].
    """
    got = _tuples(store, "upregulated-genes-per-mirna", "mirnaLabel", "geneLabel")
    _assert_same("upregulated-genes-per-mirna", got, {
        ("miR-1247-3p", "IL1B"), ("miR-1247-3p", "IL6"), ("miR-1247-3p", "CXCL8"),
        ("miR-128-3p", "CDH1"),
    })


@pins("taxane-resistance-mirnas")
def test_taxane_resistance_mirnas(store) -> None:
    """Paclitaxel: §2.2 CAF miR-21 [39]; §2.4 CSC miR-155 [77]; §2.5 miR-155-5p [100];
    Table 1 row 8 "Ovarian cancer cells miR-1246 Involved in conferred paclitaxel resistance".
    Docetaxel: Table 1 row 1 "miR-1246 miR-423-5p ... cisplatin, docetaxel, epirubicin, and
    gemcitabine resistance".
    """
    got = _tuples(store, "taxane-resistance-mirnas", "mirnaLabel", "drugLabel")
    _assert_same("taxane-resistance-mirnas", got, {
        ("miR-21", "paclitaxel"), ("miR-155", "paclitaxel"), ("miR-155-5p", "paclitaxel"),
        ("miR-1246", "paclitaxel"), ("miR-1246", "docetaxel"), ("miR-423-5p", "docetaxel"),
    })


@pins("anthracycline-resistance-mirnas")
def test_anthracycline_resistance_mirnas(store) -> None:
    """Doxorubicin: §2.4 CSC miR-155 [77] and the six miRNAs of "doxorubicin-resistant lung
    cancer and chronic myeloid leukemia cells" [85] (Table 1 row 6). Epirubicin: Table 1
    row 1 (miR-1246, miR-423-5p).
    """
    got = _tuples(store, "anthracycline-resistance-mirnas", "mirnaLabel", "drugLabel")
    expected = {(m, "doxorubicin") for m in SIX_PGP_MIRNAS | {"miR-155"}}
    expected |= {("miR-1246", "epirubicin"), ("miR-423-5p", "epirubicin")}
    _assert_same("anthracycline-resistance-mirnas", got, expected)


@pins("drugs-by-class")
def test_drug_classes_named_by_the_review(store) -> None:
    """§2.2: "Cisplatin is a platinum-based drug" (oxaliplatin likewise, ChEBI); §3:
    "farnesyl transferase inhibitors, such as tipifarnib and manumycin A, and azole
    antifungals, such as climbazole, ketoconazole, and neticonazole" [123]; the taxanes
    paclitaxel and docetaxel and the anthracyclines doxorubicin and epirubicin are the drugs of
    §2.4 and Table 1 row 1.
    """
    got = _tuples(store, "drugs-by-class", "classLabel", "drugLabel")
    _assert_same("drugs-by-class", got, {
        ("platinum drug", "cisplatin"), ("platinum drug", "oxaliplatin"),
        ("taxane", "paclitaxel"), ("taxane", "docetaxel"),
        ("anthracycline", "doxorubicin"), ("anthracycline", "epirubicin"),
        ("azole antifungal", "climbazole"), ("azole antifungal", "ketoconazole"),
        ("azole antifungal", "neticonazole"),
        ("farnesyltransferase inhibitor drug", "tipifarnib"),
        ("farnesyltransferase inhibitor drug", "manumycin A"),
    })


@pins("caf-mir-21-paclitaxel-provenance")
def test_caf_mir_21_paclitaxel_finding_has_quote_parts_and_doi(store) -> None:
    """§2.2 and Table 1 row 10 report the same finding, from reference 39 (Au Yeung et al.,
    Nat. Commun. 2016, doi:10.1038/ncomms11150)."""
    sentence = ("Next-generation sequencing technology has shown that the exosomal transfer of "
                "miR-21 from CAFs to ovarian cancer cells inhibited apoptosis and promoted "
                "resistance to paclitaxel treatment by downregulating the expression of "
                "apoptotic peptidase activating factor (APAF1) [39].")
    rows = _rows(store, "caf-mir-21-paclitaxel-provenance")
    _assert_same("caf-mir-21-paclitaxel-provenance", {r["doi"] for r in rows},
                 {"10.1038/ncomms11150"})
    _assert_same("caf-mir-21-paclitaxel-provenance", {r["partLabel"] for r in rows}, {
        "2.2. Drug Resistance Mediated by Cancer-Associated Fibroblast Exosomal miRNAs",
        "Table 1, row 10: CAFs: miR-21",
    })
    assert len({r["finding"] for r in rows}) == 1, (
        "§2.2 and Table 1 row 10 agree: keep ONE finding with both supports")
    quotes = {r["quote"] for r in rows}
    assert sentence in quotes, f"quote the §2.2 sentence verbatim; got {sorted(quotes)}"
    assert all("paclitaxel" in q for q in quotes), sorted(quotes)


@pins("mirna-arm-stated")
def test_mirna_arm_stated_or_precursor_level(store) -> None:
    """The review states the arm (-5p/-3p) of these miRNAs, and only these (miR-1247-30 is read
    as miR-1247-3p, miR1555p as miR-155-5p, miR32-5p as miR-32-5p); all others are named at
    precursor level (miR-21, miR-155, miR-210, ...), so their IDs must not be a guessed arm.
    """
    rows = _rows(store, "mirna-arm-stated")
    stated = {r["mirnaLabel"] for r in rows if r["armStated"] == "arm stated"}
    not_stated = {r["mirnaLabel"] for r in rows if r["armStated"] == "arm not stated"}
    _assert_same("mirna-arm-stated", stated, {
        "miR-100-5p", "miR-106a-5p", "miR-1247-3p", "miR-128-3p", "miR-155-5p", "miR-31-5p",
        "miR-32-5p", "miR-423-5p", "miR-425-3p", "miR-98-5p", *SIX_PGP_MIRNAS,
    })
    _assert_same("mirna-arm-stated", not_stated, {
        "let-7a", "miR-106b", "miR-1238", "miR-1246", "miR-146a", "miR-148a", "miR-151a",
        "miR-155", "miR-16", "miR-191", "miR-196a", "miR-21", "miR-210", "miR-214", "miR-223",
        "miR-365", "miR-421", "miR-522", "miR-567",
    })
    wrong = [r for r in rows if r["armStated"] == "arm stated" and r["miRBaseLevel"] != "mature"]
    assert not wrong, f"an arm the review states must match its miRBase mature ID: {wrong}"


@pins("findings-by-evidence-code")
def test_every_finding_has_an_author_statement_or_curator_inference_code(store) -> None:
    """Every finding is an author statement backed by a cited paper (ECO:0000304), a curator
    inference where the curator read beyond the text (ECO:0000305), or, for the review's own
    uncited statements (abstract, conclusions, general claims), evidence used in manual
    assertion (ECO:0000352; the more specific ECO:0000303 is not in the verified ID table)."""
    rows = _rows(store, "findings-by-evidence-code")
    obo = "http://purl.obolibrary.org/obo/"
    codes = {r["evidence"].removeprefix(obo) for r in rows}
    assert "ECO_0000304" in codes, rows
    assert codes <= {"ECO_0000304", "ECO_0000305", "ECO_0000352"}, (
        f"unexpected evidence codes: {rows}")
    findings = store.query("PREFIX ekg: <https://w3id.org/exomirkg/> "
                           "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a ekg:Finding }",
                           use_default_graph_as_union=True)
    total = int(next(iter(findings))["n"].value)
    assert sum(int(r["findingCount"]) for r in rows) >= total, (
        "some findings lack obo:RO_0002558 (evidence): add ECO:0000304 or ECO:0000305")


@pins("references-with-retraction-status")
def test_references_1_to_138_with_71_99_101_115_retracted(store) -> None:
    """The review's reference list runs 1-138; 71, 99, 101 and 115 end in "[Retracted]"."""
    rows = _rows(store, "references-with-retraction-status")
    _assert_same("references-with-retraction-status", {int(r["number"]) for r in rows},
                 set(range(1, 139)))
    retracted = {int(r["number"]) for r in rows if r["retracted"] == "true"}
    _assert_same("references-with-retraction-status", retracted, {71, 99, 101, 115})


@pins("mirnas-from-tams")
def test_mirnas_from_tumour_associated_macrophages(store) -> None:
    """§2.3: "TAMs ... enhancing drug resistance to epithelial ovarian cancer cells through
    the transfer of exosomes carrying miR-223" [61] (Table 1 row 16: "induced
    cisplatin-resistant phenotype in ovarian cancer cells"); "gemcitabine resistance was
    induced in pancreatic cancer cells by the delivery of miR365 through exosomes derived from
    TAMs" [62]; "TAM-derived exosomal miR-21 leads gastric cancer cells to a cisplatin-resistant
    phenotype" [59]. miR-223 also "confer[s] malignant phenotypes" (the same sentence, its own
    finding since issue 13), which names no drug: hence ("miR-223", "").
    """
    got = _tuples(store, "mirnas-from-tams", "mirnaLabel", "drugLabel")
    _assert_same("mirnas-from-tams", got, {
        ("miR-223", "cisplatin"), ("miR-223", ""), ("miR-365", "gemcitabine"),
        ("miR-21", "cisplatin"),
    })


@pins("mirnas-from-cafs")
def test_mirnas_from_cancer_associated_fibroblasts(store) -> None:
    """§2.2: CAF miR-21 and paclitaxel [39]; miR-98-5p, miR-196a and miR-522 and cisplatin
    [41-43]; miR-106b and miR-146a and gemcitabine [45,46]. Table 1 row 12: "CAFs miR-16,
    miR-148a Involved in promoted breast cancer cell migration and metastasis" (no drug).
    """
    got = _tuples(store, "mirnas-from-cafs", "mirnaLabel", "drugLabel")
    _assert_same("mirnas-from-cafs", got, {
        ("miR-21", "paclitaxel"), ("miR-98-5p", "cisplatin"), ("miR-196a", "cisplatin"),
        ("miR-522", "cisplatin"), ("miR-106b", "gemcitabine"), ("miR-146a", "gemcitabine"),
        ("miR-16", ""), ("miR-148a", ""),
    })


@pins("autophagy-mirnas")
def test_autophagy_mirnas(store) -> None:
    """§2.6: "exosomal miR-425-3p derived from cisplatin-resistant non-small cell lung cancer
    (NSCLC) cells decreased responsiveness to cisplatin ... leading to upregulation of
    autophagic activity" [113, 114]; "miR-567 inhibited trastuzumab-induced autophagy and
    reverted the acquired drug resistance" [115].
    """
    got = _tuples(store, "autophagy-mirnas", "mirnaLabel", "mechanismLabel", "drugLabel")
    _assert_same("autophagy-mirnas", got, {
        ("miR-425-3p", "autophagy activation", "cisplatin"),
        ("miR-567", "autophagy inhibition", "trastuzumab"),
    })


@pins("emt-mirnas")
def test_emt_inducing_and_suppressing_mirnas(store) -> None:
    """Induction: §2.4 CSC miR-155 "induced the acquisition of EMT phenotype" [77]; §2.5
    melanoma exosomes "induced EMT in primary melanocytes by transferring miRNAs ... such as
    let-7a and miR-191" [97]; miR32-5p "inducing multidrug resistance via angiogenesis and
    EMT" [99]; miR-155-5p "induced the EMT malignant phenotype" [100]. Suppression: §2.5
    "miR-128-3p suppressed EMT" [101].
    """
    got = _tuples(store, "emt-mirnas", "mirnaLabel", "mechanismLabel")
    _assert_same("emt-mirnas", got, {
        ("miR-155", "EMT induction"), ("let-7a", "EMT induction"),
        ("miR-191", "EMT induction"), ("miR-32-5p", "EMT induction"),
        ("miR-155-5p", "EMT induction"), ("miR-128-3p", "EMT suppression"),
    })


@pins("cancer-stem-cell-markers")
def test_cancer_stem_cells_are_cd44_high_cd24_low(store) -> None:
    """§2.4: "CSCs can be identified through the expression of several surface markers,
    including high expression of CD44 (CD44+) and low expression of CD24 (CD24-/low)" [64];
    §2.5: "EMT has a close connection to CSCs, including expression of the same surface markers
    CD44+ and CD24-/low" [92], said of the cells undergoing EMT (a cell state, issue 13)."""
    got = _tuples(store, "cancer-stem-cell-markers", "cellTypeLabel", "markerLabel", "level")
    _assert_same("cancer-stem-cell-markers", got, {
        ("cancer stem cell", "CD44", "high"), ("cancer stem cell", "CD24", "low"),
        ("cell undergoing EMT", "CD44", "high"), ("cell undergoing EMT", "CD24", "low"),
    })


@pins("most-abundant-cell-types")
def test_cafs_and_tams_are_the_most_abundant_of_their_groups(store) -> None:
    """§2.2: "CAFs are the most abundant stromal cell type in the TME" [28]; §2.3:
    "Tumor-associated macrophages (TAMs) are the most abundant population of immune cells in
    the TME"."""
    got = _tuples(store, "most-abundant-cell-types", "cellTypeLabel", "groupLabel")
    _assert_same("most-abundant-cell-types", got, {
        (CAF, "stromal cell"), (TAM, "leukocyte"),
    })


@pins("endothelial-cell-exosome-findings")
def test_endothelial_exosomes_promote_doxorubicin_resistance_in_nasopharyngeal_cancer(
        store) -> None:
    """§2.5: "Exosomes released from drug-resistant endothelial cells triggered the EMT
    process and promoted doxorubicin resistance in nasopharyngeal cancer cells" [98]."""
    rows = _rows(store, "endothelial-cell-exosome-findings")
    _assert_same("endothelial-cell-exosome-findings",
                 {(r["drugLabel"], r["cancerLabel"]) for r in rows},
                 {("doxorubicin", "nasopharyngeal carcinoma")})
    effects = {r["effectLabel"] for r in rows}
    assert effects <= {"confers resistance", "transfers resistance", "enhances resistance"}, (
        f"the endothelial finding promotes resistance; got effects {effects}")


@pins("table-1-rows")
def test_table_1_rows_as_printed(store) -> None:
    """Table 1, row by row ("Exosome Origin / Exosomal miRNA / Function(s)/Effect(s)"): rows
    1-9 come from cancer cells, 10-13 from "CAFs", 14-16 from "TAMs". Row 1 lists two miRNAs
    and four drugs without pairing them (each miRNA with every drug); row 7 pairs "miR-425-3p,
    miR-214 ... cisplatin and gefitinib resistance ..., respectively"; row 12 names no drug.
    """
    cancer = "malignant cell"
    expected = {("1", cancer, m, d) for m in ("miR-1246", "miR-423-5p")
                for d in ("cisplatin", "docetaxel", "epirubicin", "gemcitabine")}
    expected |= {("2", cancer, m, "oxaliplatin") for m in ("miR-128-3p", "miR-31-5p")}
    expected |= {("3", cancer, m, "5-fluorouracil") for m in ("miR-106a-5p", "miR-421")}
    expected |= {("4", cancer, m, "temozolomide") for m in ("miR-1238", "miR-151a")}
    expected |= {("5", cancer, "miR-100-5p", "cisplatin")}
    expected |= {("6", cancer, m, "doxorubicin") for m in SIX_PGP_MIRNAS}
    expected |= {("7", cancer, "miR-425-3p", "cisplatin"), ("7", cancer, "miR-214", "gefitinib")}
    expected |= {("8", cancer, "miR-1246", "paclitaxel")}
    expected |= {("9", cancer, m, "gemcitabine") for m in ("miR-155", "miR-210")}
    expected |= {("10", CAF, "miR-21", "paclitaxel")}
    expected |= {("11", CAF, m, "gemcitabine") for m in ("miR-106b", "miR-146a")}
    expected |= {("12", CAF, m, "") for m in ("miR-16", "miR-148a")}
    expected |= {("13", CAF, "miR-196a", "cisplatin")}
    expected |= {("14", TAM, "miR-365", "gemcitabine"), ("15", TAM, "miR-21", "cisplatin"),
                 ("16", TAM, "miR-223", "cisplatin")}
    got = _tuples(store, "table-1-rows", "rowNumber", "sourceCellTypeLabel", "mirnaLabel",
                  "drugLabel")
    _assert_same("table-1-rows", got, expected)


@pins("mirnas-per-section")
def test_mirnas_reported_by_each_section(store) -> None:
    """Read section by section: §2.2 names miR-21 (HCC exosomes; CAFs), miR-1247-30,
    miR-155 and miR-210 (melanoma exosomes, fibroblasts), miR-98-5p, miR-196a, miR-522,
    miR-106b, miR-146a; §2.3 miR-1246, miR-223, miR365, miR-21; §2.4 miR-155, miR-210 and the
    six P-glycoprotein miRNAs; §2.5 let-7a, miR-191, miR32-5p, miR-155-5p, miR-128-3p; §2.6
    miR-425-3p, miR-567; §4 "miR-155 has been reported to promote resistance to doxorubicin
    and paclitaxel" and "miR-128-3p and miR-425-3p act as drug resistance mediators". The
    table-1 graph holds the rows the text does not report (1-5, 7's miR-214, 8, 9's miR-155,
    12) and the rows that contradict it (2's miR-128-3p, 9's miR-210). The abstract, §1 and
    §3 name no miRNA.
    """
    expected = {("2-2", m) for m in ("miR-21", "miR-1247-3p", "miR-155", "miR-210",
                                     "miR-98-5p", "miR-196a", "miR-522", "miR-106b",
                                     "miR-146a")}
    expected |= {("2-3", m) for m in ("miR-1246", "miR-223", "miR-365", "miR-21")}
    expected |= {("2-4", m) for m in SIX_PGP_MIRNAS | {"miR-155", "miR-210"}}
    expected |= {("2-5", m) for m in ("let-7a", "miR-191", "miR-32-5p", "miR-155-5p",
                                      "miR-128-3p")}
    expected |= {("2-6", m) for m in ("miR-425-3p", "miR-567")}
    expected |= {("4", m) for m in ("miR-155", "miR-128-3p", "miR-425-3p")}
    expected |= {("table-1", m) for m in ("miR-1246", "miR-423-5p", "miR-128-3p", "miR-31-5p",
                                          "miR-106a-5p", "miR-421", "miR-1238", "miR-151a",
                                          "miR-100-5p", "miR-214", "miR-155", "miR-210",
                                          "miR-16", "miR-148a")}
    got = _tuples(store, "mirnas-per-section", "section", "mirnaLabel")
    _assert_same("mirnas-per-section", got, expected)


@pins("find-entity-by-name-as-written")
def test_names_as_printed_in_the_review_find_their_entity(store) -> None:
    """The review prints "miR-1247-30" (§2.2), "CDNK1B" (§2.2), "miR1555p" (ref 100 title),
    "MiR-21" (§2.2), "miR32-5p" (§2.5), "miR365" (§2.3), "miR567" (§2.6), "P-glycoprotein"
    for ABCB1 (§2.4), "Snail" (§2.2), "5-fluorouracil" (§2.5, §3; 5-FU is the common
    abbreviation), "CAFs", "TAMs", "IL8" (§2.2), "E-cadherin" (§2.5), "TGFβ1" (§2.2) and
    "chloramidine" for Cl-amidine (§3). Each must find exactly one entity.
    """
    got = _tuples(store, "find-entity-by-name-as-written", "name", "entityLabel")
    _assert_same("find-entity-by-name-as-written", got, {
        ("miR-1247-30", "miR-1247-3p"), ("CDNK1B", "CDKN1B"), ("miR1555p", "miR-155-5p"),
        ("MiR-21", "miR-21"), ("miR32-5p", "miR-32-5p"), ("miR365", "miR-365"),
        ("miR567", "miR-567"), ("P-glycoprotein", "ABCB1"), ("Snail", "SNAI1"),
        ("5-FU", "5-fluorouracil"), ("5-fluorouracil", "5-fluorouracil"),
        ("CAFs", CAF), ("TAMs", TAM), ("IL8", "CXCL8"), ("E-cadherin", "CDH1"),
        ("TGFβ1", "TGFB1"), ("chloramidine", "Cl-amidine"),
    })


@pins("pathways-per-mirna")
def test_pathways_each_mirna_acts_on_with_direction(store) -> None:
    """§2.2: miR-21 "consequently upregulated the PI3K/AKT signaling pathway" [32] and
    "regulating TGFβ1 signaling" [31] (no direction); §2.3: TAM miR-21 "activating the
    PI3K/AKT signaling pathway" [59]; §2.4: miR-210 "by targeting the mTOR signaling pathway"
    [37] (no direction); §2.5: miR32-5p "activation of the PI3K/AKT signaling pathway" [99];
    §2.6: miR-425-3p "targeting the AKT1/mTOR signaling pathway" [113, 114] (no direction),
    the pathway as written (issue 13), a sub-pathway of mTOR signalling.
    """
    got = _tuples(store, "pathways-per-mirna", "mirnaLabel", "pathwayLabel", "direction")
    _assert_same("pathways-per-mirna", got, {
        ("miR-21", "PI3K/AKT signaling", "activates"),
        ("miR-32-5p", "PI3K/AKT signaling", "activates"),
        ("miR-21", "TGF-beta signaling", "not stated"),
        ("miR-210", "mTOR signaling", "not stated"),
        ("miR-425-3p", "AKT1/mTOR signaling", "not stated"),
    })


@pins("cisplatin-resistance-mechanisms")
def test_mechanisms_of_mirna_mediated_cisplatin_resistance(store) -> None:
    """§2.2: miR-98-5p "increased ovarian cancer cell proliferation and promoted a
    cisplatin-resistant phenotype by downregulating CDKN1A, which is a vital regulator of cell
    cycle arrest" [41]; miR-196a downregulated "CDNK1B (another key gene in the transition
    between the G1 and S phases of the cell cycle)" [42]; §2.3: TAM miR-21 "by suppressing
    cancer cell apoptosis" [59]; §2.6: miR-425-3p "leading to upregulation of autophagic
    activity" [113]. (miR-522, miR-223, miR-100-5p and row 1 name no mechanism.)
    """
    got = _tuples(store, "cisplatin-resistance-mechanisms", "mechanismLabel", "mirnaLabel")
    _assert_same("cisplatin-resistance-mechanisms", got, {
        ("proliferation promotion", "miR-98-5p"), ("cell-cycle arrest escape", "miR-98-5p"),
        ("cell-cycle arrest escape", "miR-196a"), ("apoptosis inhibition", "miR-21"),
        ("autophagy activation", "miR-425-3p"),
    })


@pins("named-cell-lines")
def test_named_cell_lines_and_their_cargo(store) -> None:
    """§2.4: "Docetaxel-resistant MCF-7 breast cancer cells ... exosomal delivery of
    P-glycoprotein to docetaxel-sensitive MCF-7 cells" [82]; "A2780 human ovarian cancer cells
    became unresponsive to paclitaxel after the exosomal transfer of P-glycoprotein from
    paclitaxel-resistant A2780 cells" [84]; §2.5: "miR-155-5p released by paclitaxel-resistant
    gastric cancer MGC-803 cells ... in parental sensitive cells" [100].
    """
    got = _tuples(store, "named-cell-lines", "cellLineLabel", "role", "cargoLabel")
    _assert_same("named-cell-lines", got, {
        (line, role, cargo) for line, cargo in (("MCF-7", "ABCB1"), ("A2780", "ABCB1"),
                                                ("MGC-803", "miR-155-5p"))
        for role in ("source", "recipient")
    })


@pins("taxane-resistance-mechanisms")
def test_taxane_resistance_mechanisms_inferred_from_findings(store) -> None:
    """Paclitaxel: §2.2 CAF miR-21 "inhibited apoptosis and promoted resistance to paclitaxel"
    [39]; §2.4 CSC miR-155 "enhanced the resistance ... to doxorubicin and paclitaxel ... and
    induced the acquisition of EMT phenotype" [77]; §2.5 miR-155-5p "induced the EMT malignant
    phenotype and enhanced paclitaxel resistance" [100]; §2.4 A2780 cells unresponsive to
    paclitaxel after "the exosomal transfer of P-glycoprotein" (a drug efflux pump) [84].
    Docetaxel: §2.4 "exosomal delivery of P-glycoprotein" in MCF-7 [82]; prostate cancer
    P-glycoprotein "induced phenotypic changes toward cell proliferation and conferred a
    significant increase in docetaxel resistance" [83].
    """
    got = _tuples(store, "taxane-resistance-mechanisms", "drugLabel", "mechanismLabel")
    _assert_same("taxane-resistance-mechanisms", got, {
        ("paclitaxel", "apoptosis inhibition"), ("paclitaxel", "EMT induction"),
        ("paclitaxel", "drug efflux"), ("docetaxel", "drug efflux"),
        ("docetaxel", "proliferation promotion"),
    })


@pins("biomarker-mirnas")
def test_mir_425_3p_and_mir_567_mark_drug_response(store) -> None:
    """§2.6: "we can assume that miR-425-3p is a promising biomarker candidate for predicting
    the cisplatin response in NSCLC" (refs 113, 114); "cells from trastuzumab-resistant breast
    cancer patients showed a significantly lower expression of exosomal miR-567 in comparison
    with sensitive patients" [115] (its level marks the response: the effect's definition)."""
    got = _tuples(store, "biomarker-mirnas", "mirnaLabel", "drugLabel", "cancerLabel")
    _assert_same("biomarker-mirnas", got, {
        ("miR-425-3p", "cisplatin", "non-small cell lung cancer"),
        ("miR-567", "trastuzumab", "breast cancer"),
    })


@pins("entities-without-findings")
def test_only_reference_title_entities_lack_findings(store) -> None:
    """The body of the review never names miR-16-5p (ref 76's title), miR-301a (ref 58),
    miR-30a (ref 112), miR-940 (ref 52), tamoxifen (ref 57) or entinostat (ref 93); every
    other miRNA and drug it declares is the miRNA or drug of some finding.
    """
    got = _tuples(store, "entities-without-findings", "kind", "entityLabel")
    _assert_same("entities-without-findings", got, {
        ("miRNA", "miR-16-5p"), ("miRNA", "miR-301a"), ("miRNA", "miR-30a"),
        ("miRNA", "miR-940"), ("drug", "tamoxifen"), ("drug", "entinostat"),
    })
    marked = _column(store, "entities-without-findings", "onlyInReferenceTitle")
    assert marked == {"true"}, (
        "every miRNA or drug in no finding is one the review names only in a reference title: "
        "mark it ekg:mentionedOnlyInReferenceTitle true in triples/entities/")


@pins("mirnas-of-the-review")
def test_mirnas_of_the_review_are_35_not_the_39_declared(store) -> None:
    """The review names 35 exosomal miRNAs in its text and Table 1; four more (miR-16-5p, ref
    76; miR-301a, ref 58; miR-30a, ref 112; miR-940, ref 52) appear only in reference titles
    and are declared so those titles stay searchable, marked ekg:mentionedOnlyInReferenceTitle.
    """
    rows = _rows(store, "mirnas-of-the-review")
    labels = {r["mirnaLabel"] for r in rows}
    assert len(labels) == 35, sorted(labels)
    assert not labels & {"miR-16-5p", "miR-301a", "miR-30a", "miR-940"}, sorted(labels)
    assert all(int(r["findingCount"]) >= 1 for r in rows), (
        f"a miRNA of the review with no finding: {[r for r in rows if r['findingCount'] == '0']}")
