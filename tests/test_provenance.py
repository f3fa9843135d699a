"""The curated graph against the review's text (triples/source/): quotes, citations, parts, Table 1.

Each finding's provenance must be checkable by a reader holding the review: its quotes occur
verbatim, the numbers in their brackets are its supporting references, its ``ekg:statedIn``
parts are where the quotes stand, and every Table 1 row and every cited reference is in the graph.
The Turtle is parsed with rdflib (no build needed), so a failure names the finding to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import pytest
from rdflib import Graph, Literal, URIRef

from exomirkg import paths
from exomirkg.namespaces import DCTERMS, EKG, OBO, RDF

#: References the review's list marks "[Retracted]".
RETRACTED = frozenset({71, 99, 101, 115})

#: The findings resting only on retracted papers, as read from the review: miR-32-5p [99] (§2.5),
#: miR-128-3p raising oxaliplatin sensitivity [101] (§2.5), miR-567 and trastuzumab [115] (§2.6),
#: and §4's uncited "miR-128-3p ... drug resistance mediators", which the curator ties to the
#: only miR-128-3p study, ref 101 (issue 13: ref 130 is, by its title, the miR-31-5p study).
#: Ref 71 is cited only beside refs 70 and 72; Table 1 row 2 cites ref 130 beside ref 101.
RETRACTED_ONLY = frozenset(
    {
        "finding_2_5_hcc_mir_32_5p_multidrug",
        "finding_2_5_intestinal_mir_128_3p_oxaliplatin",
        "finding_2_6_mir_567_trastuzumab_biomarker",
        "finding_2_6_mir_567_trastuzumab_reverses",
        "finding_4_mir_128_3p_colorectal_resistance",
    }
)

#: Headings of the review's parts, in text order, as printed on their own line.
HEADINGS: dict[str, str] = {
    "section_1": "1. Introduction",
    "section_2": "2. TME as a Mediator of Drug Resistance",
    "section_2_1": "2.1. Drug Resistance Overview",
    "section_2_2": "2.2. Drug Resistance Mediated by Cancer-Associated Fibroblast Exosomal miRNAs",
    "section_2_3": "2.3. Tumor-Associated Macrophage Exosomal miRNAs Enhance Drug Resistance",
    "section_2_4": "2.4. Transfer of Drug Resistance Mediated by Cancer Stem Cells Exosomes",
    "section_2_5": "2.5. EMT Mediated by Exosomal miRNAs",
    "section_2_6": "2.6. Autophagy Induced by Cancer Exosomal miRNAs",
    "section_3": "3. Enhanced Drug Efficacy Mediated by Inhibitors of Exosome Biogenesis",
    "section_4": "4. Conclusions",
    "table_1": "Table 1.",
    "references": "References",
}
#: Where each part's span ends: the heading of the next part at the same or a higher level.
SPAN_END: dict[str, str] = {
    "section_1": "section_2",
    "section_2": "section_3",
    "section_2_1": "section_2_2",
    "section_2_2": "section_2_3",
    "section_2_3": "section_2_4",
    "section_2_4": "section_2_5",
    "section_2_5": "section_2_6",
    "section_2_6": "section_3",
    "section_3": "section_4",
    "section_4": "table_1",
    "table_1": "references",
}

#: References the review cites in sections 1-4 that the graph deliberately leaves out.
UNMODELLED_CITATIONS: dict[int, str] = {
    1: "§1 genomic instability as a cause of tumour heterogeneity: no entity of this graph",
    2: "§1 mutations from UV radiation or DNA-replication errors: no entity of this graph",
}

#: Findings citing fewer references than their quotes print, because the review pairs them:
#: (finding, reference number) -> why the number is left out.
PAIRED_AWAY: dict[tuple[str, int], str] = {
    (
        "finding_2_6_nsclc_mir_425_3p_cisplatin",
        135,
    ): "row 7 pairs miR-425-3p with [113] ('respectively')",
    (
        "finding_table_1_row_7_mir_214",
        113,
    ): "row 7 pairs miR-214 with gefitinib and [135] ('respectively')",
    (
        "finding_2_2_caf_mir_106b_gemcitabine",
        46,
    ): "row 11's [45,46] read as in §2.2: miR-106b is [45]",
    (
        "finding_2_2_caf_mir_146a_gemcitabine",
        45,
    ): "row 11's [45,46] read as in §2.2: miR-146a is [46]",
}

#: A quote's bracket that supports another clause of the sentence: (claim, number) -> why.
OTHER_CLAUSE: dict[tuple[str, int], str] = {
    (
        "statement_cell_undergoing_emt_has_high_marker_cd44",
        88,
    ): "[92] backs the shared markers, [88] the shared pathways",
    (
        "statement_cell_undergoing_emt_has_low_marker_cd24",
        88,
    ): "[92] backs the shared markers, [88] the shared pathways",
}

#: Uncited summary sentences of §4 that the curator tied to the studies the text gives for them
#: (obo:ECO_0000305, with a skos:editorialNote): finding -> the studies it summarises.
INFERRED_CITATIONS: dict[str, str] = {
    "finding_4_gemcitabine_pancreatic_mirnas": "gemcitabine findings of §2.2-§2.4, rows 9, 11, 14",
    "finding_4_mir_128_3p_colorectal_resistance": "the miR-128-3p study of row 2 and §2.5 [101]",
    "finding_4_mir_155_doxorubicin_paclitaxel": "§2.4's miR-155 doxorubicin/paclitaxel study [77]",
    "finding_4_mir_425_3p_lung_resistance": "§2.6's two miR-425-3p studies [113] and [114]",
}

#: Table 1 as printed: row -> (exosome origin, {miRNA: drugs}). A listed miRNA must be the
#: subject of a finding stated in that row, from that cell type, with exactly those drugs.
TABLE_1: dict[int, tuple[str, dict[str, frozenset[str]]]] = {
    1: (
        "malignant_cell",
        {
            m: frozenset({"cisplatin", "docetaxel", "epirubicin", "gemcitabine"})
            for m in ("mir_1246", "mir_423_5p")
        },
    ),
    2: ("malignant_cell", {m: frozenset({"oxaliplatin"}) for m in ("mir_128_3p", "mir_31_5p")}),
    3: ("malignant_cell", {m: frozenset({"fluorouracil"}) for m in ("mir_106a_5p", "mir_421")}),
    4: ("malignant_cell", {m: frozenset({"temozolomide"}) for m in ("mir_1238", "mir_151a")}),
    5: ("malignant_cell", {"mir_100_5p": frozenset({"cisplatin"})}),
    6: (
        "malignant_cell",
        {
            m: frozenset({"doxorubicin"})
            for m in (
                "mir_204_5p",
                "mir_139_5p",
                "mir_29c_5p",
                "mir_551b_3p",
                "mir_29b_2_5p",
                "mir_204_3p",
            )
        },
    ),
    7: (
        "malignant_cell",
        {"mir_425_3p": frozenset({"cisplatin"}), "mir_214": frozenset({"gefitinib"})},
    ),
    8: ("malignant_cell", {"mir_1246": frozenset({"paclitaxel"})}),
    9: ("malignant_cell", {m: frozenset({"gemcitabine"}) for m in ("mir_155", "mir_210")}),
    10: ("cancer_associated_fibroblast", {"mir_21": frozenset({"paclitaxel"})}),
    11: (
        "cancer_associated_fibroblast",
        {m: frozenset({"gemcitabine"}) for m in ("mir_106b", "mir_146a")},
    ),
    12: ("cancer_associated_fibroblast", {m: frozenset() for m in ("mir_16", "mir_148a")}),
    13: ("cancer_associated_fibroblast", {"mir_196a": frozenset({"cisplatin"})}),
    14: ("tumour_associated_macrophage", {"mir_365": frozenset({"gemcitabine"})}),
    15: ("tumour_associated_macrophage", {"mir_21": frozenset({"cisplatin"})}),
    16: ("tumour_associated_macrophage", {"mir_223": frozenset({"cisplatin"})}),
}

_CITATION = re.compile(r"\[(\d+(?:\s*[,\u2013-]\s*\d+)*)\]")


def normalise(text: str) -> str:
    """Collapse every run of whitespace (line breaks of the table included) to one space."""
    return " ".join(text.split())


def cited_numbers(text: str) -> set[int]:
    """The reference numbers in the text's brackets: ``[5,10,12]`` and ``[66-68]`` ranges."""
    numbers: set[int] = set()
    for group in _CITATION.findall(text):
        for item in group.split(","):
            first, _, last = item.replace("\u2013", "-").partition("-")
            numbers.update(range(int(first), int(last or first) + 1))
    return numbers


