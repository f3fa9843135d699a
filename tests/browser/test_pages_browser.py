"""End-to-end: the pages in a real headless Chromium against a real server."""

from __future__ import annotations

import pytest
import requests
from helpers import wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Generous: the first query of a fresh server also starts its query worker.
WAIT = 60

_FINDINGS_OF_MIRNAS = """PREFIX ekg: <https://w3id.org/exomirkg/>
SELECT ?mirna (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a ekg:Finding ; ekg:hasMiRNA ?mirna }
GROUP BY ?mirna ORDER BY DESC(?n) ?mirna LIMIT 1"""


def _sparql(base_url: str, query: str) -> list[dict]:
    response = requests.post(base_url + "/sparql", data={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    response.raise_for_status()
    return response.json().get("results", {}).get("bindings", [])


def _wait(driver, condition):
    return wait_until(driver, WAIT, condition)


def test_landing_page_shows_live_counts(driver, base_url, screenshot):
    driver.get(base_url + "/")
    findings = driver.find_element(By.CSS_SELECTOR, "[data-count=findings]").text
    expected = _sparql(base_url, "PREFIX ekg: <https://w3id.org/exomirkg/> SELECT "
                       "(COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a ekg:Finding }")[0]["n"]["value"]
    screenshot("landing")
    assert findings == expected, "the landing page's finding count differs from /sparql's"


def _result_rows(driver) -> list:
    """Rows of the YASR table, without DataTables' "No data available" placeholder."""
    return [row for row in driver.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr tbody tr")
            if not row.find_elements(By.CSS_SELECTOR, "td.dataTables_empty")]


def test_editor_runs_an_example_query_and_shows_rows(driver, base_url, screenshot):
    driver.get(base_url + "/editor")
    _wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR, ".yasqe_queryButton")))
    tabs = driver.execute_script(
        "return JSON.parse(document.getElementById('example-queries').textContent);")
    assert tabs, "the editor has no example query tabs"
    expected = None
    for tab in tabs:  # the first example that has answers on this build
        count = len(_sparql(base_url, tab["query"]))
        if count:
            expected = (tab, count)
            break
    assert expected, "no example query returns rows: add findings to triples/sections/"
    tab, count = expected
    Select(driver.find_element(By.ID, "example-picker")).select_by_value(tab["id"])
    driver.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()
    _wait(driver, lambda d: _result_rows(d))
    rows = _result_rows(driver)
    screenshot("editor")
    assert len(rows) == min(count, 50), (
        f"{tab['id']}: YASGUI shows {len(rows)} rows, /sparql returns {count} (page size 50)")


def test_editor_shows_the_server_message_for_a_malformed_query(driver, base_url, screenshot):
    broken = "SELECT * WHERE { ?s ?p "
    server = requests.post(base_url + "/sparql", data={"query": broken}, timeout=60)
    assert server.status_code == 400
    driver.get(base_url + "/editor")
    _wait(driver, ec.element_to_be_clickable((By.CSS_SELECTOR,
                                              ".tabPanel.active .yasqe_queryButton")))
    driver.execute_script("window.exomirkgYasgui.getTab().getYasqe().setValue(arguments[0]);",
                          broken)
    driver.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()
    error = _wait(driver, ec.visibility_of_element_located(
        (By.CSS_SELECTOR, ".tabPanel.active .yasr .errorResult")))
    _wait(driver, lambda d: error.text.strip())
    screenshot("editor-error")
    first_line = server.text.strip().splitlines()[0][:40]
    assert first_line in error.text, f"YASR shows {error.text!r}, not the server's {first_line!r}"


def test_entity_page_renders_its_findings(driver, base_url, screenshot):
    rows = _sparql(base_url, _FINDINGS_OF_MIRNAS)
    assert rows, "no ekg:Finding with a miRNA in the build: add findings to triples/sections/"
    mirna, count = rows[0]["mirna"]["value"], int(rows[0]["n"]["value"])
    driver.get(base_url + "/" + mirna.rsplit("/", 1)[-1])
    cards = driver.find_elements(By.CSS_SELECTOR, "article.finding")
    screenshot("entity-mirna")
    assert len(cards) == count, f"{mirna}: {len(cards)} finding cards, {count} findings"
    assert cards[0].find_elements(By.CSS_SELECTOR, "blockquote.quote"), "finding without quote"


