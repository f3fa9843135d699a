"""The findings browser (/findings, /findings.csv, /statements) and the endpoint URLs in a
browser (/sparql, /queries/<name>), through the Flask test client.

Expected rows come from SPARQL on the session's store, never from the browser's own code.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pyoxigraph
import pytest
from flask.testing import FlaskClient

from exomirkg.web.facets import PAGE_SIZE

EKG = "https://w3id.org/exomirkg/"
INFERRED = EKG + "graph/inferred"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PREFIXES = f"PREFIX ekg: <{EKG}>\nPREFIX obo: <http://purl.obolibrary.org/obo/>\n"


def _findings(store: pyoxigraph.Store, pattern: str = "") -> set[str]:
    """Local names of the findings matching a pattern over ?f (asserted graphs for roles)."""
    query = (f"{PREFIXES}SELECT DISTINCT ?f WHERE {{ ?f a ekg:Finding . {pattern} }}")
    return {row["f"].value[len(EKG):]
            for row in store.query(query, use_default_graph_as_union=True)}


def _asserted(path: str, obj: str) -> str:
    return f"GRAPH ?g {{ ?f {path} {obj} }} FILTER (?g != <{INFERRED}>)"


def _rows(text: str) -> list[str]:
    return re.findall(r'data-finding="([^"]+)"', text)


def _total(text: str) -> int:
    match = re.search(r'data-total="(\d+)"', text)
    assert match, "the page should state its total (data-total)"
    return int(match.group(1))


def _count(text: str, facet: str, value: str) -> int | None:
    """The count shown next to a facet value, or None when the value is not offered."""
    match = re.search(rf'name="{facet}" value="{re.escape(value)}"[^>]*>\s*<span>[^<]*</span>'
                      r'\s*<span class="count">\((\d+)\)</span>', text)
    return int(match.group(1)) if match else None


def _csv(body: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8")), delimiter=delimiter))


def test_drug_filter_lists_exactly_the_findings_about_the_drug(client: FlaskClient, store):
    expected = _findings(store, _asserted("ekg:concernsDrug|ekg:combinedWithDrug",
                                          "ekg:cisplatin"))
    assert expected, "no finding about cisplatin: the review has several (sections 2.2, 2.3)"
    text = client.get("/findings?drug=cisplatin", headers=HTML).text
    assert set(_rows(text)) == expected and len(_rows(text)) == len(expected)
    assert _total(text) == len(expected)
    # The biologist's columns are there: miRNAs, mechanisms, references.
    assert 'data-column="mirna"><a href="/mir_21">miR-21</a>' in text
    assert 'href="/apoptosis_inhibition"' in text and 'href="/reference_' in text


def test_facet_counts_are_the_graphs_counts(client: FlaskClient, store):
    text = client.get("/findings", headers=HTML).text
    cisplatin = _findings(store, _asserted("ekg:concernsDrug|ekg:combinedWithDrug",
                                           "ekg:cisplatin"))
    assert _count(text, "drug", "cisplatin") == len(cisplatin)
    mir_21 = _findings(store, _asserted("ekg:hasMiRNA", "ekg:mir_21"))
    assert _count(text, "mirna", "mir_21") == len(mir_21)
    platinum = _findings(store, "GRAPH ?g { ?f ekg:concernsDrug|ekg:combinedWithDrug ?d } "
                                f"FILTER (?g != <{INFERRED}>) ?d a ekg:PlatinumDrug")
    assert _count(text, "drug_class", "PlatinumDrug") == len(platinum) > len(cisplatin)
    curator = _findings(store, _asserted("obo:RO_0002558", "obo:ECO_0000305"))
    assert _count(text, "evidence", "ECO:0000305") == len(curator)
    # With cisplatin chosen, another facet counts within the cisplatin findings only.
    chosen = client.get("/findings?drug=cisplatin", headers=HTML).text
    apoptosis = cisplatin & _findings(store, _asserted("ekg:viaMechanism",
                                                       "ekg:apoptosis_inhibition"))
    assert _count(chosen, "mechanism", "apoptosis_inhibition") == len(apoptosis) > 0
    # ... and the drug facet itself still counts over every finding (to add a second drug).
    assert _count(chosen, "drug", "paclitaxel") == len(_findings(
        store, _asserted("ekg:concernsDrug|ekg:combinedWithDrug", "ekg:paclitaxel")))


def test_filters_are_or_within_a_facet_and_and_across(client: FlaskClient, store):
    a = _findings(store, _asserted("ekg:viaMechanism", "ekg:apoptosis_inhibition"))
    b = _findings(store, _asserted("ekg:viaMechanism", "ekg:autophagy_activation"))
    either = client.get("/findings?mechanism=apoptosis_inhibition&mechanism="
                        "autophagy_activation", headers=HTML).text
    assert _total(either) == len(a | b)
    retracted = _findings(store, "?f ekg:supportingReference/ekg:retracted true")
    assert retracted, "the review cites retracted references (refs 71, 99, 101, 115)"
    kept = client.get("/findings?exclude_retracted=1&format=csv")
    assert {r["finding_id"].removeprefix("ekg:") for r in _csv(kept.data)} == (
        _findings(store) - retracted)


def test_paging_states_the_total_and_covers_every_finding_once(client: FlaskClient, store):
    every = _findings(store)
    first = client.get("/findings", headers=HTML).text
    assert _total(first) == len(every)
    assert len(_rows(first)) == min(PAGE_SIZE, len(every))
    pages = -(-len(every) // PAGE_SIZE)
    seen = []
    for page in range(1, pages + 1):
        seen += _rows(client.get(f"/findings?page={page}", headers=HTML).text)
    assert sorted(seen) == sorted(every), "the pages together should list each finding once"
    assert client.get(f"/findings?page={pages + 1}").status_code == 400


def _natural(text: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text.lower())]


def test_sort_orders_rows_by_a_column_both_ways(client: FlaskClient):
    def filled(sort: str) -> list[tuple[str, str]]:
        rows = _csv(client.get(f"/findings.csv?sort={sort}").data)
        cells = [(r["mirna"], r["finding_id"]) for r in rows if r["mirna"]]
        assert all(not r["mirna"] for r in rows[len(cells):]), "empty cells should come last"
        return cells

    up, down = filled("mirna"), filled("-mirna")
    assert [c for c, _ in up] == sorted((c for c, _ in up), key=_natural), "miR-21 < miR-100"
    assert down == list(reversed(up))
    html = client.get("/findings?sort=drug", headers=HTML).text
    drugs = re.findall(r'data-column="drug"><a href="/([^"]+)"', html)
    csv_drugs = [r["drug_ids"].split(" | ")[0].removeprefix("ekg:")
                 for r in _csv(client.get("/findings.csv?sort=drug").data)]
    assert drugs and drugs == csv_drugs[:len(drugs)], "HTML and CSV should be in the same order"
    assert 'aria-sort="ascending"' in html
    assert 'href="/findings?sort=-drug"' in html, "a sorted column's heading sorts it back"


def test_csv_and_tsv_export_the_filtered_view(client: FlaskClient, store):
    expected = _findings(store, _asserted("ekg:concernsDrug|ekg:combinedWithDrug",
                                          "ekg:cisplatin"))
    response = client.get("/findings.csv?drug=cisplatin")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="findings.csv"'
    rows = _csv(response.data)
    assert {r["finding_id"].removeprefix("ekg:") for r in rows} == expected
    assert all("cisplatin" in r["drug"] for r in rows)
    assert any(r["references"] and r["reference_dois"] for r in rows)
    assert client.get("/findings?drug=cisplatin&format=csv").data == response.data
    tsv = client.get("/findings.tsv?drug=cisplatin")
    assert tsv.mimetype == "text/tab-separated-values"
    assert tsv.headers["Content-Disposition"] == 'attachment; filename="findings.tsv"'
    assert _csv(tsv.data, "\t") == rows


@pytest.mark.parametrize("query", [
    "drug=cisplatin", "drug_class=PlatinumDrug&exclude_retracted=1",
    "mechanism=apoptosis_inhibition&mechanism=autophagy_activation", "gene=pten",
    "evidence=ECO:0000305&section=section_2_4", "exclude_retracted=1&sort=-genes",
])
def test_open_as_sparql_gives_the_same_rows(client: FlaskClient, store, query: str):
    text = client.get(f"/findings?{query}", headers=HTML).text
    href = re.search(r'id="open-sparql" href="([^"]+)"', text).group(1)
    url = urlsplit(href.replace("&amp;", "&"))
    assert url.path == "/editor"
    sparql = parse_qs(url.query)["query"][0]
    got = [row["finding"].value[len(EKG):]
           for row in store.query(sparql, use_default_graph_as_union=True)]
    shown = [r["finding_id"].removeprefix("ekg:")
             for r in _csv(client.get(f"/findings.csv?{query}").data)]
    assert sorted(got) == sorted(shown) and len(got) == len(set(got)), sparql
    # The editor opens it in its first tab.
    editor = client.get(href.replace("&amp;", "&"), headers=HTML).text
    assert '"id": "linked-query"' in editor


@pytest.mark.parametrize("query,says", [
    ("drug=no_such_drug", "no drug"), ("drug=mir_21", "no drug"), ("page=0", "page"),
    ("page=two", "page"), ("page=999", "page=999"), ("sort=colour", "sort"),
    ("sort=--drug", "sort"), ("drugs=cisplatin", "unknown parameter"),
    ("exclude_retracted=maybe", "exclude_retracted"), ("format=xlsx", "format"),
])
def test_bad_parameters_are_400_saying_which(client: FlaskClient, query: str, says: str):
    plain = client.get(f"/findings?{query}", headers={"Accept": "text/plain"})
    assert plain.status_code == 400 and plain.mimetype == "text/plain"
    assert says in plain.text, plain.text
    page = client.get(f"/findings?{query}", headers=HTML)
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert client.get(f"/findings.csv?{query}").status_code == 400


def test_export_url_and_statements_refuse_stray_parameters(client: FlaskClient):
    assert client.get("/findings.csv?format=tsv").status_code == 400
    assert client.get("/findings.xlsx").status_code == 404
    assert client.get("/statements?drug=cisplatin").status_code == 400
    assert client.get("/statements?exclude_retracted=perhaps").status_code == 400


def test_statements_tab_lists_every_statement(client: FlaskClient, store):
    count = int(next(iter(store.query(
        f"{PREFIXES}SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ekg:Statement }}",
        use_default_graph_as_union=True)))["n"].value)
    text = client.get("/statements", headers=HTML).text
    assert _total(text) == count == text.count("<tr") - 1
    assert f"Statements ({count})" in client.get("/findings", headers=HTML).text


def test_landing_network_and_entity_pages_link_to_the_browser(client: FlaskClient):
    assert 'href="/findings"' in client.get("/", headers=HTML).text
    assert 'id="network-findings" href="/findings"' in client.get("/network").text
    cisplatin = client.get("/cisplatin", headers=HTML).text
    assert 'href="/findings?drug=cisplatin"' in cisplatin
    # A cell type is a source in some findings and a recipient in others: one link each.
    cell = client.get("/malignant_cell", headers=HTML).text
    assert 'href="/findings?source=malignant_cell"' in cell
    assert 'href="/findings?recipient=malignant_cell"' in cell


class _Controls(HTMLParser):
    """Form controls, and which of them no label names (wrapping <label>, for=, aria-label)."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled_ids: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None], bool]] = []
        self.depth = 0
        self.button: dict[str, str | None] | None = None
        self.button_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.depth += 1
            if a.get("for"):
                self.labelled_ids.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append((tag, a, self.depth > 0 or bool(a.get("aria-label"))))
        elif tag == "button":
            self.button, self.button_text = a, ""

    def handle_endtag(self, tag):
        if tag == "label":
            self.depth -= 1
        elif tag == "button" and self.button is not None:
            self.controls.append(("button", self.button, bool(self.button_text.strip())))
            self.button = None

    def handle_data(self, data):
        if self.button is not None:
            self.button_text += data

    def unlabelled(self) -> list[str]:
        return [f"<{tag} {a}>" for tag, a, ok in self.controls
                if not ok and a.get("id") not in self.labelled_ids]


