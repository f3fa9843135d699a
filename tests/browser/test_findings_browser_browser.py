"""End-to-end: a cancer biologist's question in the findings browser, in a real Chromium.

"Which miRNAs confer cisplatin resistance, through which mechanism, citing which papers?":
from the landing page, in at most three clicks and without typing SPARQL; then the CSV export
of that filtered view.
"""

from __future__ import annotations

import csv
import io

import pytest
import requests
from helpers import wait_until
from selenium.webdriver.common.by import By

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 60
_CISPLATIN = """PREFIX ekg: <https://w3id.org/exomirkg/>
SELECT DISTINCT ?f WHERE {
  ?f a ekg:Finding . GRAPH ?g { ?f ekg:concernsDrug|ekg:combinedWithDrug ekg:cisplatin }
  FILTER (?g != <https://w3id.org/exomirkg/graph/inferred>) }"""


def _cisplatin_findings(base_url: str) -> set[str]:
    response = requests.post(base_url + "/sparql", data={"query": _CISPLATIN},
                             headers={"Accept": "text/csv"}, timeout=60)
    response.raise_for_status()
    rows = list(csv.DictReader(io.StringIO(response.text)))
    return {row["f"].rsplit("/", 1)[-1] for row in rows}


def _rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#findings-table tbody tr")


def test_biologist_finds_cisplatin_mirnas_mechanisms_and_references(driver, base_url,
                                                                   screenshot):
    expected = _cisplatin_findings(base_url)
    assert expected, "no finding about cisplatin in the build"
    clicks = 0
    driver.get(base_url + "/")
    driver.find_element(By.ID, "findings-card").click()
    clicks += 1
    wait_until(driver, WAIT, lambda d: _rows(d))
    everything = int(driver.find_element(By.CSS_SELECTOR, "[data-total]")
                     .get_attribute("data-total"))
    box = driver.find_element(By.CSS_SELECTOR, "input[name=drug][value=cisplatin]")
    label = box.find_element(By.XPATH, "ancestor::label").text
    assert "cisplatin" in label and f"({len(expected)})" in label, label
    box.click()  # the form applies itself on change
    clicks += 1
    wait_until(driver, WAIT, lambda d: "drug=cisplatin" in d.current_url)
    wait_until(driver, WAIT,
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-total]").get_attribute("data-total")
        == str(len(expected)))
    rows = _rows(driver)
    screenshot("findings-cisplatin")
    assert clicks <= 3
    shown = {row.get_attribute("data-finding") for row in rows}
    assert shown == expected, "the table should list exactly the findings about cisplatin"
    mirnas = {td.text for td in driver.find_elements(By.CSS_SELECTOR, "td[data-column=mirna]")}
    mechanisms = {td.text for td in
                  driver.find_elements(By.CSS_SELECTOR, "td[data-column=mechanisms]")}
    references = [td.text for td in
                  driver.find_elements(By.CSS_SELECTOR, "td[data-column=references]")]
    assert "miR-21" in mirnas and "apoptosis inhibition" in mechanisms
    assert all(text.startswith("[") for text in references), "every finding cites a reference"
    chip = driver.find_element(By.CSS_SELECTOR, "ul.chips")
    assert "cisplatin" in chip.text, "the active filter should be shown"

    # The filtered view as CSV: the same findings, readable by the csv module.
    href = driver.find_element(By.ID, "export-csv").get_attribute("href")
    assert "drug=cisplatin" in href
    export = requests.get(href, timeout=60)
    assert export.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["finding_id"].removeprefix("ekg:") for r in rows} == expected
    assert any("miR-21" in r["mirna"] for r in rows)

    # The filter lives in the URL: the back button returns to every finding.
    driver.back()
    wait_until(driver, WAIT, lambda d: "drug=cisplatin" not in d.current_url)
    total = driver.find_element(By.CSS_SELECTOR, "[data-total]").get_attribute("data-total")
    assert int(total) == everything


def test_sparql_url_in_a_browser_opens_the_editor(driver, base_url, screenshot):
    driver.get(base_url + "/sparql")
    wait_until(driver, WAIT,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".yasqe_queryButton"))
    screenshot("sparql-url-in-browser")
    assert driver.find_element(By.TAG_NAME, "h1").text == "SPARQL editor"