def test_network_draws_nodes_and_a_drug_filter_changes_them(driver, base_url, screenshot):
    driver.get(base_url + "/network")
    cy = driver.find_element(By.ID, "cy")
    _wait(driver, lambda d: int(cy.get_attribute("data-nodes") or 0) > 0)
    before = int(cy.get_attribute("data-nodes"))
    canvas = driver.find_elements(By.CSS_SELECTOR, "#cy canvas")
    screenshot("network")
    assert canvas, "Cytoscape drew no canvas"
    drugs = Select(driver.find_element(By.NAME, "drug"))
    assert len(drugs.options) > 2, "the network needs findings about at least two drugs"
    drugs.select_by_index(1)
    _wait(driver, lambda d: int(cy.get_attribute("data-nodes") or 0) != before)
    after = int(cy.get_attribute("data-nodes"))
    screenshot("network-filtered")
    assert 0 < after < before, f"filtering by one drug gave {after} nodes (all: {before})"
    drugs.select_by_index(0)
    _wait(driver, lambda d: int(cy.get_attribute("data-nodes") or 0) == before)
    driver.find_element(By.NAME, "genes").click()
    _wait(driver, lambda d: int(cy.get_attribute("data-nodes") or 0) != before)
    screenshot("network-genes")
    assert int(cy.get_attribute("data-nodes")) > before, "'target genes' should add gene nodes"


def test_search_finds_mir_21_from_mir21(driver, base_url, screenshot):
    driver.get(base_url + "/")
    box = driver.find_element(By.ID, "site-search")
    box.send_keys("mir21")
    box.submit()
    first = _wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li a")))
    screenshot("search")
    assert first.text == "miR-21", f"first hit for 'mir21' is {first.text!r}"


@pytest.mark.parametrize("path,name", [
    ("/download", "downloads"), ("/ontology", "ontology"), ("/ontology/Finding", "ontology-term"),
    ("/gemcitabine", "entity-drug"), ("/reference_71", "entity-retracted-reference"),
    ("/graph/section/2-2", "named-graph"), ("/network", "network-start"),
    ("/editor", "editor-start"),
    # The landing page's JSON-LD block is data: the CSP must not report it as a script.
    ("/", "landing-console"), ("/service", "service-vocabulary"),
])
def test_page_renders_without_console_errors(driver, base_url, screenshot, path, name):
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(base_url + path)
    heading = driver.find_element(By.TAG_NAME, "h1").text
    screenshot(name)
    assert heading, f"{path} has no heading"
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"{path}: browser console errors {errors}"


def test_a_long_page_title_fits_a_phone_screen(driver, base_url, screenshot):
    """Issue 16's glitch: a finding's long title ran off a 375-pixel screen."""
    path = "/finding_2_2_cafs_promote_growth_angiogenic_invasive_phenotypes"
    driver.set_window_size(375, 800)
    try:
        driver.get(base_url + path)
        heading = _wait(driver, ec.presence_of_element_located((By.TAG_NAME, "h1")))
        screenshot("phone-finding-title")
        viewport = driver.execute_script("return document.documentElement.clientWidth")
        right = driver.execute_script(
            "return arguments[0].getBoundingClientRect().right", heading)
        assert right <= viewport + 1, f"the title ends at {right}px on a {viewport}px screen"
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"), (
            "the page scrolls sideways on a phone")
    finally:
        driver.set_window_size(1400, 1000)


def test_an_example_answers_itself_when_opened(driver, base_url, screenshot):
    """Issue 16 point 4: opening an example (by its link, then by the picker) shows its
    description and its rows without pressing run."""
    first, second = "mirnas-of-the-review", "cisplatin-resistance-mechanisms"
    driver.get(f"{base_url}/editor#{first}")
    tabs = {tab["id"]: tab for tab in driver.execute_script(
        "return JSON.parse(document.getElementById('example-queries').textContent);")}
    expected = {name: len(_sparql(base_url, tabs[name]["query"])) for name in (first, second)}
    assert expected[first] == 35 and expected[second], expected
    _wait(driver, lambda d: len(_result_rows(d)) == min(expected[first], 50))
    shown = driver.find_element(By.ID, "example-description").text
    assert shown and shown == " ".join(tabs[first]["description"].split()), shown
    Select(driver.find_element(By.ID, "example-picker")).select_by_value(second)
    _wait(driver, lambda d: len(_result_rows(d)) == min(expected[second], 50))
    assert driver.find_element(By.ID, "example-description").text == " ".join(
        tabs[second]["description"].split())
    screenshot("editor-example-answered")
