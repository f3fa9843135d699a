"""Search that finds what people type (issue 16, point 2): words of findings, identifiers,
ranking tiers, the true total with paging, groups by kind, JSON and 400s."""

from __future__ import annotations

import math

import pyoxigraph
import pytest
from flask import Flask
from flask.testing import FlaskClient

from exomirkg.web.graphdata import search_index
from exomirkg.web.search import PAGE_SIZE, TIERS, Document, SearchIndex, read_page, words

EKG = "https://w3id.org/exomirkg/"
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
#: Every property search-index.rq reads, for counting matches independently of the index.
FIELDS = ("rdfs:label|skos:altLabel|oboInOwl:hasExactSynonym|oboInOwl:hasDbXref|oboInOwl:id"
          "|ekg:doi|ekg:quote|dcterms:title|skos:exactMatch|skos:closeMatch|skos:broadMatch"
          "|skos:narrowMatch|skos:relatedMatch")
PREFIXES = f"""PREFIX ekg: <{EKG}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX oboInOwl: <http://www.geneontology.org/formats/oboInOwl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


def _json(client: FlaskClient, q: str, **params: object) -> dict:
    response = client.get("/search", query_string={"q": q, "format": "json", **params})
    assert response.status_code == 200, response.text
    return response.get_json()


def _locals(answer: dict) -> list[str]:
    return [hit["iri"][len(EKG):] for hit in answer["results"]]


def _matching(store: pyoxigraph.Store, *query_words: str) -> set[str]:
    """Items (with a label, in our namespace) holding every word in some searched field,
    counted by SPARQL string functions rather than by the index."""
    filters = " ".join(f'FILTER EXISTS {{ ?e {FIELDS} ?v{n} . '
                       f'FILTER(CONTAINS(LCASE(STR(?v{n})), "{word}")) }}'
                       for n, word in enumerate(query_words))
    rows = store.query(PREFIXES + "SELECT DISTINCT ?e WHERE { ?e rdfs:label ?l . "
                       f"FILTER(STRSTARTS(STR(?e), STR(ekg:))) {filters} }}",
                       use_default_graph_as_union=True)
    return {row["e"].value[len(EKG):] for row in rows}


def _all_pages(client: FlaskClient, q: str, **params: object) -> list[dict]:
    first = _json(client, q, **params)
    hits = list(first["results"])
    for page in range(2, first["pages"] + 1):
        hits += _json(client, q, page=page, **params)["results"]
    return hits


@pytest.mark.parametrize("query", ["exosome", "cisplatin resistance", "paclitaxel", "macrophage"])
def test_total_is_every_matching_item_counted_by_sparql(client: FlaskClient, store, query):
    expected = _matching(store, *query.split())
    answer = _json(client, query)
    assert answer["total"] == len(expected), (
        f"{query!r}: search says {answer['total']}, SPARQL finds {len(expected)}")
    got = {hit["iri"][len(EKG):] for hit in _all_pages(client, query)}
    assert got == expected, f"only searched: {got - expected}; only SPARQL: {expected - got}"


def test_exosome_has_the_true_total_over_pages(client: FlaskClient, store):
    answer = _json(client, "exosome")
    assert answer["total"] == 176 == len(_matching(store, "exosome"))
    assert answer["page_size"] == PAGE_SIZE and answer["pages"] == math.ceil(176 / PAGE_SIZE)
    assert len(answer["results"]) == PAGE_SIZE and answer["prev"] is None
    assert answer["next"] == "/search?q=exosome&page=2&format=json"
    last = _json(client, "exosome", page=answer["pages"])
    assert len(last["results"]) == 176 - PAGE_SIZE * (answer["pages"] - 1)
    assert last["next"] is None and last["prev"]
    iris = [hit["iri"] for hit in _all_pages(client, "exosome")]
    assert len(iris) == len(set(iris)) == 176, "pages overlap or leave items out"


def test_cisplatin_resistance_finds_the_cisplatin_resistance_findings_first(client, store):
    answer = _json(client, "cisplatin resistance")
    assert _locals(answer)[:8] == [
        "finding_2_2_caf_mir_522_cisplatin", "finding_2_3_tam_mir_223_cisplatin",
        "finding_2_2_caf_mir_196a_cisplatin", "finding_2_6_nsclc_mir_425_3p_cisplatin",
        "finding_2_3_tam_mir_21_cisplatin", "finding_2_2_caf_mir_98_5p_cisplatin",
        "finding_table_1_row_1_mir_1246", "finding_table_1_row_1_mir_423_5p"]
    assert answer["total"] == 17
    assert answer["groups"] == {"finding": 10, "reference": 7}
    # A finding whose quote alone holds both words comes after every label match.
    tiers = {hit["iri"][len(EKG):]: hit["tier"] for hit in answer["results"]}
    assert tiers["finding_2_6_mir_425_3p_biomarker_cisplatin"] == TIERS.index("quote or title")


@pytest.mark.parametrize("query", ["resistance cisplatin", "Cisplatin RESISTANCE",
                                   "cisplatin-resistance"])
def test_words_match_in_any_order_case_and_hyphen(client: FlaskClient, query: str):
    expected = _locals(_json(client, "cisplatin resistance"))
    assert _locals(_json(client, query)) == expected


@pytest.mark.parametrize("query", ["CAF miR-21", "miR-21 CAF", "caf MIR21", "CAFs mir 21"])
def test_caf_mir_21_finds_the_caf_mir_21_findings(client: FlaskClient, query: str):
    found = _locals(_json(client, query))
    assert {"finding_2_2_caf_mir_21_paclitaxel", "finding_2_2_mir_21_tgfb1_caf_formation",
            "finding_2_2_hcc_exosomes_mir_21_stellate_to_caf"} <= set(found[:4]), found


@pytest.mark.parametrize("query,local", [
    ("MIMAT0000076", "mir_21"),  # mirbase.mature xref (relatedMatch) of miR-21
    ("mirbase.mature:MIMAT0000076", "mir_21"),
    ("MI0000077", "mir_21"),  # the miRBase stem-loop
    ("CHEBI:27899", "cisplatin"),
    ("CHEBI_27899", "cisplatin"),
    ("GO:0006915", "apoptosis"),
    ("GO_0006915", "apoptosis"),
    ("10.1038/ncomms11150", "reference_39"),
    ("https://doi.org/10.1038/ncomms11150", "reference_39"),
    ("PMID:32545155", "review"),
])
def test_identifiers_and_curies_find_their_entity(client: FlaskClient, query: str, local: str):
    answer = _json(client, query)
    assert _locals(answer)[:1] == [local], f"{query!r}: {_locals(answer)[:3]}"
    assert answer["results"][0]["match"] == "exact synonym or identifier"


def test_identifier_is_mapped_in_the_graph(store):
    """The ID tests above rest on these triples: if curation moves them, fix the tests."""
    found = store.query(PREFIXES + 'ASK { ekg:mir_21 oboInOwl:hasDbXref '
                        '"mirbase.mature:MIMAT0000076" . ekg:cisplatin oboInOwl:hasDbXref '
                        '"CHEBI:27899" . ekg:reference_39 ekg:doi "10.1038/ncomms11150" }',
                        use_default_graph_as_union=True)
    assert bool(found), "the identifiers the search tests use are no longer in triples/"


def test_ranking_exact_label_then_prefix_then_contains_then_quotes(client: FlaskClient):
    hits = _all_pages(client, "exosome")
    assert hits[0]["iri"] == EKG + "exosome" and hits[0]["match"] == "exact label"
    tiers = [hit["tier"] for hit in hits]
    assert tiers == sorted(tiers), "hits are not in tier order"
    for hit in hits:
        label = hit["label"].lower()
        if hit["match"] == "label prefix":
            assert label.startswith("exosome"), hit
        elif hit["match"] == "label contains":
            assert "exosome" in label and not label.startswith("exosome"), hit
        elif hit["match"] == "quote or title":
            assert "exosome" not in label, hit
    assert {"exact label", "label prefix", "label contains", "quote or title"} <= {
        hit["match"] for hit in hits}


def test_exact_synonym_ranks_before_labels_that_start_with_it(client: FlaskClient):
    found = _json(client, "CAF")["results"]
    assert found[0]["iri"] == EKG + "cancer_associated_fibroblast", found[0]
    assert found[0]["matched"] == "CAF" and found[1]["match"] == "label prefix"


def test_index_ranks_every_tier_in_order():
    index = SearchIndex([
        Document(EKG + "quote", "unrelated", texts=("the word cisplatin in a quote",)),
        Document(EKG + "synonym_part", "other", synonyms=("cisplatin salt",)),
        Document(EKG + "contains", "low-dose cisplatin"),
        Document(EKG + "prefix", "cisplatin resistance"),
        Document(EKG + "synonym", "cis-diamminedichloroplatinum", synonyms=("cisplatin",)),
        Document(EKG + "exact", "Cisplatin"),
        Document(EKG + "none", "paclitaxel"),
    ])
    results = index.search("cisplatin")
    assert [h.iri[len(EKG):] for h in results.hits] == [
        "exact", "synonym", "prefix", "contains", "synonym_part", "quote"]
    assert [h.reason for h in results.hits] == list(TIERS[:6])
    assert results.total == 6


def test_words_keep_hyphenated_names_whole():
    assert words("Exosomal hsa-miR-21-5p (CAF-derived), cisplatin.") == [
        "exosomal", "mir215p", "cafderived", "cisplatin"]


def test_groups_count_every_hit_and_kind_narrows_to_one(client: FlaskClient):
    answer = _json(client, "exosome")
    assert sum(answer["groups"].values()) == answer["total"]
    assert answer["groups"]["finding"] == 56 and answer["groups"]["reference"] == 56
    findings = _all_pages(client, "exosome", kind="finding")
    assert len(findings) == 56 and {hit["group"] for hit in findings} == {"finding"}
    narrowed = _json(client, "exosome", kind="finding")
    assert narrowed["total"] == 56 and narrowed["groups"] == answer["groups"]


def test_groups_by_kind_on_the_page(client: FlaskClient):
    text = client.get("/search", query_string={"q": "cisplatin"}, headers=HTML).text
    assert 'data-kind="drug" data-count="1"' in text
    assert 'href="/search?q=cisplatin&amp;kind=finding"' in text
    assert 'id="search-total" data-total="' in text


def test_miRNA_drug_gene_and_cell_type_groups(client: FlaskClient):
    for query, local, group in [("miR-21", "mir_21", "miRNA"), ("cisplatin", "cisplatin", "drug"),
                                ("PTEN", "pten", "gene"), ("macrophage", "macrophage", "cell type"),
                                ("docetaxel", "docetaxel", "drug")]:
        first = _json(client, query)["results"][0]
        assert (first["iri"], first["group"]) == (EKG + local, group), first


def test_html_pages_link_to_each_other(client: FlaskClient):
    text = client.get("/search", query_string={"q": "exosome", "page": 2}, headers=HTML).text
    assert 'rel="prev" href="/search?q=exosome"' in text
    assert 'rel="next" href="/search?q=exosome&amp;page=3"' in text
    assert "176 results" in text and "26–50 shown" in text


def test_accept_json_still_answers_json(client: FlaskClient):
    response = client.get("/search?q=cisplatin", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert response.get_json()["results"][0]["iri"] == EKG + "cisplatin"


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page": "-1"}, {"page": "x"}, {"page": "1.5"}, {"page": ""},
    {"page": "99"}, {"page": "99999999999"}, {"kind": "spaceship"}, {"format": "xml"},
])
def test_bad_parameters_are_400(client: FlaskClient, params: dict):
    response = client.get("/search", query_string={"q": "exosome", **params})
    assert response.status_code == 400, f"{params}: {response.status_code}"


def test_read_page_says_what_is_wrong():
    assert read_page(None) == 1 and read_page("3") == 3
    with pytest.raises(ValueError, match="numbered from 1"):
        read_page("0")


def test_nothing_matches_is_a_page_with_zero_results(client: FlaskClient):
    assert _json(client, "zzqqxx")["total"] == 0
    assert _json(client, "")["total"] == 0


def test_index_is_built_once_per_app(app: Flask):
    with app.app_context():
        assert search_index() is search_index()


@pytest.mark.parametrize(("typed", "meant"), [
    ("cisplatn resistance", "cisplatin resistance"),
    ("cisplatin resistanse", "cisplatin resistance"),
    ("exosme biogenesis", "exosome biogenesis"),
])
def test_a_misspelt_word_is_respelt_and_said(client: FlaskClient, typed: str, meant: str):
    """One word found nowhere gets its closest word of the index; the answer is the respelt
    query's, in its order, and says which query it answers."""
    answer, expected = _json(client, typed), _json(client, meant)
    assert answer["corrected"] == meant
    assert expected["corrected"] is None
    assert answer["total"] == expected["total"] > 0
    assert [h["iri"] for h in answer["results"]] == [h["iri"] for h in expected["results"]]
    page = client.get("/search", query_string={"q": typed}).get_data(as_text=True)
    assert f'showing results for <a href="/search?q={meant.replace(" ", "+")}"' in page


@pytest.mark.parametrize("typed", ["cisplatn zzqqxx", "zzqqxx cisplatin", "mir21x cisplatn"])
def test_no_guess_when_a_word_has_no_close_spelling(client: FlaskClient, typed: str):
    """Every word must be found or respelt; IDs and names with digits are never guessed."""
    answer = _json(client, typed)
    assert answer["total"] == 0 and answer["corrected"] is None
