"""End-to-end: the network's mechanism nodes, its filter state in the URL (toggle, back,
reload) and its layout, in a real headless Chromium against a real server (issue 16, point 5).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from geometry import Box, edges_behind_drugs
from helpers import wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Generous: the first query of a fresh server also starts its query worker.
WAIT = 60
START = "drug=cisplatin&mechanisms=1"
#: The mechanisms of the cisplatin findings that name a cargo (the network draws only those).
_MECHANISMS = """PREFIX ekg: <https://w3id.org/exomirkg/>
SELECT DISTINCT ?m WHERE {
  ?f a ekg:Finding ; ekg:concernsDrug|ekg:combinedWithDrug ekg:cisplatin ;
     ekg:hasMiRNA|ekg:hasProteinCargo|ekg:hasCargo ?cargo .
  GRAPH ?g { ?f ekg:viaMechanism ?m }
  FILTER(?g != <https://w3id.org/exomirkg/graph/inferred>)
}"""
#: What the page draws, read from the Cytoscape instance it exposes.
_DRAWN = """const cy = window.exomirkgNetwork;
return {nodes: cy.nodes().map(n => ({id: n.id(), kind: n.data('kind'), x: n.position('x'),
                                     y: n.position('y'), w: n.width(), h: n.height()})),
        edges: cy.edges().map(e => [e.source().id(), e.target().id()])};"""


def _wait_for_query(driver, query: str) -> None:
    """Until the drawing is that of ``query`` (network.js sets data-query when drawn)."""
    wait_until(driver, WAIT,
        lambda d: d.find_element(By.ID, "cy").get_attribute("data-query") == query)


def _state(driver) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(driver.current_url).query))


def _drawn(driver) -> dict:
    return driver.execute_script(_DRAWN)


def _behind(drawn: dict) -> list[str]:
    """The edges drawn through a drug box they do not end at (node boxes as Cytoscape has
    them: model position and size)."""
    boxes = {n["id"]: Box(n["x"], n["y"], n["w"], n["h"]) for n in drawn["nodes"]}
    kinds = {n["id"]: n["kind"] for n in drawn["nodes"]}
    return edges_behind_drugs(boxes, kinds, drawn["edges"])


def test_mechanisms_url_state_back_button_and_layout(driver, base_url, screenshot):
    driver.get(f"{base_url}/network?{START}")
    _wait_for_query(driver, START)
    screenshot("network-cisplatin-mechanisms")
    drawn = _drawn(driver)
    expected = {row["m"]["value"].rsplit("/", 1)[-1] for row in requests.post(
        base_url + "/sparql", data={"query": _MECHANISMS}, timeout=60,
        headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]}
    assert expected, "no cisplatin finding with a cargo names a mechanism: check the data"
    assert {n["id"] for n in drawn["nodes"] if n["kind"] == "mechanism"} == expected
    # No edge's straight segment passes through a drug box it does not end at.
    assert not _behind(drawn)
    start_nodes = {n["id"] for n in drawn["nodes"]}
    table = driver.find_element(By.ID, "network-findings").get_attribute("href")
    assert table.endswith("/findings?drug=cisplatin"), table

    # Ticking a box puts it in the URL and redraws.
    driver.find_element(By.NAME, "pathways").click()
    _wait_for_query(driver, START + "&pathways=1")
    assert _state(driver) == {"drug": "cisplatin", "mechanisms": "1", "pathways": "1"}
    assert any(n["kind"] == "pathway" for n in _drawn(driver)["nodes"])
    # Another drug: the URL, and the table link, follow.
    drugs = Select(driver.find_element(By.NAME, "drug"))
    other = next(o.get_attribute("value") for o in drugs.options
                 if o.get_attribute("value") not in ("", "cisplatin"))
    drugs.select_by_value(other)
    _wait_for_query(driver, f"drug={other}&mechanisms=1&pathways=1")
    assert driver.find_element(By.ID, "network-findings").get_attribute("href").endswith(
        f"/findings?drug={other}")
    assert not _behind(_drawn(driver))

    # Back twice: the controls and the drawing are those of the starting URL again.
    driver.back()
    _wait_for_query(driver, START + "&pathways=1")
    assert Select(driver.find_element(By.NAME, "drug")).first_selected_option \
        .get_attribute("value") == "cisplatin"
    driver.back()
    _wait_for_query(driver, START)
    assert _state(driver) == {"drug": "cisplatin", "mechanisms": "1"}
    assert not driver.find_element(By.NAME, "pathways").is_selected()
    assert driver.find_element(By.NAME, "mechanisms").is_selected()
    assert {n["id"] for n in _drawn(driver)["nodes"]} == start_nodes
    # A reload shows the same view.
    driver.refresh()
    _wait_for_query(driver, START)
    assert {n["id"] for n in _drawn(driver)["nodes"]} == start_nodes


def test_a_drug_page_opens_its_network(driver, base_url):
    driver.get(base_url + "/cisplatin")
    driver.find_element(By.CSS_SELECTOR, "a.network-focus").click()
    _wait_for_query(driver, "drug=cisplatin")
    assert _state(driver) == {"drug": "cisplatin"}
    assert "cisplatin" in driver.find_element(By.ID, "network-focus").text