@dataclass(frozen=True)
class Review:
    """The review's text cut into the parts findings are stated in."""

    text: str
    spans: dict[str, str]
    rows: dict[int, str]


@cache
def review() -> Review:
    lines = paths.REVIEW_TEXT_FILE.read_text(encoding="utf-8").splitlines()
    where = {name: lines.index(heading) for name, heading in HEADINGS.items()}
    spans = {name: "\n".join(lines[where[name] + 1 : where[end]]) for name, end in SPAN_END.items()}
    spans["abstract"] = "\n".join(lines[lines.index("Abstract") + 1 : where["section_1"]])
    for number in (1, 2, 3):
        caption_at = [i for i, line in enumerate(lines) if line == f"Figure {number}"][0]
        spans[f"figure_{number}"] = next(line for line in lines[caption_at + 1 :] if line.strip())
    table = lines[where["table_1"] + 1 : where["references"]]
    header = next(i for i, line in enumerate(table) if line.startswith("Exosome Origin"))
    rows: list[str] = []
    for line in table[header + 1 :]:
        if not line.strip():
            continue
        if line.startswith("1 Cancer-associated fibroblast"):
            break
        # A cell listing two miRNAs, or the function column, may wrap onto its own line.
        if rows and line.startswith(("miR-", "Involved", "Transferred")):
            rows[-1] += "\n" + line
        else:
            rows.append(line)
    row_map = {number: row for number, row in enumerate(rows, start=1)}
    spans.update({f"table_1_row_{n}": row for n, row in row_map.items()})
    spans["review"] = "\n".join(lines)
    return Review("\n".join(lines), spans, row_map)


