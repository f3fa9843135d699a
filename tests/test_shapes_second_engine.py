"""The shapes are SHACL Core, and a second SHACL engine we did not write reads them as we do.

rudof (``pyrudof``, a Rust SHACL/ShEx engine) runs, as a consumer would run it on the published
shapes (validation/README.md, "Publishing"), every fixture of tests/resources/shapes and the
real asserted graph: it passes every valid fixture, fires exactly the shape each invalid one
names, and finds no Violation in the real graph. That its verdicts are pyshacl's, result for
result and field by field, is tested in tests/test_validation_engines.py (the build validates
with rudof, pyshacl is the reference).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pyrudof
import pytest
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.namespace import RDF

from exomirkg import paths
from exomirkg.build import BuildResult
from exomirkg.namespaces import EKG, SH, section_graph
from exomirkg.validate import asserted_graph, load_shapes

FIXTURES = Path(__file__).parent / "resources" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
SHAPE_FILES = sorted(paths.SHAPES_DIR.glob("*.ttl"))
STRICT = pyrudof.ReaderMode.Strict

#: (shape, focus node, constraint component, severity) of one result.
Result = tuple[str, str, str, str]

#: SHACL vocabulary outside SHACL Core: SHACL-SPARQL (SHACL 1.0 sections 5-6) and the
#: Advanced Features note (custom targets, rules, functions, SHACL-JS, node expressions).
#: Core engines skip such a constraint or target without a word, so none may be used.
NOT_CORE = {SH[name] for name in (
    "sparql", "select", "ask", "prefixes", "declare", "SPARQLConstraint", "SPARQLExecutable",
    "SPARQLAskExecutable", "SPARQLSelectExecutable", "SPARQLConstructExecutable",
    "SPARQLUpdateExecutable", "SPARQLAskValidator", "SPARQLSelectValidator", "validator",
    "nodeValidator", "propertyValidator", "parameter", "optional", "ConstraintComponent",
    "Parameter", "target", "Target", "TargetType", "SPARQLTarget", "SPARQLTargetType", "rule",
    "Rule", "SPARQLRule", "TripleRule", "construct", "condition", "Function", "SPARQLFunction",
    "returnType", "expression", "filterShape", "intersection", "union", "JSConstraint",
    "JSExecutable", "JSFunction", "JSLibrary", "JSRule", "JSTarget", "JSTargetType",
    "JSValidator", "js", "jsFunctionName", "jsLibrary", "jsLibraryURL", "shapesGraph",
)}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def rudof(shapes: Graph) -> pyrudof.Rudof:
    """A rudof session holding the shapes, read from N-Triples so that rudof keeps the blank-node
    labels of rdflib's graph and a property shape it reports can be traced to its node shape."""
    engine = pyrudof.Rudof(pyrudof.RudofConfig())
    engine.read_shacl(shapes.serialize(format="nt"), format=pyrudof.ShaclFormat.NTriples,
                      reader_mode=STRICT)
    return engine


def test_rudof_is_the_engine_we_think(rudof: pyrudof.Rudof) -> None:
    assert rudof.get_version() == version("pyrudof")


def _curie(node: object) -> str:
    text = str(node)
    return "ekg:" + text.removeprefix(str(EKG)) if text.startswith(str(EKG)) else text


def _owner(shapes: Graph, source: str) -> str:
    """The named node shape a result belongs to (a property shape is shown by its owner)."""
    node = BNode(source[2:]) if source.startswith("_:") else URIRef(source)
    owner = next(iter(shapes.subjects(SH.property, node)), node)
    return _curie(owner) if isinstance(owner, URIRef) else "(anonymous shape)"


def _by_rudof(engine: pyrudof.Rudof, shapes: Graph, data: Graph) -> tuple[bool, set[Result]]:
    engine.reset_data()
    engine.read_data(data.serialize(format="turtle"), reader_mode=STRICT)
    report = engine.validate_shacl()
    results = {(_owner(shapes, r.source_shape or ""), r.focus_node, r.constraint_component,
                r.severity) for r in report.violations}
    return report.conforms, results


def _fixture_graph(path: Path) -> Graph:
    """As tests/test_shapes.py loads it: into its own named graph, then the asserted merge."""
    dataset = Dataset(default_union=True)
    dataset.graph(section_graph(path.stem)).parse(path, format="turtle")
    return asserted_graph(dataset)


def _render(results: set[Result]) -> str:
    return "\n".join(f"  {' '.join(r)}" for r in sorted(results)) or "  (no results)"


def test_shapes_use_only_shacl_core(shapes: Graph) -> None:
    used = sorted({f"{_curie(s)} uses sh:{str(term).removeprefix(str(SH))}"
                   for s, p, o in shapes for term in (p, o) if term in NOT_CORE})
    assert not used, ("shapes must be SHACL Core (other engines skip SHACL-SPARQL and advanced "
                      "features silently):\n  " + "\n  ".join(used))


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in SHAPE_FILES])
def test_rudof_reads_each_published_shapes_file(path: Path) -> None:
    engine = pyrudof.Rudof(pyrudof.RudofConfig())
    engine.read_shacl(path.read_text(encoding="utf-8"), reader_mode=STRICT)


def test_rudof_keeps_every_shape_and_its_targets(rudof: pyrudof.Rudof, shapes: Graph) -> None:
    """What rudof understood of the shapes: every named node shape, with its target classes
    (a target it does not support, like the SPARQL target this repository once had, is dropped
    here without an error)."""
    understood = Graph().parse(data=rudof.serialize_shacl(), format="turtle")
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if isinstance(shape, URIRef):
            ours = set(shapes.objects(shape, SH.targetClass))
            assert ours, f"{_curie(shape)} has no sh:targetClass"
            assert set(understood.objects(shape, SH.targetClass)) == ours, _curie(shape)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in VALID])
def test_rudof_passes_every_valid_fixture(path: Path, rudof: pyrudof.Rudof,
                                          shapes: Graph) -> None:
    conforms, results = _by_rudof(rudof, shapes, _fixture_graph(path))
    assert conforms and not results, f"rudof rejects {path}:\n{_render(results)}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in INVALID])
def test_rudof_fails_every_invalid_fixture_as_pyshacl_does(
    path: Path, rudof: pyrudof.Rudof, shapes: Graph
) -> None:
    expected = next(line.split(":", 1)[1].strip()
                    for line in path.read_text(encoding="utf-8").splitlines()[:5]
                    if line.startswith("# expect:"))
    data = _fixture_graph(path)
    conforms, results = _by_rudof(rudof, shapes, data)
    assert not conforms, f"rudof finds nothing wrong in {path}"
    assert {shape for shape, *_ in results} == {expected}, (
        f"{path}: rudof should fire only {expected}:\n{_render(results)}")
    # Result for result against pyshacl: tests/test_validation_engines.py (every field).


def test_rudof_agrees_on_the_real_graph(built: BuildResult, rudof: pyrudof.Rudof,
                                        shapes: Graph) -> None:
    """No Violation on the asserted graph; the Warnings (findings resting only on retracted
    references) are pyshacl's, and they make rudof's sh:conforms false, as SHACL requires."""
    data = asserted_graph(built.dataset)
    conforms, results = _by_rudof(rudof, shapes, data)
    violations = {r for r in results if r[3] == "Violation"}
    assert not violations, f"rudof finds Violations in the real graph:\n{_render(violations)}"
    assert {r[3] for r in results} == {"Warning"}
    assert conforms is (not results)
