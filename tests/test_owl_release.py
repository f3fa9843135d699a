"""The ontology release: ODK-style files, strict OWL 2 DL, ROBOT's report, OBO conventions.

Read with tools we did not write: rdflib, pyoxigraph, py-horned-owl (a strict OWL 2 parser),
owlready2 (on the release file and on the live server's /ontology) and HermiT.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyhornedowl
import pyoxigraph
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from helpers import serving
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from exomirkg import __version__, about, paths
from exomirkg.build import BuildResult
from exomirkg.load import parse_turtle
from exomirkg.namespaces import (
    BASE,
    GRAPH_ONTOLOGY,
    IAO_DEFINITION,
    OBOINOWL,
    ONTOLOGY,
    curie_to_iri,
    import_module_iri,
    release_iri,
)
from exomirkg.release import CATALOG_FILE, RELEASE_FILES, release_bytes

REPORT_DIR = Path(__file__).parent / "resources" / "robot-report"
REPORT_QUERIES = sorted(REPORT_DIR.glob("*.rq"))
MODULES = sorted(p.name.removesuffix("_import.ttl") for p in paths.IMPORTS_DIR.glob("*_import.ttl"))
RDF_XML = {"Accept": "application/rdf+xml"}


def _level(query: Path) -> str:
    match = re.search(r"^# level: (ERROR|WARN|INFO)$", query.read_text(encoding="utf-8"), re.M)
    assert match, f"{query}: first line must be '# level: ERROR|WARN|INFO'"
    return match.group(1)


def _xml(body: bytes) -> Graph:
    return Graph().parse(data=body, format="xml")


@pytest.fixture(scope="module")
def full_release(built: BuildResult, build_dir: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(path=str(build_dir / "exomirkg-full.ttl"), format=pyoxigraph.RdfFormat.TURTLE)
    return store


# --- the files ---------------------------------------------------------------------------------


def test_build_writes_the_release_files_with_imports_and_a_catalogue(
        built: BuildResult, build_dir: Path) -> None:
    for name in RELEASE_FILES:
        assert build_dir / name in built.files, f"exomirkg build should write {name}"
    base = _xml((build_dir / "exomirkg.owl").read_bytes())
    assert set(base.objects(ONTOLOGY, OWL.imports)) == {import_module_iri(m) for m in MODULES}
    assert base.value(ONTOLOGY, OWL.versionIRI) == release_iri(__version__)
    assert base.value(ONTOLOGY, OWL.versionInfo) == Literal(__version__)
    full = _xml((build_dir / "exomirkg-full.owl").read_bytes())
    assert not set(full.objects(None, OWL.imports)), "the full release merges its imports"
    assert full.value(ONTOLOGY, OWL.versionIRI) == release_iri(__version__, "exomirkg-full.owl")
    cisplatin = curie_to_iri("CHEBI:27899")
    assert (cisplatin, RDF.type, OWL.Class) in full and (cisplatin, RDF.type, OWL.Class) not in base
    # Turtle and RDF/XML hold the same statements.
    for stem in ("exomirkg", "exomirkg-full"):
        turtle = Graph().parse(build_dir / f"{stem}.ttl", format="turtle")
        assert isomorphic(turtle, _xml((build_dir / f"{stem}.owl").read_bytes())), stem
    # The TBox is all of graph/ontology; the full release adds exactly the module terms.
    tbox = built.dataset.graph(GRAPH_ONTOLOGY)
    assert len(base) == len(tbox) + len(MODULES), "the TBox and one owl:imports per module"
    catalogue = ET.parse(build_dir / CATALOG_FILE).getroot()
    mapped = {uri.get("name"): uri.get("uri") for uri in catalogue}
    assert mapped == {str(import_module_iri(m)): f"imports/{m}_import.owl" for m in MODULES}
    for local in mapped.values():
        assert (build_dir / local).is_file(), local


def test_the_release_made_beside_the_reasoner_is_the_release_of_the_built_store(
        built: BuildResult, build_dir: Path) -> None:
    """The build makes the release's files while it reasons (they read only asserted
    graphs): the same bytes as made from the finished store, and as written."""
    assert built.release is not None
    assert built.release == release_bytes(built.store, __version__)
    for name, body in built.release.items():
        assert (build_dir / name).read_bytes() == body, name


def test_ontology_header_has_title_description_licence_creators_and_version() -> None:
    edit = parse_turtle(paths.ONTOLOGY_FILE)
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.license, DCTERMS.creator):
        assert edit.value(ONTOLOGY, prop) is not None, f"add {prop} to the ontology header"
    assert edit.value(ONTOLOGY, DCTERMS.license) == URIRef(about.DATA_LICENSE)
    assert edit.value(ONTOLOGY, OWL.versionInfo) == Literal(__version__), (
        "the edit file's owl:versionInfo should be exomirkg.__version__ (the release writes it)")
    assert edit.value(ONTOLOGY, OWL.versionIRI) == release_iri(__version__)


@pytest.mark.parametrize("module", MODULES)
def test_import_module_header_has_title_and_licence(module: str) -> None:
    graph = parse_turtle(paths.IMPORTS_DIR / f"{module}_import.ttl")
    header = import_module_iri(module)
    assert (header, RDF.type, OWL.Ontology) in graph
    assert str(graph.value(header, DCTERMS.title)).startswith("exomirkg import module: "), (
        "regenerate with `exomirkg imports --reference DIR`")
    assert graph.value(header, DCTERMS.license) == URIRef(about.DATA_LICENSE)
    assert (OBOINOWL.id, RDF.type, OWL.AnnotationProperty) in graph


def test_ontology_terms_with_alt_labels_have_exact_synonyms() -> None:
    edit = parse_turtle(paths.ONTOLOGY_FILE)
    with_alt = {s for s in edit.subjects(SKOS.altLabel, None)}
    assert {str(s) for s in with_alt} == {BASE + "increased", BASE + "decreased"}
    for term in with_alt:
        assert set(edit.objects(term, SKOS.altLabel)) == set(
            edit.objects(term, OBOINOWL.hasExactSynonym)), f"{term}: add oboInOwl:hasExactSynonym"


def test_classes_and_properties_are_defined_with_iao_0000115_only() -> None:
    edit = parse_turtle(paths.ONTOLOGY_FILE)
    own = {s for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
                          OWL.AnnotationProperty)
           for s in edit.subjects(RDF.type, kind) if str(s).startswith(BASE)}
    assert len(own) > 100
    assert {s for s in own if (s, SKOS.definition, None) in edit} == set(), (
        "one definition property per term: obo:IAO_0000115")
    assert {s for s in own if edit.value(s, IAO_DEFINITION) is None} == set()


# --- ROBOT's report ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", REPORT_QUERIES, ids=[q.stem for q in REPORT_QUERIES])
def test_robot_report_query_finds_nothing_on_our_terms(full_release: pyoxigraph.Store,
                                                       query: Path) -> None:
    rows = [" ".join(str(term) for term in row) for row in full_release.query(query.read_text())]
    assert rows == [], f"ROBOT report {query.stem} ({_level(query)}):\n" + "\n".join(rows[:20])


def test_robot_report_has_the_error_checks_of_robots_default_profile() -> None:
    levels = Counter(_level(q) for q in REPORT_QUERIES)
    assert levels == {"ERROR": 13, "WARN": 2}
    assert {"duplicate_label", "multiple_labels", "missing_label", "label_whitespace",
            "missing_definition", "invalid_xref", "undeclared_property"} <= {
        q.stem for q in REPORT_QUERIES}


@pytest.mark.parametrize("query", REPORT_QUERIES, ids=[q.stem for q in REPORT_QUERIES])
def test_robot_report_query_fires_on_its_failing_fixture(query: Path) -> None:
    store = pyoxigraph.Store()
    store.load(path=str(REPORT_DIR / "failing.ttl"), format=pyoxigraph.RdfFormat.TURTLE)
    assert list(store.query(query.read_text())), f"{query.stem} cannot fail: fix the query"


def test_own_labels_are_unique_in_the_whole_graph(store: pyoxigraph.Store) -> None:
    """Entities too (ROBOT's duplicate_label, our namespace, the built graph, any case)."""
    rows = list(store.query(
        "SELECT ?a ?b ?label WHERE { ?a <http://www.w3.org/2000/01/rdf-schema#label> ?label . "
        "?b <http://www.w3.org/2000/01/rdf-schema#label> ?other . "
        f'FILTER (STRSTARTS(STR(?a), "{BASE}") && STRSTARTS(STR(?b), "{BASE}") '
        "&& STR(?a) < STR(?b) && LCASE(STR(?label)) = LCASE(STR(?other))) }",
        use_default_graph_as_union=True))
    assert rows == [], "make these labels distinct: " + ", ".join(
        f"{r['a'].value} / {r['b'].value} {r['label'].value!r}" for r in rows)


@pytest.mark.parametrize(("mechanism", "process"), [
    ("drug_efflux", "drug export from cell"),
    ("immune_suppression", "negative regulation of immune response"),
    ("ros_detoxification", "cellular oxidant detoxification"),
])
def test_mechanism_and_its_process_have_distinct_labels(store: pyoxigraph.Store, mechanism: str,
                                                        process: str) -> None:
    label = pyoxigraph.NamedNode(str(RDFS.label))

    def labels(local: str) -> list[str]:
        return [q.object.value for q in store.quads_for_pattern(
            pyoxigraph.NamedNode(BASE + local), label, None)]

    assert labels(mechanism) == [mechanism.replace("_", " ").replace("ros ", "ROS ")]
    assert labels(f"{mechanism}_process") == [process]


# --- strict OWL 2 DL -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exomirkg.owl", "exomirkg-full.owl"])
def test_release_is_owl2_dl_for_py_horned_owl(built: BuildResult, build_dir: Path,
                                              name: str) -> None:
    """A strict parser reads every annotation as an annotation: no property is undeclared
    (py-horned-owl reads an undeclared one on a class as a data property assertion)."""
    ontology = pyhornedowl.open_ontology(str(build_dir / name), "owl")
    kinds = Counter(type(axiom.component).__name__ for axiom in ontology.get_axioms())
    graph = _xml((build_dir / name).read_bytes())

    def declared(kind: URIRef) -> int:
        return sum(1 for s in set(graph.subjects(RDF.type, kind)) if isinstance(s, URIRef))

    assert kinds["DataPropertyAssertion"] == 0 and kinds["ObjectPropertyAssertion"] == 0, kinds
    assert kinds["DeclareClass"] == declared(OWL.Class)
    assert kinds["DeclareObjectProperty"] == declared(OWL.ObjectProperty)
    assert kinds["DeclareDataProperty"] == declared(OWL.DatatypeProperty)
    assert kinds["DeclareAnnotationProperty"] == declared(OWL.AnnotationProperty)
    assert kinds["DeclareNamedIndividual"] == declared(OWL.NamedIndividual) == 13
    assert kinds["Import"] == (len(MODULES) if name == "exomirkg.owl" else 0)
    assert str(ontology.get_version_iri()) == str(release_iri(
        __version__, "ontology" if name == "exomirkg.owl" else name))


def test_owlready2_loads_the_release_file_and_its_imports(
        built: BuildResult, build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import owlready2
    import owlready2.namespace

    # The catalogue's job for owlready2: find each import in build/imports/, never online.
    monkeypatch.setattr(owlready2.namespace, "onto_path", [str(build_dir / "imports")])
    world = owlready2.World()
    ontology = world.get_ontology((build_dir / "exomirkg.owl").as_uri()).load()
    assert sorted(o.base_iri.rstrip("#/") for o in ontology.imported_ontologies) == sorted(
        str(import_module_iri(m)) for m in MODULES)
    assert [str(x) for x in world[BASE + "PlatinumDrug"].label] == ["platinum drug"]
    assert [str(x) for x in world[str(curie_to_iri("CHEBI:27899"))].label] == ["cisplatin"]


def test_owlready2_loads_the_live_ontology_as_rdf_xml(
        make_app: Callable[..., Flask], build_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import owlready2
    import owlready2.namespace

    monkeypatch.setattr(owlready2.namespace, "onto_path", [str(build_dir / "imports")])
    with serving(make_app()) as base:
        answer = requests.get(f"{base}/ontology", headers=RDF_XML, timeout=60)
        assert answer.headers["Content-Type"].startswith("application/rdf+xml")
        assert isomorphic(_xml(answer.content), _xml((build_dir / "exomirkg.owl").read_bytes()))
        world = owlready2.World()
        # owlready2 sends no Accept header: an ontology IRI then answers RDF/XML.
        ontology = world.get_ontology(f"{base}/ontology").load()
    assert len(ontology.imported_ontologies) == len(MODULES)
    assert [str(x) for x in world[BASE + "Finding"].label] == ["finding"]
    assert [str(x) for x in world[str(curie_to_iri("CHEBI:27899"))].label] == ["cisplatin"]


@pytest.mark.slow
def test_hermit_finds_the_release_consistent(built: BuildResult, build_dir: Path) -> None:
    assert shutil.which("java"), "HermiT needs Java: install default-jre-headless (.ci/run does)"
    child = subprocess.run(
        [sys.executable, "-m", "exomirkg.consistency", "--json",
         str(build_dir / "exomirkg-full.owl")],
        capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    assert lines, child.stderr[-2000:]
    assert json.loads(lines[-1]) == {"consistent": True, "unsatisfiable": [], "message": ""}


# --- served --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ontology", f"/releases/{__version__}/ontology"])
def test_ontology_iri_negotiates_rdf_xml(client: FlaskClient, build_dir: Path, path: str) -> None:
    release = (build_dir / "exomirkg.owl").read_bytes()
    for headers in (RDF_XML, {}):
        response = client.get(path, headers=headers)
        assert response.mimetype == "application/rdf+xml", headers
        assert isomorphic(_xml(response.data), _xml(release))
    assert client.get(path, headers={"Accept": "text/html"}).mimetype == "text/html"
    turtle = client.get(path, headers={"Accept": "text/turtle"})
    assert isomorphic(Graph().parse(data=turtle.data, format="turtle"), _xml(release))


@pytest.mark.parametrize("name", list(RELEASE_FILES))
def test_release_file_is_served_at_its_versioned_iri(client: FlaskClient, build_dir: Path,
                                                     name: str) -> None:
    response = client.get(f"/releases/{__version__}/{name}")
    assert response.status_code == 200
    assert response.mimetype == RELEASE_FILES[name]
    assert response.data == (build_dir / name).read_bytes(), "server and build differ"
    assert client.get(f"/releases/0.0.0/{name}").status_code == 404


@pytest.mark.parametrize("module", MODULES)
def test_import_module_iri_dereferences(client: FlaskClient, module: str) -> None:
    path = str(import_module_iri(module))[len(BASE) - 1:]
    graph = _xml(client.get(path, headers=RDF_XML).data)
    assert (import_module_iri(module), RDF.type, OWL.Ontology) in graph
    assert graph.value(import_module_iri(module), DCTERMS.license) == URIRef(about.DATA_LICENSE)
    assert client.get(path, headers={"Accept": "text/html"}).status_code == 303


@pytest.mark.parametrize(("path", "expected"), [
    ("/PlatinumDrug", (URIRef(BASE + "PlatinumDrug"), RDF.type, OWL.Class)),
    ("/hasMiRNA", (URIRef(BASE + "hasMiRNA"), RDF.type, OWL.ObjectProperty)),
    ("/cisplatin", (URIRef(BASE + "cisplatin"), RDFS.label, Literal("cisplatin", lang="en"))),
    ("/cisplatin.rdf", (URIRef(BASE + "cisplatin"), RDFS.label, Literal("cisplatin", lang="en"))),
    ("/store?graph=https://w3id.org/exomirkg/graph/ontology",
     (URIRef(BASE + "Finding"), RDF.type, OWL.Class)),
    ("/download/exomirkg.rdf", (URIRef(BASE + "cisplatin"), RDF.type, URIRef(BASE + "Drug"))),
    ("/download/exomirkg.owl", (ONTOLOGY, OWL.versionIRI, release_iri(__version__))),
], ids=["class", "property", "entity", "entity-suffix", "store", "download", "download-owl"])
def test_term_entity_store_and_downloads_answer_rdf_xml(client: FlaskClient, path: str,
                                                        expected: tuple) -> None:
    response = client.get(path, headers=RDF_XML)
    assert response.status_code == 200
    assert response.mimetype == "application/rdf+xml"
    assert expected in _xml(response.data)
