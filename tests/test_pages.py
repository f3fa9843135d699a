"""Pages for people, through the Flask test client: every route, content type and 404."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pyoxigraph
import pytest
import rdflib
import yaml
from flask.testing import FlaskClient

from exomirkg import paths
from exomirkg.evidence import FindingView, Mention
from exomirkg.queries import load_queries
from exomirkg.web.cytoscape import network_elements
from exomirkg.web.search import Document, SearchIndex, normalise

EKG = "https://w3id.org/exomirkg/"
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def _one(store: pyoxigraph.Store, query: str) -> list[str]:
    return [t.value for row in store.query(query, use_default_graph_as_union=True) for t in row]


def _count(store: pyoxigraph.Store, pattern: str) -> int:
    return int(_one(store, f"PREFIX ekg: <{EKG}> SELECT (COUNT(DISTINCT ?x) AS ?n) "
                           f"WHERE {{ {pattern} }}")[0])


@pytest.fixture(scope="module")
def mirna_with_findings(store: pyoxigraph.Store) -> tuple[str, int]:
    """The miRNA named by most findings, and how many."""
    rows = list(store.query(
        f"PREFIX ekg: <{EKG}> SELECT ?m (COUNT(DISTINCT ?f) AS ?n) WHERE "
        "{ ?f a ekg:Finding ; ekg:hasMiRNA ?m } GROUP BY ?m ORDER BY DESC(?n) ?m LIMIT 1",
        use_default_graph_as_union=True))
    assert rows, "no finding names a miRNA: add findings to triples/sections/"
    return rows[0]["m"].value[len(EKG):], int(rows[0]["n"].value)


@pytest.mark.parametrize("path", [
    "/", "/editor", "/search", "/search?q=cisplatin", "/network", "/download", "/ontology",
    "/ontology/Finding", "/ontology/hasMiRNA", "/mir_21", "/cisplatin", "/reference_71",
    "/apoptosis_inhibition", "/pten", "/review",
])
def test_page_is_html_with_the_search_box(client: FlaskClient, path: str):
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    assert response.mimetype == "text/html"
    assert 'id="site-search"' in response.text, f"{path}: the search box is missing"


#: Leaves out the entities the review names only in a reference title (issue 13).
REVIEW_ONLY = "FILTER NOT EXISTS { ?x ekg:mentionedOnlyInReferenceTitle true }"


def test_landing_page_shows_the_review_and_live_counts(client: FlaskClient, store):
    text = client.get("/").text
    assert "10.3390/cells9061450" in text
    expected = {
        "findings": _count(store, "?x a ekg:Finding"),
        # The review's own: entities named only in a reference title are not counted.
        "mirnas": _count(store, f"?x a ekg:ExosomalMiRNA {REVIEW_ONLY}"),
        "drugs": _count(store, f"?x a ekg:Drug {REVIEW_ONLY}"),
        "cellTypes": _count(store, f"?x a ekg:CellType {REVIEW_ONLY}"),
        "retracted": _count(store, "?x ekg:retracted true"),
    }
    for key, value in expected.items():
        assert f'data-count="{key}">{value}<' in text, f"landing count {key} should be {value}"
    for link in ("/network", "/editor", "/download", "/ontology"):
        assert f'href="{link}"' in text, f"the landing page should link to {link}"


def test_editor_preloads_every_example_query_titled_by_its_summary(client: FlaskClient):
    text = client.get("/editor").text
    tabs = json.loads(text.split('id="example-queries">', 1)[1].split("</script>", 1)[0])
    queries = load_queries(paths.QUERIES_DIR)
    assert [t["id"] for t in tabs] == list(queries), "one tab per server/queries/*.rq, in order"
    assert [t["name"] for t in tabs] == [q.summary for q in queries.values()]
    assert "vendor/yasgui/yasgui.min.js" in text and "/sparql" in text


@pytest.mark.parametrize("name", ["yasgui/yasgui.min.js", "yasgui/yasgui.min.css",
                                  "yasgui/LICENSE", "cytoscape/cytoscape.min.js",
                                  "cytoscape/LICENSE"])
def test_vendored_browser_library_is_served_locally(client: FlaskClient, name: str):
    response = client.get(f"/static/vendor/{name}")
    assert response.status_code == 200, f"{name} missing: run `make vendor`"
    response.close()


@pytest.mark.parametrize("accept,media_type,fmt", [
    ("text/turtle", "text/turtle", pyoxigraph.RdfFormat.TURTLE),
    ("application/ld+json", "application/ld+json", pyoxigraph.RdfFormat.JSON_LD),
    ("application/n-triples", "application/n-triples", pyoxigraph.RdfFormat.N_TRIPLES),
])
def test_entity_dereferences_to_rdf_by_content_negotiation(client: FlaskClient, accept,
                                                          media_type, fmt):
    response = client.get("/mir_21", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers.get("Vary", "")
    labels = [t.object.value for t in pyoxigraph.parse(response.data, format=fmt)
              if t.subject == pyoxigraph.NamedNode(EKG + "mir_21")
              and t.predicate.value.endswith("#label")]
    assert labels == ["miR-21"], f"{media_type}: the description lacks the label"


@pytest.mark.parametrize("suffix,media_type", [(".ttl", "text/turtle"),
                                               (".jsonld", "application/ld+json"),
                                               (".nt", "application/n-triples")])
def test_entity_suffix_picks_the_rdf_format(client: FlaskClient, suffix, media_type):
    response = client.get(f"/cisplatin{suffix}", headers=HTML)
    assert response.status_code == 200 and response.mimetype == media_type


def test_browser_accept_header_gets_html(client: FlaskClient):
    response = client.get("/mir_21", headers=HTML)
    assert response.mimetype == "text/html"
    assert "<h1>miR-21</h1>" in response.text


@pytest.mark.parametrize("path", ["/no_such_entity", "/no_such_entity.ttl", "/graph/nothing",
                                  "/ontology/NoSuchClass", "/download/nothing.zip"])
def test_unknown_page_is_404(client: FlaskClient, path: str):
    assert client.get(path, headers=HTML).status_code == 404
    assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 404


@pytest.mark.parametrize("accept,media_type", [("text/html", "text/html"),
                                               ("text/turtle", "text/turtle")])
def test_named_graph_iri_dereferences(client: FlaskClient, store, accept, media_type):
    graph = "graph/section/2-2"
    response = client.get(f"/{graph}", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media_type
    if media_type == "text/turtle":
        quads = list(store.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(EKG + graph)))
        parsed = list(pyoxigraph.parse(response.data, format=pyoxigraph.RdfFormat.TURTLE))
        assert len(parsed) == len(quads), "the graph's Turtle should hold all its triples"
    else:
        assert 'href="/finding_2_2_caf_mir_21_paclitaxel"' in response.text


def test_ontology_term_iri_redirects_browsers_to_its_documentation(client: FlaskClient):
    response = client.get("/Finding", headers=HTML)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ontology/Finding")
    assert client.get("/Finding", headers={"Accept": "text/turtle"}).mimetype == "text/turtle"


def test_entity_page_shows_synonyms_external_ids_and_definition(client: FlaskClient, store):
    text = client.get("/mir_21", headers=HTML).text
    assert "hsa-mir-21" in text, "synonyms (skos:altLabel) should be listed"
    assert "https://identifiers.org/mirbase:MI0000077" in text, "miRBase link missing"
    chebi = client.get("/cisplatin", headers=HTML).text
    assert "http://purl.obolibrary.org/obo/CHEBI_" in chebi and "ChEBI" in chebi
    # Every entity with a definition shows it on its page (escaped as HTML text).
    import html

    rows = list(store.query(
        "SELECT ?e ?d WHERE { ?e <http://www.w3.org/2004/02/skos/core#definition> ?d "
        "FILTER(STRSTARTS(STR(?e), 'https://w3id.org/exomirkg/')) } ORDER BY ?e LIMIT 5",
        use_default_graph_as_union=True))
    assert rows, "the graph should define some entities"
    for row in rows:
        local = row["e"].value.removeprefix("https://w3id.org/exomirkg/")
        page = client.get(f"/{local}", headers=HTML, follow_redirects=True).text
        assert html.escape(row["d"].value, quote=False) in page, f"/{local} lacks its definition"


def test_entity_page_renders_each_finding_with_quote_and_reference(client: FlaskClient, store,
                                                                  mirna_with_findings):
    local, count = mirna_with_findings
    text = client.get(f"/{local}", headers=HTML).text
    assert text.count('<article class="finding') == count, f"{local}: one card per finding"
    quote = _one(store, f"PREFIX ekg: <{EKG}> SELECT ?q WHERE {{ ?f ekg:hasMiRNA ekg:{local} ; "
                        "ekg:quote ?q } ORDER BY ?q LIMIT 1")[0]
    assert quote.replace('"', "&#34;").replace("'", "&#39;")[:60] in text, "quote not shown"
    assert "https://doi.org/" in text, "references should link their DOI"


def test_finding_supported_by_a_retracted_reference_is_flagged(client: FlaskClient, store):
    findings = _one(store, f"PREFIX ekg: <{EKG}> SELECT ?f WHERE {{ ?f a ekg:Finding ; "
                           "ekg:supportingReference/ekg:retracted true } ORDER BY ?f LIMIT 1")
    assert findings, "expected findings citing the retracted references 71, 99, 101 or 115"
    text = client.get("/" + findings[0][len(EKG):], headers=HTML).text
    assert "Retracted support." in text and "badge danger" in text
    reference = client.get("/reference_71", headers=HTML).text
    assert "<strong>Retracted.</strong>" in reference


def test_drug_page_lists_inferred_links_with_their_findings(client: FlaskClient, store):
    rows = _one(store, f"PREFIX ekg: <{EKG}> SELECT ?d WHERE {{ ?l a ekg:InferredLink ; "
                       "ekg:linkDrug ?d ; ekg:linkMechanism ?m } ORDER BY ?d LIMIT 1")
    assert rows, "no ekg:InferredLink in graph/inferred: are ontology/rules/ running?"
    text = client.get("/" + rows[0][len(EKG):], headers=HTML).text
    assert "Inferred drug–mechanism links" in text
    assert 'class="chain"' in text and "because" in text


@pytest.mark.parametrize("query", ["miR21", "mir-21", "MiR-21", "mir21", "microRNA-21",
                                   "hsa-mir-21"])
def test_search_finds_mir_21_however_it_is_written(client: FlaskClient, query: str):
    response = client.get("/search", query_string={"q": query},
                          headers={"Accept": "application/json"})
    hits = response.get_json()["results"]
    assert hits and hits[0]["iri"] == EKG + "mir_21", f"{query!r}: first hit {hits[:1]}"


def test_search_finds_mir_21_from_its_mature_arm_name(client: FlaskClient):
    hits = client.get("/search", query_string={"q": "hsa-miR-21-5p"},
                      headers={"Accept": "application/json"}).get_json()["results"]
    assert EKG + "mir_21" in [h["iri"] for h in hits[:3]], hits[:3]


def test_search_page_links_hits_to_entity_pages(client: FlaskClient):
    text = client.get("/search?q=cisplatin", headers=HTML).text
    assert 'href="/cisplatin"' in text


def test_search_index_ranks_exact_over_prefix_and_forgives_typos():
    index = SearchIndex([Document(EKG + "mir_21", "miR-21", "miRNA"),
                         Document(EKG + "mir_210", "miR-210", "miRNA"),
                         Document(EKG + "cisplatin", "cisplatin", "drug")])
    assert [h.label for h in index.search("mir21").hits] == ["miR-21", "miR-210"]
    assert index.search("cisplatn").hits[0].label == "cisplatin"
    assert normalise("hsa-miR-21-5p") == "mir215p"


def _finding(local: str, drug: str, cell: str, cancer: str, retracted: bool) -> FindingView:
    ref = Mention(EKG + "reference_1", "[1]", retracted=retracted)
    view = FindingView(iri=EKG + local, label=local)
    view.roles = {"source": [Mention(EKG + cell, cell)], "mirna": [Mention(EKG + "mir_x", "x")],
                  "drug": [Mention(EKG + drug, drug)], "cancer": [Mention(EKG + cancer, cancer)],
                  "effect": [Mention(EKG + "confers_resistance", "confers resistance")],
                  "gene_down": [Mention(EKG + "pten", "PTEN")], "reference": [ref]}
    return view


def test_network_filters_by_drug_cell_cancer_and_retraction(app):
    findings = [_finding("f1", "cisplatin", "caf", "ovarian", False),
                _finding("f2", "paclitaxel", "tam", "gastric", True)]
    with app.test_request_context():
        every = network_elements(findings)
        ids = {n["data"]["id"] for n in every["nodes"]}
        assert ids == {"caf", "tam", "mir_x", "cisplatin", "paclitaxel"}
        assert {n["data"]["id"] for n in network_elements(findings, drug="cisplatin")["nodes"]} \
            == {"caf", "mir_x", "cisplatin"}
        assert network_elements(findings, cell="tam")["findings"] == 1
        assert network_elements(findings, cancer="ovarian")["findings"] == 1
        assert network_elements(findings, exclude_retracted=True)["findings"] == 1
        with_genes = network_elements(findings, genes=True)
        assert "pten" in {n["data"]["id"] for n in with_genes["nodes"]}
        edge = next(e for e in every["edges"] if e["data"]["target"] == "paclitaxel")
        assert edge["data"]["retracted"] is True and edge["data"]["kind"] == "resistance"


def test_network_json_draws_real_findings_and_a_drug_filter_shrinks_it(client: FlaskClient):
    every = client.get("/network.json").get_json()
    assert every["nodes"] and every["edges"], "the network is empty: are there findings?"
    assert all(n["data"]["href"].startswith("/") for n in every["nodes"])
    drug = every["options"]["drug"][0]["value"]
    one = client.get("/network.json", query_string={"drug": drug}).get_json()
    assert 0 < len(one["nodes"]) < len(every["nodes"])
    kept = client.get("/network.json", query_string={"exclude_retracted": "1"}).get_json()
    assert kept["findings"] < every["findings"], "findings citing retracted papers remain"


DOWNLOADS = ["exomirkg.trig", "exomirkg.jsonld", "exomirkg.ttl", "exomirkg.nt",
             "findings.tsv", "findings.csv", "exomirkg-shapes.ttl", "exomirkg.sssom.tsv"]


@pytest.mark.parametrize("name", DOWNLOADS)
def test_download_has_its_checksum_and_the_data_version(client: FlaskClient, name: str):
    page = client.get("/download").text
    response = client.get(f"/download/{name}")
    assert response.status_code == 200
    digest = hashlib.sha256(response.data).hexdigest()
    assert response.headers["X-Checksum-Sha256"] == digest
    assert digest in page, f"{name}: the download page should show its sha256"
    assert response.headers["X-Data-Version"]
    assert f"{digest}  {name}" in client.get("/download/SHA256SUMS").text


def test_dataset_downloads_hold_every_triple(client: FlaskClient, store):
    trig = pyoxigraph.Store()
    trig.load(client.get("/download/exomirkg.trig").data, format=pyoxigraph.RdfFormat.TRIG)
    assert len(trig) == len(store), "the TriG download should hold every quad of the store"
    jsonld = pyoxigraph.Store()
    jsonld.load(client.get("/download/exomirkg.jsonld").data,
                format=pyoxigraph.RdfFormat.JSON_LD)
    assert len(jsonld) == len(store)
    merged = {(q.subject, q.predicate, q.object) for q in store}
    for name, fmt in (("exomirkg.ttl", pyoxigraph.RdfFormat.TURTLE),
                      ("exomirkg.nt", pyoxigraph.RdfFormat.N_TRIPLES)):
        triples = list(pyoxigraph.parse(client.get(f"/download/{name}").data, format=fmt))
        assert len(triples) == len(merged), f"{name}: every distinct triple once"


def test_findings_table_has_one_row_per_finding(client: FlaskClient, store):
    rows = list(csv.DictReader(io.StringIO(client.get("/download/findings.csv").text)))
    assert len(rows) == _count(store, "?x a ekg:Finding")
    retracted = _count(store, "?x a ekg:Finding ; ekg:supportingReference/ekg:retracted true")
    assert sum(r["retracted_support"] == "true" for r in rows) == retracted
    caf = next(r for r in rows if r["finding_id"] == "ekg:finding_2_2_caf_mir_21_paclitaxel")
    assert caf["mirna"] == "miR-21" and caf["drug"] == "paclitaxel"
    assert "CHEBI:" in caf["drug_xref"] and "10.1038/ncomms11150" in caf["reference_dois"]
    tsv = client.get("/download/findings.tsv").text.splitlines()
    assert len(tsv) == len(rows) + 1 and "\t" in tsv[0]


def test_sssom_table_has_its_header_and_one_row_per_mapping(client: FlaskClient, store):
    text = client.get("/download/exomirkg.sssom.tsv").text
    # The metadata block is YAML behind "#" (sssom-py's own reading: tests/test_artefacts.py).
    metadata = yaml.safe_load("\n".join(line[1:] for line in text.splitlines()
                                        if line.startswith("#")))
    assert metadata["curie_map"]["HGNC"] == "https://identifiers.org/hgnc:"
    assert metadata["mapping_set_id"] == EKG + "mappings/exomirkg.sssom.tsv"
    table = [line for line in text.splitlines() if not line.startswith("#")]
    assert table[0].split("\t") == ["subject_id", "subject_label", "predicate_id", "object_id",
                                    "object_label", "mapping_justification"]
    assert "ekg:mir_21\tmiR-21\tskos:exactMatch\tmirbase:MI0000077" in text
    assert len(table) - 1 == int(_one(store, (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT (COUNT(*) AS ?n) WHERE { "
        "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        "VALUES ?p { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch "
        "skos:relatedMatch } FILTER(?g != <https://w3id.org/exomirkg/graph/inferred> "
        f"&& isIRI(?o) && STRSTARTS(STR(?s), \"{EKG}\")) ?s <http://www.w3.org/2000/01/"
        "rdf-schema#label> [] } }"))[0])


def test_shapes_download_holds_every_shape_file(client: FlaskClient):
    graph = rdflib.Graph().parse(data=client.get("/download/exomirkg-shapes.ttl").data,
                                 format="turtle")
    expected = rdflib.Graph()
    for path in sorted(paths.SHAPES_DIR.glob("*.ttl")):
        expected.parse(path, format="turtle")
    assert len(graph) == len(expected)


def test_ontology_index_lists_every_class_and_property(client: FlaskClient, store):
    text = client.get("/ontology", headers=HTML).text
    for local in ("Finding", "hasMiRNA", "resistanceViaMechanism", "doi"):
        assert f'href="/ontology/{local}"' in text, f"ekg:{local} missing from /ontology"
    assert client.get("/ontology", headers={"Accept": "text/turtle"}).mimetype == "text/turtle"


def test_ontology_term_page_shows_definition_and_axioms(client: FlaskClient):
    text = client.get("/ontology/PlatinumDrug").text
    assert "platinum coordination entity" in text
    assert "Equivalent to" in text and "<em>value</em>" in text
    chain = client.get("/ontology/drugLinkedToMechanism").text
    assert "Property chain" in chain and " ∘ " in chain


@pytest.mark.slow  # renders every page (about 800): seconds
def test_every_iri_of_our_namespace_dereferences(client: FlaskClient, store):
    """Every minted IRI (entities, findings, references, inferred links, graphs) answers."""
    iris = sorted({q.subject.value for q in store if q.subject.value.startswith(EKG)}
                  | {g.value for g in store.named_graphs() if g.value.startswith(EKG)})
    failures = []
    for iri in iris:
        response = client.get("/" + iri[len(EKG):], headers=HTML)
        if response.status_code not in (200, 303):
            failures.append(f"{iri}: {response.status_code}")
    assert not failures, "IRIs that do not dereference:\n" + "\n".join(failures)