@dataclass
class Claim:
    """A finding or a statement (an ekg:ReviewAssertion) with the provenance it carries."""

    key: str
    quotes: list[str] = field(default_factory=list)
    parts: set[str] = field(default_factory=set)
    references: set[int] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)


def _local(iri: object) -> str:
    return str(iri).removeprefix(str(EKG))


@cache
def graph() -> Graph:
    g = Graph()
    for path in [
        paths.REVIEW_FILE,
        *sorted(paths.ENTITIES_DIR.glob("*.ttl")),
        *sorted(paths.SECTIONS_DIR.glob("*.ttl")),
    ]:
        g.parse(path, format="turtle")
    return g


def _reference_number(g: Graph, reference: object) -> int:
    number = g.value(reference, EKG.referenceNumber)  # type: ignore[arg-type]
    assert number is not None, (
        f"{_local(reference)} has no ekg:referenceNumber in triples/entities/references.ttl"
    )
    return int(number)


@cache
def claims() -> dict[str, Claim]:
    g = graph()
    found: dict[str, Claim] = {}
    for node in sorted(set(g.subjects(EKG.statedIn, None))):
        claim = Claim(_local(node))
        claim.quotes = sorted(str(q) for q in g.objects(node, EKG.quote))
        claim.parts = {_local(p) for p in g.objects(node, EKG.statedIn)}
        claim.references = {
            _reference_number(g, r) for r in g.objects(node, EKG.supportingReference)
        }
        claim.evidence = {str(e).removeprefix(str(OBO)) for e in g.objects(node, OBO.RO_0002558)}
        found[claim.key] = claim
    return found


def _claim_params() -> list[pytest.ParameterSet]:
    return [pytest.param(key, id=key) for key in sorted(claims())]


def _quote_params() -> list[pytest.ParameterSet]:
    return [
        pytest.param(key, quote, id=f"{key}#{i}")
        for key, claim in sorted(claims().items())
        for i, quote in enumerate(claim.quotes)
    ]


def test_review_text_has_every_part_and_sixteen_table_rows() -> None:
    text = review()
    assert sorted(text.rows) == list(range(1, 17)), (
        "Table 1 of triples/source/ should parse into rows 1-16"
    )
    assert "[Retracted]" in text.text, (
        "keep the reference list's [Retracted] marks in triples/source/"
    )
    for part, span in text.spans.items():
        assert span.strip(), f"the review part {part} has no text in {paths.REVIEW_TEXT_FILE}"


def test_every_finding_has_a_quote() -> None:
    bare = sorted(key for key, claim in claims().items() if not claim.quotes)
    assert not bare, f"add the review's supporting sentence as ekg:quote to: {bare}"


