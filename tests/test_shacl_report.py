"""The SHACL report of ``exomirkg validate --format turtle``: spec-conformant and read back by
a reader we did not write (pyoxigraph), its shape results being pyshacl's own."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from exomirkg.build import BuildResult
from exomirkg.namespaces import SH, section_graph
from exomirkg.report import CHECK_BASE, ValidationReport
from exomirkg.validate import asserted_graph, checks_store, load_checks, load_shapes, run_checks

FIXTURES = Path(__file__).parent / "resources" / "checks"
#: Every result of a spec-conformant report has these (SHACL 1.0, section 3.6.2).
REQUIRED = (SH.focusNode, SH.resultSeverity, SH.sourceConstraintComponent, SH.sourceShape)


def _report_graph(report: ValidationReport) -> Graph:
    turtle = report.as_turtle()
    # A reader we did not write must read it too.
    graph = Graph().parse(data=turtle, format="turtle")
    read = list(pyoxigraph.parse(turtle.encode("utf-8"), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(read) == len(graph)
    return graph


@pytest.fixture(scope="module")
def real_report(built: BuildResult) -> ValidationReport:
    assert built.report is not None
    return built.report


def test_warnings_alone_make_the_report_not_conform(real_report: ValidationReport) -> None:
    """The review's graph has Warnings and no Violation: it builds, and SHACL says false."""
    graph = _report_graph(real_report)
    assert real_report.conforms and real_report.warnings and not real_report.violations
    assert real_report.shacl_conforms is False
    assert next(graph.objects(None, SH.conforms)).toPython() is False


def test_every_result_has_what_shacl_requires(real_report: ValidationReport) -> None:
    graph = _report_graph(real_report)
    results = list(graph.objects(None, SH.result))
    assert len(results) == len(real_report.results)
    for node in results:
        assert graph.value(node, RDF.type) == SH.ValidationResult
        missing = [p for p in REQUIRED if graph.value(node, p) is None]
        assert not missing, f"a result lacks {missing}"


def test_shape_results_are_pyshacls_own(built: BuildResult, real_report: ValidationReport) -> None:
    _, reference, _ = pyshacl.validate(asserted_graph(built.dataset), shacl_graph=load_shapes(),
                                       inference="none", advanced=True, allow_warnings=True)

    def keys(graph: Graph) -> set[tuple]:
        return {(graph.value(n, SH.focusNode), graph.value(n, SH.sourceConstraintComponent),
                 graph.value(n, SH.resultSeverity), graph.value(n, SH.resultMessage))
                for n in graph.objects(None, SH.result)
                if not str(graph.value(n, SH.sourceShape)).startswith(CHECK_BASE)}

    assert keys(_report_graph(real_report)) == keys(reference)


def test_a_check_result_is_a_sparql_constraint_on_the_offending_node() -> None:
    path = FIXTURES / "dangling-iri-violation.ttl"
    dataset = Dataset(default_union=True)
    dataset.graph(section_graph(path.stem)).parse(path, format="turtle")
    results = run_checks(checks_store(dataset), load_checks())
    assert results
    graph = _report_graph(ValidationReport(conforms=False, results=results))
    assert next(graph.objects(None, SH.conforms)).toPython() is False
    for node in graph.objects(None, SH.result):
        assert graph.value(node, SH.sourceConstraintComponent) == SH.SPARQLConstraintComponent
        assert str(graph.value(node, SH.sourceShape)).startswith(CHECK_BASE)
        assert isinstance(graph.value(node, SH.focusNode), URIRef), "the focus stays an IRI"


def test_no_result_conforms() -> None:
    graph = _report_graph(ValidationReport(conforms=True, results=[]))
    assert next(graph.objects(None, SH.conforms)).toPython() is True


def test_the_checks_are_published_with_the_shapes(client) -> None:
    import io
    import zipfile

    from exomirkg import paths

    response = client.get("/download/exomirkg-checks.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        published = {name.removeprefix("checks/"): archive.read(name)
                     for name in archive.namelist()}
    expected = {p.name: p.read_bytes() for p in paths.CHECKS_DIR.glob("*-violation.rq")}
    assert published == expected and expected
    assert client.get("/download/exomirkg-checks.zip").data == response.data, "stable bytes"
    sums = client.get("/download/SHA256SUMS").get_data(as_text=True)
    assert "exomirkg-checks.zip" in sums
