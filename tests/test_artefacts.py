"""The published artefacts, read by tools we did not write (issue 14, points 3-6).

sssom-py reads the SSSOM download; two separately created apps (two workers) and a fresh
interpreter (another run) serve the same bytes; ``sha256sum -c`` checks files fetched over
HTTP; rdflib, pyld and pyoxigraph read the JSON-LD with its @context; ETag/304, gzip, CORS
and Link headers are asserted on real responses; every IRI we mint dereferences; the Python
API works from a clean import; the project files (licences, citation, changelog, version)
say what pyproject.toml says.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
import requests
import yaml
from flask import Flask
from flask.testing import FlaskClient
from helpers import fresh_app, serving

import exomirkg
from exomirkg import about, paths
from exomirkg.build import BuildResult
from exomirkg.downloads import CATALOGUE

EKG = "https://w3id.org/exomirkg/"
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
SCHEMA = rdflib.Namespace("https://schema.org/")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
NAMES = [name for name, _title, _media in CATALOGUE]
#: An ontology class whose RDF view holds blank nodes (its owl:equivalentClass restriction).
WITH_BLANK_NODES = "PlatinumDrug"
CANON = pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0


@pytest.fixture(scope="module")
def workers(built: BuildResult, build_dir: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two apps created separately, as two gunicorn workers are: each loads the TriG itself."""
    with fresh_app(build_dir, QUERY_WORKERS=1) as one, \
            fresh_app(build_dir, QUERY_WORKERS=1) as other:
        yield one, other


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    return app.test_client()


def _canonical(data: bytes, fmt: pyoxigraph.RdfFormat) -> set[pyoxigraph.Quad]:
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(data, format=fmt))
    dataset.canonicalize(CANON)
    return set(dataset)


# -- 3. SSSOM, read by sssom-py -----------------------------------------------------------------

