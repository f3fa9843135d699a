"""Issue 16 point 2 in a real browser: a biologist types words and identifiers into the
landing page's search box and reaches the finding or entity they meant."""

from __future__ import annotations

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30


def _search_from_landing(driver, base_url: str, words: str) -> None:
    driver.get(base_url + "/")
    box = WebDriverWait(driver, WAIT).until(
        ec.element_to_be_clickable((By.ID, "hero-search")))
    box.send_keys(words, Keys.ENTER)
    WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.ID, "search-total")))


def test_words_in_any_order_find_the_findings_with_the_true_total(driver, base_url,
                                                                  screenshot) -> None:
    _search_from_landing(driver, base_url, "resistance cisplatin")
    total = int(driver.find_element(By.ID, "search-total").get_attribute("data-total"))
    answer = requests.get(base_url + "/search", params={"q": "cisplatin resistance",
                                                        "format": "json"}, timeout=30).json()
    assert total == answer["total"] > 10, "word order must not change what is found"
    groups = {g.get_attribute("data-kind"): int(g.get_attribute("data-count"))
              for g in driver.find_elements(By.CSS_SELECTOR, "section.result-group")}
    assert groups.get("finding", 0) >= 10, groups
    screenshot("search-cisplatin-resistance")
    first = driver.find_element(By.CSS_SELECTOR, 'section.result-group[data-kind="finding"] '
                                                 "ol.hits li a")
    label = first.text
    first.click()
    heading = WebDriverWait(driver, WAIT).until(
        ec.presence_of_element_located((By.TAG_NAME, "h1")))
    assert heading.text == label
    assert "cisplatin" in driver.find_element(By.TAG_NAME, "main").text.lower()


def test_an_identifier_finds_its_entity_first(driver, base_url) -> None:
    for identifier, label in (("CHEBI:27899", "cisplatin"), ("MIMAT0000076", "miR-21")):
        _search_from_landing(driver, base_url, identifier)
        first = driver.find_element(By.CSS_SELECTOR, "ol.hits li a")
        assert first.text == label, f"{identifier}: first hit {first.text!r}"


def test_a_typo_is_respelt_and_the_respelt_query_is_one_click_away(driver, base_url,
                                                                    screenshot) -> None:
    _search_from_landing(driver, base_url, "cisplatn resistance")
    notice = driver.find_element(By.ID, "search-corrected")
    assert "cisplatin resistance" in notice.text
    total = int(driver.find_element(By.ID, "search-total").get_attribute("data-total"))
    answer = requests.get(base_url + "/search", params={"q": "cisplatin resistance",
                                                        "format": "json"}, timeout=30).json()
    assert total == answer["total"] > 10
    screenshot("search-typo-respelt")
    # By keyboard (the link may wrap, and a wrapped link's middle is not on its text).
    notice.find_element(By.TAG_NAME, "a").send_keys(Keys.ENTER)
    WebDriverWait(driver, WAIT).until(ec.url_contains("q=cisplatin+resistance"))
    assert not driver.find_elements(By.ID, "search-corrected")
    assert int(driver.find_element(By.ID, "search-total").get_attribute("data-total")) == total
