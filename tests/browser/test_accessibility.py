"""Accessibility: axe-core (Deque's engine, vendored from npm under tests/browser/vendor/, MPL
2.0) runs in headless Chromium on every kind of page; no serious or critical WCAG 2 A/AA
violation is allowed. Inside third-party widgets we check what we can fix from outside (labels,
colours); left out are CodeMirror's editing surface, cytoscape's canvas and YASGUI's tab strip,
whose ARIA tab roles are YASGUI's own markup (its tabs are links inside a tablist)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
#: One page of every kind: landing, browser, entity kinds, link, statement, editor, network,
#: search, downloads, ontology documentation, an example query, an error page.
PAGES = ["/", "/findings", "/findings?drug=cisplatin&sort=-mirna", "/statements", "/cisplatin",
         "/mir_21", "/finding_2_2_caf_mir_21_paclitaxel",
         "/statement_cancer_stem_cell_has_high_marker_cd44", "/link_cisplatin_drug_efflux",
         "/review", "/section_2_4", "/editor", "/network", "/search?q=cisplatin", "/download",
         "/ontology", "/queries/mirnas-of-the-review", "/no_such_entity"]
SERIOUS = {"serious", "critical"}


def _violations(driver) -> list[dict]:
    driver.execute_script(AXE)
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run({exclude: [['.yasqe .CodeMirror'], ['#cy canvas'], ['#yasgui .tabsList']]},
                {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
           .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
           .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
    """)


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(driver, base_url, path: str) -> None:
    driver.set_script_timeout(60)
    driver.get(base_url + path)
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
    serious = [v for v in _violations(driver) if v["impact"] in SERIOUS]
    assert not serious, "\n".join(f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}"
                                  for v in serious)
