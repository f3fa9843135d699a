"""SHACL shapes: each one passes its valid fixtures, fires alone on its invalid ones, and the
real graph conforms (what keeps curation honest in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, RDFS

from exomirkg.build import BuildResult
from exomirkg.namespaces import EKG, SH, section_graph
from exomirkg.validate import ValidationResult, asserted_graph, load_shapes, run_shapes

FIXTURES = Path(__file__).parent / "resources" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def _header(path: Path, key: str) -> str:
    """Read a ``# key: value`` line from the top of a fixture."""
    for line in path.read_text(encoding="utf-8").splitlines()[:5]:
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path}: add a '# {key}: ...' line at the top of the fixture")


def _curie(shape: str) -> URIRef:
    assert shape.startswith("ekg:"), f"name shapes as ekg:<Class>Shape, not {shape}"
    return URIRef(EKG[shape.removeprefix("ekg:")])


def _fixture_graph(path: Path) -> Graph:
    """Load a fixture the way the build loads a source file: into its own named graph."""
    dataset = Dataset(default_union=True)
    dataset.graph(section_graph(path.stem)).parse(path, format="turtle")
    return asserted_graph(dataset)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def _node_shapes(shapes: Graph) -> set[str]:
    return {f"ekg:{s.removeprefix(str(EKG))}" for s in shapes.subjects(RDF.type, SH.NodeShape)
            if isinstance(s, URIRef) and str(s).startswith(str(EKG))}


def _render(results: list[ValidationResult]) -> str:
    return "\n".join(f"  {r.severity} {r.rule} {r.focus} {r.path} {r.value}: {r.message}"
                     for r in results) or "  (no results)"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in VALID])
def test_valid_fixture_conforms_to_every_shape(path: Path, shapes: Graph) -> None:
    results = run_shapes(_fixture_graph(path), shapes)
    assert not results, f"{path} should pass every shape, but:\n{_render(results)}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in INVALID])
def test_invalid_fixture_fires_exactly_its_shape(path: Path, shapes: Graph) -> None:
    expected = _header(path, "expect")
    fragment = _header(path, "message")
    results = run_shapes(_fixture_graph(path), shapes)
    fired = {r.rule for r in results}
    assert fired == {expected}, (
        f"{path}: expected only {expected} to fire, got {sorted(fired)}; make the fixture break "
        f"exactly one rule:\n{_render(results)}")
    assert any(fragment in r.message for r in results), (
        f"{path}: no message of {expected} contains {fragment!r}:\n{_render(results)}")


def _targets(shape: URIRef, shapes: Graph, data: Graph) -> set:
    """Focus nodes of a shape: its sh:targetClass, with rdfs:subClassOf (the shapes are SHACL
    Core, tests/test_shapes_second_engine.py, so no SPARQL target)."""
    nodes: set = set()
    for cls in shapes.objects(shape, SH.targetClass):
        classes = set(data.transitive_subjects(RDFS.subClassOf, cls)) | {cls}
        for each in classes:
            nodes |= set(data.subjects(RDF.type, each))
    return nodes


def test_every_shape_has_a_failing_and_a_passing_fixture(shapes: Graph) -> None:
    node_shapes = _node_shapes(shapes)
    failing = {_header(p, "expect") for p in INVALID}
    assert node_shapes <= failing, (
        f"no failing fixture for {sorted(node_shapes - failing)}: add "
        "tests/resources/shapes/invalid/<shape>-<case>.ttl with '# expect: ekg:<Shape>'")
    passing: set[str] = set()
    for path in VALID:
        data = _fixture_graph(path)
        for shape in _header(path, "covers").split():
            assert _targets(_curie(shape), shapes, data), (
                f"{path} claims to cover {shape} but holds no node that shape targets")
            passing.add(shape)
    assert node_shapes <= passing, (
        f"no passing fixture for {sorted(node_shapes - passing)}: add it to a "
        "tests/resources/shapes/valid/*.ttl fixture and its '# covers:' line")


def test_every_shape_is_named_after_its_class_and_says_how_to_fix(shapes: Graph) -> None:
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        assert str(shape).endswith("Shape"), f"{shape}: name node shapes ekg:<Class>Shape"
        messages = list(shapes.objects(shape, SH.message))
        for prop in shapes.objects(shape, SH.property):
            messages += list(shapes.objects(prop, SH.message))
            assert list(shapes.objects(prop, SH.message)), (
                f"{shape}: a property shape on {shapes.value(prop, SH.path)} has no sh:message; "
                "say what to fix")
        assert messages, f"{shape}: add an sh:message that says what to fix"


def test_real_graph_conforms(built: BuildResult) -> None:
    report = built.report
    assert report is not None
    assert report.conforms, (
        "the curated graph breaks the data contract; fix these in the files named:\n"
        + report.as_text())


def test_fix_it_messages_point_at_files_of_this_repository(shapes: Graph) -> None:
    """Every file a shape or check message tells the curator to open exists in this checkout
    (a glob such as ontology/imports/*_terms.txt must match at least one file)."""
    import re

    from exomirkg import paths
    from exomirkg.validate import load_checks

    texts = [str(m) for m in shapes.objects(None, SH.message)]
    texts += [c.description for c in load_checks()]
    named = {token for text in texts for token in re.findall(
        r"(?:[\w.*<>-]+/)+[\w.*<>-]+\.(?:ttl|tsv|txt|rq|md)\b", text)}
    assert named, "no message names a file: the pattern is broken"
    root = paths.DATA_ROOT
    missing = sorted(name for name in named
                     if not list(root.glob(re.sub(r"<[^>]+>", "*", name))))
    assert not missing, f"messages point at files this repository does not have: {missing}"