@pytest.mark.parametrize(("key", "quote"), _quote_params())
def test_quote_occurs_verbatim_in_the_review(key: str, quote: str) -> None:
    assert normalise(quote) in normalise(review().text), (
        f"{key}: the ekg:quote is not verbatim in {paths.REVIEW_TEXT_FILE.name} "
        "(only whitespace may "
        f"differ; a Table 1 row is its printed lines joined by spaces): {quote!r}"
    )


@pytest.mark.parametrize("key", _claim_params())
def test_stated_in_parts_are_where_the_quotes_stand(key: str) -> None:
    claim = claims()[key]
    spans = review().spans
    unknown = sorted(claim.parts - spans.keys())
    assert not unknown, (
        f"{key}: ekg:statedIn / dcterms:source {unknown} is not a part of the review "
        "(see triples/review.ttl)"
    )
    for quote in claim.quotes:
        homes = [p for p in claim.parts if normalise(quote) in normalise(spans[p])]
        assert homes, (
            f"{key}: the quote {quote[:70]!r}... stands in none of its parts "
            f"{sorted(claim.parts)}; fix ekg:statedIn"
        )
    for part in claim.parts - {"review"}:
        assert any(normalise(q) in normalise(spans[part]) for q in claim.quotes), (
            f"{key}: stated in {part}, but none of its quotes is from {part}: "
            "add that part's sentence as "
            "ekg:quote or drop the part"
        )


@pytest.mark.parametrize("key", _claim_params())
def test_bracketed_numbers_in_quotes_are_supporting_references(key: str) -> None:
    claim = claims()[key]
    printed = set().union(*(cited_numbers(q) for q in claim.quotes)) if claim.quotes else set()
    missing = {
        n for n in printed - claim.references if (key, n) not in PAIRED_AWAY | OTHER_CLAUSE.keys()
    }
    assert not missing, (
        f"{key}: its quotes cite {sorted(missing)}, which are not its "
        "ekg:supportingReference; "
        "add ekg:reference_<n>"
    )
    if key in INFERRED_CITATIONS:
        assert not printed and claim.evidence == {"ECO_0000305"}, (
            f"{key}: a curator-inferred citation needs an uncited quote and obo:ECO_0000305 only; "
            "otherwise remove it from INFERRED_CITATIONS"
        )
        return
    extra = claim.references - printed - {0}
    assert not extra, (
        f"{key}: cites {sorted(extra)}, which none of its quotes prints; "
        "quote the sentence that cites "
        "them or drop them"
    )
    if not printed:
        assert claim.references == {0}, (
            f"{key}: no quote cites a reference, so the only ekg:supportingReference is ekg:review "
            "(with obo:ECO_0000352)"
        )
    if claim.references == {0}:
        assert claim.evidence <= {"ECO_0000352"}, f"{key}: uncited statements take obo:ECO_0000352"


def test_findings_resting_only_on_retracted_papers_are_those_the_review_bases_on_them() -> None:
    """A finding rests only on retracted papers exactly when every number its quotes print is."""
    by_graph = {k for k, c in claims().items() if c.references and c.references <= RETRACTED}
    by_text = {
        k
        for k, c in claims().items()
        if (printed := set().union(*(cited_numbers(q) for q in c.quotes))) and printed <= RETRACTED
    }
    # An uncited summary rests on the studies the curator tied it to (INFERRED_CITATIONS).
    by_text |= {k for k in INFERRED_CITATIONS if claims()[k].references <= RETRACTED}
    assert by_graph == by_text, (
        f"rest only on retracted references in the graph but not in their quotes: "
        f"{sorted(by_graph - by_text)}; "
        f"the other way round: {sorted(by_text - by_graph)}"
    )
    assert by_graph == RETRACTED_ONLY, (
        f"findings resting only on retracted references: {sorted(by_graph)}; the review bases only "
        f"{sorted(RETRACTED_ONLY)} on them alone"
    )
    # Every sentence of sections 1-4 and Table 1 citing only retracted papers is such a finding.
    text = review()
    sentences = [
        s
        for part in ("section_1", "section_2", "section_3", "section_4")
        for s in re.split(r"(?<=[.\]])\s+(?=[A-Z])", normalise(text.spans[part]))
    ]
    sentences += [normalise(row) for row in text.rows.values()]
    for sentence in sentences:
        printed = cited_numbers(sentence)
        if not printed or not printed <= RETRACTED:
            continue
        quoting = [
            k for k, c in claims().items() if any(normalise(q) in sentence for q in c.quotes)
        ]
        assert quoting and set(quoting) <= by_graph, (
            f"the review bases {sentence[:80]!r}... only on retracted {sorted(printed)}: "
            "it needs a finding "
            f"quoting it and citing only those (found {quoting})"
        )