@pytest.mark.parametrize("path", ["/findings", "/findings?drug=cisplatin&sort=-drug",
                                  "/statements", "/queries/autophagy-mirnas"])
def test_every_control_has_a_label(client: FlaskClient, path: str):
    parser = _Controls()
    parser.feed(client.get(path, headers=HTML).text)
    assert parser.controls, f"{path}: no form controls found"
    assert not parser.unlabelled(), f"{path}: give these a <label>: {parser.unlabelled()}"


# -- the machine URLs opened in a browser (issue 16, point 3) ------------------------------------

def test_sparql_in_a_browser_is_the_editor(client: FlaskClient):
    response = client.get("/sparql", headers=HTML)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert 'id="yasgui"' in response.text and "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("headers", [{}, {"Accept": "*/*"}, {"Accept": "text/turtle"},
                                     {"Accept": "text/turtle, text/html;q=0.5"}])
def test_sparql_for_programs_is_still_the_service_description(client: FlaskClient,
                                                              headers: dict[str, str]):
    response = client.get("/sparql", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/turtle"


def test_example_query_in_a_browser_shows_it_with_a_run_button(client: FlaskClient):
    response = client.get("/queries/autophagy-mirnas", headers=HTML)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "SELECT" in response.text and 'id="run-in-editor"' in response.text
    assert 'href="/editor#autophagy-mirnas"' in response.text
    assert client.get("/queries/autophagy-mirnas?format=csv", headers=HTML).mimetype == "text/csv"
    assert client.get("/queries/autophagy-mirnas").mimetype == "application/sparql-results+json"