# sssom-py 0.4 calls pandas APIs that pandas 3 deprecates (its warnings, not ours).
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_sssom_download_parses_and_validates_with_sssom_py(http: FlaskClient, store, tmp_path,
                                                           caplog) -> None:
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    path = tmp_path / "exomirkg.sssom.tsv"
    path.write_bytes(http.get("/download/exomirkg.sssom.tsv").data)
    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(path)
    # What parse_sssom_table(strict=True) would refuse (redefined built-in prefixes, metadata
    # keys outside the SSSOM model) it logs as warnings; its strict switch itself is inverted
    # in sssom 0.4.21 (it raises when the metadata is regular), so we read the warnings.
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    reports = validate(msdf, fail_on_error=False)
    assert reports, "sssom-py ran no validation"
    errors = {str(kind): [r.message for r in report.results] for kind, report in reports.items()}
    assert not any(errors.values()), errors
    mappings = int(next(iter(store.query(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT (COUNT(*) AS ?n) WHERE { "
        "SELECT DISTINCT ?s ?p ?o ?label WHERE { GRAPH ?g { ?s ?p ?o } VALUES ?p { "
        "skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch } "
        f"FILTER(?g != <{EKG}graph/inferred> && isIRI(?o) && STRSTARTS(STR(?s), \"{EKG}\")) "
        "?s <http://www.w3.org/2000/01/rdf-schema#label> [] "
        "OPTIONAL { ?o <http://www.w3.org/2000/01/rdf-schema#label> ?label } } }",
        use_default_graph_as_union=True)))[0].value)
    assert len(msdf.df) == mappings
    assert msdf.metadata["mapping_set_id"] == about.MAPPING_SET_ID
    assert msdf.metadata["license"] == about.DATA_LICENSE
    assert msdf.metadata["mapping_set_version"] == exomirkg.__version__
    mir_21 = msdf.df[msdf.df["subject_id"] == "ekg:mir_21"]
    assert "mirbase:MI0000077" in set(mir_21["object_id"])


# -- 5. deterministic, cacheable downloads -------------------------------------------------------

@pytest.mark.slow  # fresh apps or interpreters each make every download
def test_two_workers_serve_byte_identical_downloads_and_views(workers) -> None:
    first, second = (app.test_client() for app in workers)
    paths_to_compare = ([f"/download/{name}" for name in NAMES] + ["/download/SHA256SUMS"]
                        + [f"/{WITH_BLANK_NODES}{suffix}" for suffix in (".ttl", ".jsonld", ".nt")]
                        + ["/graph/ontology.ttl", "/.well-known/void", "/sparql"])
    for path in paths_to_compare:
        one, two = first.get(path), second.get(path)
        assert one.status_code == two.status_code == 200, path
        assert one.data == two.data, f"{path}: the two workers wrote different bytes"
        assert one.headers.get("ETag") == two.headers.get("ETag"), path
    view = first.get(f"/{WITH_BLANK_NODES}.ttl").text
    assert "_:" in view, "the view should hold blank nodes, or this test proves nothing"


@pytest.mark.slow  # fresh apps or interpreters each make every download
def test_a_fresh_interpreter_writes_the_same_checksums(http: FlaskClient, build_dir: Path) -> None:
    """Another run over the same build (new process, other hash seed) writes the same files."""
    script = ("import sys\nfrom exomirkg.web import create_app\n"
              "app = create_app({'TESTING': True, 'BUILD_DIR': sys.argv[1], 'QUERY_WORKERS': 1})\n"
              "sys.stdout.write(app.test_client().get('/download/SHA256SUMS').text)\n"
              "app.extensions['exomirkg'].engine.close()\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run([sys.executable, "-c", script, str(build_dir)], capture_output=True,
                         text=True, env=env, timeout=300, check=True)
    assert run.stdout == http.get("/download/SHA256SUMS").text


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils' sha256sum")
@pytest.mark.slow  # two fresh apps each make every download
def test_sha256sum_verifies_files_fetched_over_http(built: BuildResult, build_dir: Path,
                                                    tmp_path: Path) -> None:
    """The checksums from one worker, the files from another: what a client of a server with
    several workers gets."""
    with fresh_app(build_dir, QUERY_WORKERS=1) as first, \
            fresh_app(build_dir, QUERY_WORKERS=1) as second, \
            serving(first) as one, serving(second) as base, requests.Session() as session:
        sums = session.get(f"{one}/download/SHA256SUMS", timeout=60)
        assert sums.status_code == 200
        (tmp_path / "SHA256SUMS").write_bytes(sums.content)
        listed = [line.split("  ", 1)[1] for line in sums.text.splitlines()]
        assert listed == NAMES
        encodings = {}
        for name in listed:
            # requests asks for gzip and undoes it, as curl --compressed and browsers do.
            response = session.get(f"{base}/download/{name}", timeout=60)
            assert response.status_code == 200, name
            encodings[name] = response.headers.get("Content-Encoding")
            (tmp_path / name).write_bytes(response.content)
    assert set(encodings.values()) == {"gzip"}, encodings
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(NAMES)


def test_gzip_is_sent_to_clients_that_accept_it(http: FlaskClient) -> None:
    plain = http.get("/download/exomirkg.nt")
    packed = http.get("/download/exomirkg.nt", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 4
    assert "Accept-Encoding" in packed.headers["Vary"]
    # Another representation, another ETag; the checksum header is the file's own.
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert packed.headers["X-Checksum-Sha256"] == hashlib.sha256(plain.data).hexdigest()


@pytest.mark.parametrize("path", ["/download/exomirkg.trig", "/download/SHA256SUMS",
                                  f"/{WITH_BLANK_NODES}.jsonld", "/mir_21.ttl"])
def test_etag_and_last_modified_answer_304(http: FlaskClient, build_dir: Path, path: str) -> None:
    first = http.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.strip('"') == hashlib.sha256(first.data).hexdigest()
    built = json.loads((build_dir / "build-info.json").read_text())["built"]
    assert rdflib.Literal(built, datatype=rdflib.XSD.dateTime).toPython().strftime(
        "%d %b %Y %H:%M:%S") in modified
    again = http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert http.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.get(path, headers={"If-Modified-Since": modified}).status_code == 304


@pytest.mark.parametrize("path", ["/download/exomirkg.ttl", "/download/SHA256SUMS",
                                  "/mir_21.ttl", "/mir_21.jsonld", "/graph/review.nt"])
def test_cors_on_downloads_and_rdf_views(http: FlaskClient, path: str) -> None:
    response = http.get(path, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    # A script revalidating with If-None-Match needs a preflight first.
    preflight = http.options(path, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Headers"] == "if-none-match"


def test_html_pages_get_no_cors(http: FlaskClient) -> None:
    response = http.get("/mir_21", headers={**HTML, "Origin": "https://example.org"})
    assert response.mimetype == "text/html"
    assert "Access-Control-Allow-Origin" not in response.headers


def _links(header: str) -> list[tuple[str, str, str | None]]:
    """(target, rel, type) of a Link header, read with requests' parser (not ours)."""
    return [(link["url"], link["rel"], link.get("type"))
            for link in requests.utils.parse_header_links(header)]


@pytest.mark.parametrize(("path", "accept"), [("/mir_21", HTML["Accept"]),
                                              ("/mir_21", "text/turtle"),
                                              ("/graph/review", "application/ld+json")])
def test_link_alternates_of_an_entity_name_live_representations(http: FlaskClient, path: str,
                                                               accept: str) -> None:
    response = http.get(path, headers={"Accept": accept})
    links = _links(response.headers["Link"])
    types = {media for _url, rel, media in links if rel == "alternate"}
    assert types == {"text/html", "text/turtle", "application/ld+json",
                     "application/n-triples", "application/rdf+xml"} - {response.mimetype}
    for url, _rel, media in links:
        target = http.get(url, headers=HTML if media == "text/html" else {})
        assert target.status_code == 200 and target.mimetype == media, url


def test_link_headers_of_downloads(http: FlaskClient) -> None:
    links = _links(http.get("/download/exomirkg.trig").headers["Link"])
    assert ("/download/exomirkg.jsonld", "alternate", "application/ld+json") in links
    assert ("/.well-known/void", "describedby", "text/turtle") in links
    assert ("/.well-known/void", "describedby", "text/turtle") in _links(
        http.get("/", headers=HTML).headers["Link"])


def test_jsonld_download_has_a_context_and_two_parsers_read_it(http: FlaskClient,
                                                              store) -> None:
    from pyld import jsonld

    body = http.get("/download/exomirkg.jsonld").data
    document = json.loads(body)
    assert document["@context"]["ekg"] == EKG
    assert "ekg:mir_21" in body.decode(), "IRIs should be compacted against the context"
    expected = _canonical(http.get("/download/exomirkg.trig").data, pyoxigraph.RdfFormat.TRIG)
    assert len(expected) == len(store)
    by_pyld = jsonld.to_rdf(document, {"format": "application/n-quads"}).encode()
    assert _canonical(by_pyld, pyoxigraph.RdfFormat.N_QUADS) == expected
    by_rdflib = rdflib.Dataset()
    by_rdflib.parse(data=body, format="json-ld")
    assert _canonical(by_rdflib.serialize(format="nquads").encode(),
                      pyoxigraph.RdfFormat.N_QUADS) == expected


def test_jsonld_view_of_an_entity_has_a_context(http: FlaskClient) -> None:
    from pyld import jsonld

    response = http.get(f"/{WITH_BLANK_NODES}", headers={"Accept": "application/ld+json"})
    document = json.loads(response.data)
    assert "@context" in document
    turtle = _canonical(http.get(f"/{WITH_BLANK_NODES}.nt").data,
                        pyoxigraph.RdfFormat.N_TRIPLES)
    by_pyld = jsonld.to_rdf(document, {"format": "application/n-quads"}).encode()
    assert _canonical(by_pyld, pyoxigraph.RdfFormat.N_QUADS) == turtle
    by_rdflib = rdflib.Graph().parse(data=response.data, format="json-ld")
    assert len(by_rdflib) == len(turtle)


# -- 4. self-description ------------------------------------------------------------------------

def _graph(client: FlaskClient, path: str) -> rdflib.Graph:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, path
    return rdflib.Graph().parse(data=response.data, format="turtle")


def _check_about(graph: rdflib.Graph, subject: rdflib.term.Node) -> None:
    assert graph.value(subject, DCTERMS.license) == rdflib.URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert graph.value(subject, DCTERMS.source) == rdflib.URIRef(
        "https://doi.org/10.3390/cells9061450")
    assert len(str(graph.value(subject, DCTERMS.description))) > 100
    creators = [graph.value(c, FOAF.name) for c in graph.objects(subject, DCTERMS.creator)]
    assert [str(c) for c in creators] == list(about.CREATORS)


def test_void_and_service_description_state_licence_creators_and_source(
        http: FlaskClient) -> None:
    void = _graph(http, "/.well-known/void")
    _check_about(void, rdflib.URIRef(EKG + "dataset"))
    sd = _graph(http, "/sparql")
    service = rdflib.URIRef("http://localhost/sparql")
    _check_about(sd, sd.value(service, SD.defaultDataset))


def test_void_counts_distinct_triples(http: FlaskClient, built: BuildResult) -> None:
    union = {(s, p, o) for s, p, o, _g in built.dataset.quads()}
    void = _graph(http, "/.well-known/void")
    assert void.value(rdflib.URIRef(EKG + "dataset"), VOID.triples).toPython() == len(union)
    merged = http.get("/download/exomirkg.nt").data.decode()
    assert len(merged.splitlines()) == len(union), "VoID and the merged dump should agree"


def _landing_jsonld(http: FlaskClient) -> str:
    html = http.get("/", headers=HTML).text
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1, "the landing page should carry one JSON-LD block"
    return blocks[0]


def test_landing_page_has_a_schema_org_dataset_read_by_two_parsers(http: FlaskClient) -> None:
    from pyld import jsonld

    text = _landing_jsonld(http)
    graph = rdflib.Graph().parse(data=text, format="json-ld")
    dataset = rdflib.URIRef(EKG + "dataset")
    assert (dataset, rdflib.RDF.type, SCHEMA.Dataset) in graph
    assert graph.value(dataset, SCHEMA.license) == rdflib.URIRef(about.DATA_LICENSE)
    assert graph.value(dataset, SCHEMA.isBasedOn) == rdflib.URIRef(about.REVIEW_IRI)
    for required in ("name", "description", "identifier", "keywords", "url", "creator"):
        assert graph.value(dataset, SCHEMA[required]) is not None, required
    urls = sorted(str(u) for u in graph.objects(None, SCHEMA.contentUrl))
    assert len(urls) == len(NAMES)
    for url in urls:
        assert http.get(url.replace("http://localhost", "")).status_code == 200, url
    by_pyld = jsonld.to_rdf(json.loads(text), {"format": "application/n-quads"}).encode()
    assert len(_canonical(by_pyld, pyoxigraph.RdfFormat.N_QUADS)) == len(graph)


def test_every_minted_iri_in_void_sd_sssom_and_landing_page_dereferences(
        http: FlaskClient) -> None:
    minted = set()
    for path in ("/.well-known/void", "/sparql"):
        for triple in _graph(http, path):
            minted |= {str(term) for term in triple
                       if isinstance(term, rdflib.URIRef) and str(term).startswith(EKG)}
    sssom = http.get("/download/exomirkg.sssom.tsv").text
    minted.add(yaml.safe_load("\n".join(line[1:] for line in sssom.splitlines()
                                        if line.startswith("#")))["mapping_set_id"])
    minted |= {m for m in re.findall(r'"(https://w3id\.org/exomirkg/[^"]*)"',
                                     _landing_jsonld(http))}
    for expected in (about.DATASET_IRI, about.MAPPING_SET_ID,
                     about.SERVICE_NS + "queryTimeoutSeconds"):
        assert expected in minted, f"{expected} should be among the IRIs checked"
    failures = []
    for iri in sorted(minted):
        path = "/" + iri[len(EKG):].split("#", 1)[0]
        for accept in (HTML["Accept"], "text/turtle"):
            response = http.get(path, headers={"Accept": accept}, follow_redirects=True)
            if response.status_code != 200:
                failures.append(f"{iri} ({accept}): {response.status_code}")
    assert not failures, "minted IRIs that do not dereference:\n" + "\n".join(failures)


def test_service_vocabulary_defines_every_limit_term(http: FlaskClient) -> None:
    sd = _graph(http, "/sparql")
    used = {p for p in sd.predicates() if str(p).startswith(about.SERVICE_NS)}
    assert used, "the Service Description should state its limits"
    vocabulary = _graph(http, "/service")
    page = http.get("/service", headers=HTML).text
    for term in used:
        assert (term, rdflib.RDF.type, rdflib.OWL.DatatypeProperty) in vocabulary, term
        assert vocabulary.value(term, rdflib.RDFS.comment) is not None, term
        assert f'id="{str(term).split("#")[1]}"' in page, f"{term}: no anchor on /service"


# -- 6. the Python API and the project files ------------------------------------------------------

@pytest.mark.slow  # a fresh interpreter imports the package and loads the build
def test_python_api_from_a_clean_import(build_dir: Path, store) -> None:
    script = """
import json, sys
import exomirkg
loaded = sorted(m for m in ("flask", "pyld", "exomirkg.web") if m in sys.modules)
store = exomirkg.load_store(sys.argv[1])
rows = exomirkg.query("PREFIX ekg: <https://w3id.org/exomirkg/> "
                      "SELECT ?d WHERE { ?d a ekg:Drug }", store)
ask = exomirkg.query("ASK { ?s ?p ?o }", store)
dataset = exomirkg.load_dataset(sys.argv[1])
named = {str(g.identifier) for g in dataset.graphs() if len(g)}
text = exomirkg.explain_drug("cisplatin", store=store)
print(json.dumps({"loaded": loaded, "quads": len(store), "drugs": len(list(rows)),
                  "ask": bool(ask), "graphs": len(named), "explain": text}))
"""
    run = subprocess.run([sys.executable, "-c", script, str(build_dir)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["loaded"] == [], "import exomirkg should load neither Flask nor the web package"
    assert out["quads"] == len(store)
    drugs = int(next(iter(store.query(
        f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d a <{EKG}Drug> }}",
        use_default_graph_as_union=True)))[0].value)
    assert out["drugs"] == drugs > 0
    assert out["ask"] is True
    assert out["graphs"] == len(list(store.named_graphs()))
    assert out["explain"].startswith("cisplatin <") and "inferred link" in out["explain"]


@pytest.mark.slow  # a fresh interpreter runs the README example
def test_readme_python_api_example_runs(tmp_path: Path) -> None:
    readme = (paths.DATA_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    assert code, "the README's Python API section should show its example"
    run = subprocess.run([sys.executable, "-c", code[0]], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "cisplatin" in run.stdout


def test_the_version_is_written_once() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((paths.DATA_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/exomirkg/__init__.py"
    assert importlib.metadata.version("exomirkg") == exomirkg.__version__
    changelog = (paths.DATA_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{exomirkg.__version__}]" in changelog, "CHANGELOG.md: add the version's section"
    citation = yaml.safe_load((paths.DATA_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert "version" not in citation


def test_licences_citation_and_typing_marker_agree_with_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")
    root = paths.DATA_ROOT
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT AND CC-BY-4.0"
    for name in project["license-files"]:
        assert (root / name).is_file(), name
    assert "Permission is hereby granted, free of charge" in (root / "LICENSE").read_text()
    assert "Attribution 4.0 International Public License" in (root / "LICENSE-DATA").read_text()
    assert (Path(exomirkg.__file__).parent / "py.typed").is_file()
    citation = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    for key in ("cff-version", "message", "title", "authors"):
        assert citation.get(key), f"CITATION.cff needs {key}"
    assert [a["name"] for a in citation["authors"]] == list(about.CREATORS)
    assert [a["name"] for a in project["authors"]] == list(about.CREATORS)
    assert citation["license"] == "CC-BY-4.0"
    assert citation["references"][0]["doi"] == about.REVIEW_DOI
