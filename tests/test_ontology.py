"""The ontology parses everywhere, is consistent, and documents every term."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from exomirkg import paths
from exomirkg.load import parse_turtle
from exomirkg.namespaces import BASE, IAO_DEFINITION, OBO

ONTOLOGY = parse_turtle(paths.ONTOLOGY_FILE)
IMPORTS = Graph()
for _path in sorted(paths.IMPORTS_DIR.glob("*_import.ttl")):
    parse_turtle(_path, IMPORTS)

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
OWN_TERMS = sorted(
    {s for t in TERM_TYPES for s in ONTOLOGY.subjects(RDF.type, t)
     if isinstance(s, URIRef) and str(s).startswith(BASE)}
)


def test_ontology_parses_in_pyoxigraph() -> None:
    store = pyoxigraph.Store()
    store.load(path=str(paths.ONTOLOGY_FILE), format=pyoxigraph.RdfFormat.TURTLE)
    assert len(store) == len(ONTOLOGY)


def test_ontology_header_names_the_review_and_a_version() -> None:
    header = URIRef(BASE + "ontology")
    assert (header, RDF.type, OWL.Ontology) in ONTOLOGY
    for prop in (OWL.versionIRI, URIRef("http://purl.org/dc/terms/license"),
                 URIRef("http://purl.org/dc/terms/title")):
        assert ONTOLOGY.value(header, prop) is not None, f"ontology header lacks {prop}"
    assert ONTOLOGY.value(header, URIRef("http://purl.org/dc/terms/source")) == URIRef(
        "https://doi.org/10.3390/cells9061450")


@pytest.mark.parametrize("term", OWN_TERMS, ids=[t.removeprefix(BASE) for t in OWN_TERMS])
def test_every_term_has_a_label_and_a_definition(term: URIRef) -> None:
    assert ONTOLOGY.value(term, RDFS.label), f"add rdfs:label to ekg:{term.removeprefix(BASE)}"
    assert ONTOLOGY.value(term, IAO_DEFINITION), (
        f"add obo:IAO_0000115 (definition) to ekg:{term.removeprefix(BASE)} in "
        "ontology/exomirkg-edit.ttl")


def test_core_classes_exist() -> None:
    for name in ("CellType", "ExosomalMiRNA", "Drug", "Pathway", "Mechanism", "Gene",
                 "CancerType", "Finding", "Reference"):
        assert (URIRef(BASE + name), RDF.type, OWL.Class) in ONTOLOGY, name


def test_every_external_iri_of_the_ontology_is_in_an_import_module() -> None:
    declared = set(IMPORTS.subjects(RDFS.label, None))
    standard = ("http://www.w3.org/", "http://purl.org/dc/terms/",
                "http://www.geneontology.org/formats/oboInOwl#", "https://creativecommons.org/",
                "https://doi.org/")
    missing = sorted(
        str(node) for node in set(ONTOLOGY.subjects()) | set(ONTOLOGY.objects())
        if isinstance(node, URIRef) and not str(node).startswith((BASE,) + standard)
        and node not in declared
    )
    assert not missing, f"declare these in ontology/imports (exomirkg imports): {missing}"


def test_reused_ro_relation_for_mirna_repression() -> None:
    """miRNA -> gene repression is RO:0003002, not RO:0002212 (processes only)."""
    assert (OBO.RO_0003002, RDFS.subPropertyOf, OBO.RO_0002449) in ONTOLOGY
    assert not list(ONTOLOGY.triples((None, None, OBO.RO_0002212)))


def _ontology_as_ntriples(tmp_path: Path) -> Path:
    merged = Graph()
    merged += ONTOLOGY
    merged += IMPORTS
    target = tmp_path / "exomirkg-ontology.nt"
    merged.serialize(target, format="nt", encoding="utf-8")
    return target


def test_ontology_loads_in_owlready2(tmp_path: Path) -> None:
    import owlready2

    world = owlready2.World()
    onto = world.get_ontology(_ontology_as_ntriples(tmp_path).as_uri()).load()
    assert onto.search_one(iri=BASE + "Finding") is not None
    # Every class and property the edit file declares is read as such, with its label.
    for kind, loaded in ((OWL.Class, world.classes()),
                         (OWL.ObjectProperty, world.object_properties()),
                         (OWL.DatatypeProperty, world.data_properties())):
        declared = {str(s) for s in ONTOLOGY.subjects(RDF.type, kind)
                    if isinstance(s, URIRef) and str(s).startswith(BASE)}
        read = {entity.iri for entity in loaded if entity.iri.startswith(BASE)}
        assert declared and declared <= read, f"{kind}: not read {sorted(declared - read)[:5]}"
    assert world[BASE + "Finding"].label, "labels should be read too"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a JVM (java not found)")
def test_hermit_finds_the_ontology_consistent(tmp_path: Path) -> None:
    nt = _ontology_as_ntriples(tmp_path)
    script = (
        "import owlready2, sys\n"
        "w = owlready2.World()\n"
        f"o = w.get_ontology({nt.as_uri()!r}).load()\n"
        "with o: owlready2.sync_reasoner_hermit(w, infer_property_values=False)\n"
        "bad = [c.iri for c in w.inconsistent_classes()]\n"
        "print('UNSAT', bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    # A subprocess keeps owlready2's global reasoner state out of this test process.
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, f"HermiT: inconsistent or unsatisfiable:\n{run.stdout}{run.stderr}"
