"""The network view answers "via which mechanism" (issue 16, point 5): mechanism and pathway
nodes, the filter state in the URL, a focused view of one drug or miRNA, and a layout where
no edge runs behind a drug it does not end at. Through the Flask test client."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph
import pytest
from flask import Flask
from flask.testing import FlaskClient
from geometry import Box, edges_behind_drugs, segment_crosses_box

from exomirkg.evidence import FindingView, Mention
from exomirkg.web.cytoscape import network_elements

EKG = "https://w3id.org/exomirkg/"
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
#: What the network draws of a finding: its cargo, source cell types and drugs, and with
#: mechanisms=1 its mechanisms. Asserted statements only, as all-findings.rq reads them.
_NEIGHBOURHOOD = """PREFIX ekg: <https://w3id.org/exomirkg/>
SELECT DISTINCT ?x WHERE {{
  ?f a ekg:Finding .
  GRAPH ?g {{ ?f {focus_property} ekg:{local} ; ?cargoProperty ?cargo }}
  VALUES ?cargoProperty {{ ekg:hasMiRNA ekg:hasProteinCargo ekg:hasCargo }}
  GRAPH ?h {{ ?f ?p ?x }}
  VALUES ?p {{ ekg:hasMiRNA ekg:hasProteinCargo ekg:hasCargo ekg:sourceCellType
              ekg:concernsDrug {extra} }}
  FILTER(?g != ekg:graph\\/inferred && ?h != ekg:graph\\/inferred)
}}"""
#: The filter parameter -> the properties a finding names the focused entity with.
_FOCUS_PROPERTIES = {"drug": "ekg:concernsDrug|ekg:combinedWithDrug",
                     "mirna": "ekg:hasMiRNA|ekg:hasProteinCargo|ekg:hasCargo"}


def _expected(store: pyoxigraph.Store, name: str, local: str, extra: str = "") -> set[str]:
    query = _NEIGHBOURHOOD.format(focus_property=_FOCUS_PROPERTIES[name], local=local,
                                  extra=extra)
    return {row["x"].value.removeprefix(EKG)
            for row in store.query(query, use_default_graph_as_union=True)}


def _ids(elements: dict[str, Any], kind: str | None = None) -> set[str]:
    return {n["data"]["id"] for n in elements["nodes"] if kind in (None, n["data"]["kind"])}


# -- mechanism nodes and the focused view ------------------------------------------------------

def test_cisplatin_with_mechanisms_draws_exactly_its_neighbourhood(client: FlaskClient,
                                                                   store: pyoxigraph.Store):
    """The node set of /network.json?drug=cisplatin&mechanisms=1 is what SPARQL says the
    cisplatin findings with a cargo name: their cargo, cells, drugs and mechanisms."""
    plain = client.get("/network.json?drug=cisplatin").get_json()
    assert _ids(plain) == _expected(store, "drug", "cisplatin")
    assert not _ids(plain, "mechanism"), "mechanisms are drawn only when asked for"
    shown = client.get("/network.json?drug=cisplatin&mechanisms=1").get_json()
    expected = _expected(store, "drug", "cisplatin", "ekg:viaMechanism")
    assert _ids(shown) == expected
    mechanisms = expected - _ids(plain)
    assert mechanisms, "no cisplatin finding with a cargo names a mechanism: check the data"
    assert _ids(shown, "mechanism") == mechanisms
    # Every mechanism hangs off a cargo, coloured by the finding's effect direction.
    for e in shown["edges"]:
        if e["data"]["target"] in mechanisms:
            assert e["data"]["source"] in _ids(shown, "mirna") | _ids(shown, "cargo")
            assert e["data"]["kind"] == "mechanism"
            assert e["data"]["direction"] in {"resistance", "sensitivity", "other"}
    with_pathways = client.get("/network.json?drug=cisplatin&pathways=1").get_json()
    assert _ids(with_pathways) == _expected(
        store, "drug", "cisplatin", "ekg:activatesPathway ekg:inhibitsPathway ekg:affectsPathway")


def test_a_mirna_focus_draws_its_neighbourhood(client: FlaskClient, store: pyoxigraph.Store):
    elements = client.get("/network.json?mirna=mir_21&mechanisms=1").get_json()
    assert _ids(elements) == _expected(store, "mirna", "mir_21", "ekg:viaMechanism")
    assert "mir_21" in _ids(elements, "mirna")


def _finding(local: str, effect: str, mechanism: str) -> FindingView:
    view = FindingView(iri=EKG + local, label=local)
    view.roles = {"mirna": [Mention(EKG + "mir_x", "x")], "drug": [Mention(EKG + "d", "d")],
                  "effect": [Mention(EKG + effect, effect)],
                  "mechanism": [Mention(EKG + mechanism, mechanism)],
                  "pathway_down": [Mention(EKG + "pi3k", "PI3K")]}
    return view


def test_mechanism_and_pathway_edges_are_split_by_effect_direction(app: Flask):
    """A resistance and a sensitivity finding through the same mechanism are two edges of
    two colours, as the edges to the drug are; without the flags there are neither."""
    findings = [_finding("f1", "confers_resistance", "autophagy"),
                _finding("f2", "restores_sensitivity", "autophagy")]
    with app.test_request_context():
        plain = network_elements(findings)
        shown = network_elements(findings, mechanisms=True, pathways=True)
    assert _ids(plain) == {"mir_x", "d"}
    assert _ids(shown, "mechanism") == {"autophagy"} and _ids(shown, "pathway") == {"pi3k"}
    for target in ("autophagy", "pi3k", "d"):
        directions = sorted(e["data"]["direction"] for e in shown["edges"]
                            if e["data"]["target"] == target)
        assert directions == ["resistance", "sensitivity"], target


# -- the filter state in the URL ---------------------------------------------------------------

def test_the_page_is_filled_from_the_query_string(client: FlaskClient):
    text = client.get("/network?drug=cisplatin&mechanisms=1&exclude_retracted=1",
                      headers=HTML).text
    assert re.search(r'<option value="cisplatin" selected>', text)
    assert re.search(r'name="mechanisms" value="1" checked', text)
    assert re.search(r'name="exclude_retracted" value="1" checked', text)
    assert not re.search(r'name="genes" value="1" checked', text)
    # The table link keeps the filters (the browser's "source" is the network's "cell").
    assert ('id="network-findings" href="/findings?drug=cisplatin&amp;exclude_retracted=1"'
            in text)
    cell = client.get("/network?cell=malignant_cell", headers=HTML).text
    assert 'href="/findings?source=malignant_cell"' in cell
    assert 'id="network-findings" href="/findings"' in client.get("/network").text


def test_a_focused_page_says_what_it_is_around(client: FlaskClient):
    text = client.get("/network?drug=cisplatin", headers=HTML).text
    assert re.search(r'id="network-focus">Around the drug <strong>cisplatin</strong>', text)
    for plain in ("/network", "/network?cell=malignant_cell"):
        assert 'id="network-focus"' not in client.get(plain, headers=HTML).text, plain


@pytest.mark.parametrize("query", [
    "drug=nope", "mirna=cisplatin", "cell=mir_21", "cancer=%3Cb%3E", "mechanisms=2",
    "pathways=maybe", "genes=%FF", "exclude_retracted=yes%20please", "focus=cisplatin",
    "drugs=cisplatin",
])
@pytest.mark.parametrize("path", ["/network", "/network.json"])
def test_a_bad_state_is_a_400_that_names_the_parameter(client: FlaskClient, path: str,
                                                       query: str):
    response = client.get(f"{path}?{query}", headers=HTML)
    assert response.status_code == 400, f"{path}?{query}: {response.status_code}"
    name = query.split("=", 1)[0]
    assert name in response.get_data(as_text=True), "the error should name the parameter"


@pytest.mark.parametrize("query", ["drug=cisplatin&mechanisms=1&genes=0", "mechanisms=true",
                                   "drug=&cell=", "mirna=mir_21&pathways=on"])
def test_a_good_state_is_accepted(client: FlaskClient, query: str):
    assert client.get(f"/network?{query}", headers=HTML).status_code == 200
    assert client.get(f"/network.json?{query}").status_code == 200


# -- entity pages link to their network --------------------------------------------------------

@pytest.mark.parametrize(("local", "link"), [
    ("cisplatin", "/network?drug=cisplatin"), ("mir_21", "/network?mirna=mir_21"),
])
def test_drug_and_mirna_pages_link_to_their_network(client: FlaskClient, local: str, link: str):
    text = client.get(f"/{local}", headers=HTML).text
    assert f'href="{link}"' in text, f"/{local}: no link to {link}"
    assert client.get(link, headers=HTML).status_code == 200


def test_other_entity_pages_do_not_link_to_a_network(client: FlaskClient):
    assert 'class="network-focus"' not in client.get("/apoptosis_inhibition", headers=HTML).text


# -- the layout --------------------------------------------------------------------------------

def test_segment_box_geometry():
    box = Box(10, 0, 4, 4)
    assert segment_crosses_box((0, 0), (20, 0), box)
    assert segment_crosses_box((0, -10), (20, 10), box)
    assert not segment_crosses_box((0, 5), (20, 5), box)
    assert not segment_crosses_box((0, 0), (7, 0), box)
    assert not segment_crosses_box((0, 0), (20, 40), box)


def _behind(elements: dict[str, Any]) -> list[str]:
    boxes = {n["data"]["id"]: Box(n["position"]["x"], n["position"]["y"], n["data"]["width"],
                                  n["data"]["height"]) for n in elements["nodes"]}
    kinds = {n["data"]["id"]: n["data"]["kind"] for n in elements["nodes"]}
    return edges_behind_drugs(boxes, kinds, [(e["data"]["source"], e["data"]["target"])
                                             for e in elements["edges"]])


def test_no_edge_runs_behind_a_drug_in_any_view(client: FlaskClient):
    """Every drug's focused view and the whole network, with every kind of node shown."""
    every = client.get("/network.json").get_json()
    queries = ["", "genes=1&pathways=1&mechanisms=1"]
    queries += [f"drug={o['value']}&mechanisms=1&pathways=1" for o in every["options"]["drug"]]
    queries += [f"mirna={o['value']}&mechanisms=1" for o in every["options"]["mirna"][:10]]
    for query in queries:
        elements = client.get(f"/network.json?{query}").get_json()
        assert all("position" in n for n in elements["nodes"]), query
        assert not _behind(elements), f"?{query}: edges pass through drug boxes"
        # Columns left to right: source cell -> miRNA -> mechanism -> drug.
        x = {n["data"]["kind"]: n["position"]["x"] for n in elements["nodes"]}
        order = [k for k in ("cell", "mirna", "mechanism", "drug") if k in x]
        assert [x[k] for k in order] == sorted(x[k] for k in order), query
