"""Issue 13 section 6: the evidence is shown to people on link, entity and section pages,
in the entity RDF views and in ``exomirkg explain``."""

from __future__ import annotations

import re

import pyoxigraph
import pytest
from flask.testing import FlaskClient

from exomirkg import paths
from exomirkg.explain import explain_drug

EKG = "https://w3id.org/exomirkg/"
HTML = {"Accept": "text/html"}


def _links(store: pyoxigraph.Store, kind: str = "InferredLink") -> list[str]:
    query = f"SELECT ?l WHERE {{ ?l a <{EKG}{kind}> }} ORDER BY ?l"
    return [row["l"].value[len(EKG):] for row in store.query(
        query, use_default_graph_as_union=True)]


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers=HTML)
    try:
        assert response.status_code == 200, f"{path}: {response.status_code}"
        return response.text
    finally:
        response.close()


def test_every_link_page_shows_its_chain_a_quote_a_reference_and_its_strength(
        client: FlaskClient, store: pyoxigraph.Store) -> None:
    links = _links(store)
    assert len(links) > 40, f"only {len(links)} inferred links: is the graph built?"
    weak = set(_links(store, "ClassLevelInferredLink"))
    empty = []
    for local in links:
        text = _page(client, f"/{local}")
        problems = [what for what, ok in (
            ("no 'Why ... is linked to' chain", "is linked to" in text and "→" in text),
            ("no quote", '<blockquote class="quote">' in text),
            ("no reference", re.search(r'class="ref[^"]*"', text) is not None),
            ("no strength", ("Class-level link" in text) if local in weak
             else ("Drug-level link" in text and "Class-level link" not in text)),
            ("still says it names nothing", "No finding of the review names" not in text),
        ) if not ok]
        if problems:
            empty.append(f"/{local}: {', '.join(problems)}")
    assert not empty, ("link pages must show their chain, supporting findings with quotes "
                       "and references, and strength (entity.html, entity-links.rq):\n"
                       + "\n".join(empty))


def test_class_level_link_page_says_so_and_shows_the_family_statement(
        client: FlaskClient) -> None:
    text = _page(client, "/link_cisplatin_drug_efflux")
    assert "Class-level link, the weaker kind" in text
    assert "rests only on class-level statements" in text
    assert "Statements the link rests on (1)" in text
    assert "are substrates to ABC transporters [80]" in text
    assert "doi:10.1186/s13048-016-0278-z" in text
    assert "Supporting findings (2)" in text  # §2.4 [81] and §1 route 2 [16,17] (issue 13)


def test_link_page_marks_retracted_support(client: FlaskClient) -> None:
    text = _page(client, "/link_gemcitabine_emt_induction")
    assert "Retracted support." in text
    assert "is-retracted" in text and "retracted</span>" in text


def test_section_page_lists_the_statements_and_findings_stated_in_it(
        client: FlaskClient) -> None:
    text = _page(client, "/section_2_1")
    assert "Statements made in this part (5)" in text
    assert "Drug resistance can be classified as intrinsic or acquired." in text
    assert "doi:10.1038/nrc3599" in text  # [22] Holohan 2013
    assert "No finding of the review names this entity directly" not in text
    text = _page(client, "/section_2_2")
    match = re.search(r"Findings stated in this part \((\d+)\)", text)
    assert match and int(match.group(1)) > 5, "section 2.2 must list its findings"


def test_cd44_page_shows_the_marker_statements_with_their_quotes(client: FlaskClient) -> None:
    text = _page(client, "/cd44")
    assert "Statements naming it (2)" in text
    assert "has high marker" in text
    assert "high expression of CD44 (CD44+) and low expression of CD24 (CD24-/low) [64]" in text
    assert "doi:10.5483/BMBRep.2017.50.6.039" in text
    assert "cell undergoing EMT" in text


def test_abc_transporters_page_shows_its_export_statements_with_their_source(
        client: FlaskClient) -> None:
    text = _page(client, "/abc_transporters")
    section = text[text.index("Statements about it"):text.index("Statements naming it")]
    for drug in ("cisplatin", "doxorubicin", "paclitaxel"):
        assert f">{drug}</a>" in section, f"/abc_transporters: no export statement for {drug}"
    assert section.count("are substrates to ABC transporters [80]") == 3
    assert "2.4. Transfer of Drug Resistance" in section
    # Shown once, with its evidence, not again as a bare "family exports drug" fact.
    assert "<dt>family exports drug</dt>" not in text


def test_curator_reading_is_labelled_on_a_statement(client: FlaskClient) -> None:
    text = _page(client, "/gefitinib")
    assert "Standard pharmacology, not a statement of the review" in text
    assert "curator reading" in text


@pytest.mark.parametrize("suffix", [".ttl", ".jsonld"])
def test_entity_rdf_views_carry_the_statements_with_their_evidence(client: FlaskClient,
                                                                   suffix: str) -> None:
    response = client.get(f"/cd44{suffix}")
    try:
        body = response.get_data(as_text=True)
    finally:
        response.close()
    assert "statementObject" in body and "high expression of CD44 (CD44+)" in body
    assert "reference_64" in body