def test_retracted_references_are_typed_and_flagged() -> None:
    g = graph()
    for number in sorted(RETRACTED):
        reference = EKG[f"reference_{number}"]
        assert (reference, RDF.type, EKG.RetractedReference) in g, (
            f"type ekg:reference_{number} ekg:RetractedReference"
        )
        assert g.value(reference, EKG.retracted) == Literal(True), (
            f"ekg:reference_{number} needs ekg:retracted true"
        )
    flagged = {
        int(g.value(r, EKG.referenceNumber)) for r in g.subjects(RDF.type, EKG.RetractedReference)
    }
    assert flagged == RETRACTED, (
        f"only references {sorted(RETRACTED)} are marked [Retracted] in the review"
    )


def _table_params() -> list[pytest.ParameterSet]:
    return [
        pytest.param(row, mirna, id=f"row-{row}-{mirna}")
        for row, (_, mirnas) in TABLE_1.items()
        for mirna in mirnas
    ]


@pytest.mark.parametrize(("row", "mirna"), _table_params())
def test_table_1_row_is_a_finding_per_mirna_with_its_drugs_and_origin(row: int, mirna: str) -> None:
    g = graph()
    origin, mirnas = TABLE_1[row]
    printed = normalise(review().rows[row])
    found = [
        f
        for f in g.subjects(EKG.statedIn, EKG[f"table_1_row_{row}"])
        if (f, EKG.hasMiRNA, EKG[mirna]) in g
    ]
    assert len(found) == 1, (
        f"Table 1 row {row} lists ekg:{mirna}: expected one finding with "
        f"ekg:statedIn ekg:table_1_row_{row} "
        f"and ekg:hasMiRNA ekg:{mirna}, found {[_local(f) for f in found]}"
    )
    finding = found[0]
    drugs = {_local(d) for d in g.objects(finding, EKG.concernsDrug)}
    assert drugs == mirnas[mirna], (
        f"{_local(finding)}: row {row} gives ekg:{mirna} the drug(s) {sorted(mirnas[mirna])}, "
        f"the finding has {sorted(drugs)}"
    )
    sources = {_local(s) for s in g.objects(finding, EKG.sourceCellType)}
    assert sources == {origin}, (
        f"{_local(finding)}: row {row}'s exosome origin is ekg:{origin}, not {sorted(sources)}"
    )
    assert printed in {normalise(str(q)) for q in g.objects(finding, EKG.quote)}, (
        f"{_local(finding)}: quote row {row} as printed, its lines joined by spaces: {printed!r}"
    )


def test_every_reference_cited_in_the_review_is_cited_by_the_graph() -> None:
    g = graph()
    text = review()
    in_review = set().union(
        *(
            cited_numbers(text.spans[p])
            for p in ("abstract", "section_1", "section_2", "section_3", "section_4", "table_1")
        )
    )
    used = {
        _reference_number(g, r)
        for r in g.objects(None, EKG.supportingReference)
        if isinstance(r, URIRef)
    }
    missing = sorted(in_review - used - UNMODELLED_CITATIONS.keys())
    assert not missing, (
        f"the review cites {missing} but no finding or statement does: "
        "model the sentences citing them"
    )
    stale = sorted(UNMODELLED_CITATIONS.keys() & used)
    assert not stale, f"{stale} are now cited by the graph: remove them from UNMODELLED_CITATIONS"
    invented = sorted(used - in_review - {0})
    assert not invented, f"the graph cites {invented}, which the review's text never cites"


def test_reference_38_keeps_its_printed_year_findable() -> None:
    """The review prints ref 38's year as "1096"; the graph keeps the entry as printed."""
    g = graph()
    reference = EKG.reference_38
    printed = g.value(reference, DCTERMS.bibliographicCitation)
    assert printed is not None and "FASEB J. 1096;32" in str(printed), (
        "keep reference 38's entry as printed (year 1096) in dcterms:bibliographicCitation"
    )
    line = next(x for x in review().text.splitlines() if x.startswith("38."))
    assert normalise(str(printed)) == normalise(line.removeprefix("38.")), (
        "dcterms:bibliographicCitation of ekg:reference_38 should be its entry verbatim"
    )
    assert g.value(reference, EKG.typoNote) is not None, "explain the year 1096 in an ekg:typoNote"