def test_explain_prints_the_statements_a_link_rests_on_and_curator_readings(
        store: pyoxigraph.Store) -> None:
    text = explain_drug(store, "cisplatin", "drug efflux")
    for expected in ("statements: 1 class-level statement(s) the link rests on",
                     "statement ABC transporters family exports drug cisplatin",
                     'quote:      "Several cytotoxic drugs, such as cisplatin',
                     "reference:  [80] doi:10.1186/s13048-016-0278-z",
                     "stated in:  2.4.", "evidence:   ECO:0000304",
                     "(https://w3id.org/exomirkg/statement_abc_transporters_family_exports_drug"
                     "_cisplatin)"):
        assert expected in text, f"explanation lacks {expected!r}:\n{text}"
    # The family statement is the review's own (ECO:0000304); its editorial note only says how
    # it was recorded, so it is not flagged as a curator reading. The one curator reading is
    # §1's route 2 (issue 13): "transport of drug efflux pumps" read as the ABC transporters.
    assert text.count("CURATOR READING") == 1, text
    route = text.split("finding_1_tumour_exosomes_route_drug_efflux_pumps", 1)[1]
    assert "CURATOR READING" in route.split("\n  finding ", 1)[0], text


def test_a_statement_has_a_page_with_its_evidence(client: FlaskClient) -> None:
    text = _page(client, "/statement_cancer_stem_cell_has_high_marker_cd44")
    assert "The statement and its evidence" in text
    assert "high expression of CD44 (CD44+)" in text
    assert "[64] Kim W.T. 2017" in text and "doi:10.5483/BMBRep.2017.50.6.039" in text
    assert "author statement supported by traceable reference" in text
    assert "curator reading" not in text
    # The card is the page: its properties are not listed a second time.
    assert text.count("high expression of CD44 (CD44+)") == 1


def test_a_curator_reading_statement_is_flagged_on_its_page(client: FlaskClient) -> None:
    text = _page(client, "/statement_akt1_mtor_signaling_sub_pathway_of_mtor_signaling")
    assert "curator inference used in manual assertion" in text and "curator reading" in text


def test_link_rdf_view_carries_the_statement_it_rests_on(client: FlaskClient) -> None:
    """A link's Turtle names its supporting finding (prov:wasDerivedFrom) and also carries the
    class-level statement the chain goes through, with its quote, as the HTML page does."""
    response = client.get("/link_cisplatin_drug_efflux.ttl")
    try:
        body = response.get_data(as_text=True)
    finally:
        response.close()
    assert response.status_code == 200
    assert "statement_abc_transporters_family_exports_drug_cisplatin" in body
    assert "are substrates to ABC transporters [80]" in body


@pytest.mark.parametrize(("finding", "flagged"), [
    # "Less ABC transporter expression read as reduced drug efflux": ECO:0000305.
    ("finding_3_indomethacin_pixantrone_doxorubicin", True),
    # A note that only records the review's typo ("CDNK1B"): the review's own statement.
    ("finding_2_2_caf_mir_196a_cisplatin", False),
])
def test_findings_and_statements_flag_curator_readings_alike(client: FlaskClient, finding: str,
                                                             flagged: bool) -> None:
    """The badge means ECO:0000305 on a finding as on a statement; every note is shown."""
    text = _page(client, f"/{finding}")
    assert ('class="badge curator"' in text) is flagged
    assert '<p class="note aside">Curator note: ' in text


def test_the_readme_query_reads_findings_and_statements_alike(store: pyoxigraph.Store) -> None:
    """triples/README.md's example query: the ABC transporter family's assertions, findings
    and statements, each with its quote and references through the same properties."""
    readme = (paths.TRIPLES_DIR / "README.md").read_text(encoding="utf-8")
    query = readme.split("```sparql\n", 1)[1].split("```", 1)[0]
    rows = list(store.query(query, use_default_graph_as_union=True))
    kinds = {row["kind"].value for row in rows}
    assert kinds == {"finding", "statement"}
    statements = {row["assertion"].value.rsplit("/", 1)[-1] for row in rows
                  if row["kind"].value == "statement"}
    assert {"statement_abc_transporters_family_exports_drug_cisplatin",
            "statement_abcb1_member_of_family_abc_transporters"} <= statements
    assert all(row["quote"].value and row["reference"].value for row in rows)


def test_a_biomarker_card_reads_as_a_sentence(client: FlaskClient) -> None:
    text = _page(client, "/finding_2_6_mir_425_3p_biomarker_cisplatin")
    sentence = " ".join(re.sub(r"<[^>]+>", " ", text.split('<p class="sentence">', 1)[1]
                               .split("</p>", 1)[0]).split())
    assert "This is a biomarker of drug response to cisplatin ." in sentence, sentence


def test_a_finding_page_shows_each_fact_once(client: FlaskClient) -> None:
    text = _page(client, "/finding_2_2_caf_mir_21_paclitaxel")
    assert text.count("by downregulating the expression of apoptotic peptidase") == 1
    assert text.count('href="/apaf1"') == 1


def test_the_review_page_lists_no_reference_number_and_no_ids_as_synonyms(
        client: FlaskClient) -> None:
    text = _page(client, "/review")
    assert "reference number" not in text
    head = text.split("Findings (", 1)[0]
    assert '<dd class="synonyms">' not in head, "PMID and PMCID are IDs, not synonyms"
