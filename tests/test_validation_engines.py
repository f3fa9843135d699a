"""The build's SHACL engine (the shapes compiled to SPARQL) and rudof give pyshacl's report.

pyshacl is the reference. ``run_shapes_sparql`` (exomirkg.shacl_sparql, the build's engine)
and ``run_shapes_rudof`` (rudof's results read back) give ValidationResults, and on every
fixture of tests/resources/shapes, on the review graph, on mutated copies of it and on the
synthetic graph of benchmarks/synthetic.py, each list equals pyshacl's field by field once
sorted as the build sorts them (``report.sort_key``): severity, rule, focus, file, message,
path, value, kind, component and details (dataclass equality), and the RDF description each
result carries for the SHACL report (``rdf``: the same set of predicate-object pairs, RDF terms
compared exactly, lexical form, datatype and language tag included). One field can differ by
design: the message of a shape with no ``sh:message``, where each engine writes its own text;
every shape of validation/shapes/ has one, which a test below keeps true.

The SPARQL engine reads literals as the files write them (ill-typed, ``xsd:long``, leading
zeros, language tags in any case, escapes): tests below give it such values both from an
rdflib graph and from the build's N-Triples text.

Two differences between the engines that the mapping corrects, each shown here on rudof's
raw output so that a rudof release that fixes it is noticed: rudof prints some literals
bare or without their datatype (the mapping takes the data's own term), and rudof 0.3.35 fails
a number of a derived integer type against sh:minInclusive/sh:maxInclusive (the mapping drops
those results). One it does not: for rdflib ``"x"`` and ``"x"^^xsd:string`` are two terms, for
RDF 1.1 and rudof one, so data holding both on one node gets one result from rudof, two from
pyshacl (rdflib writes both to N-Triples; no source file of ours does).
"""

from __future__ import annotations

import logging
import random
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph
import pyrudof
import pytest
from helpers import benchmark
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, XSD

from exomirkg import paths, shacl_sparql
from exomirkg.build import BuildResult
from exomirkg.load import DataFileError, Sources, load_dataset, read_ntriples
from exomirkg.namespaces import EKG, GRAPH_INFERRED, SH, section_graph
from exomirkg.reason import infer
from exomirkg.report import ValidationReport, ValidationResult, sort_key
from exomirkg.store import to_rdflib
from exomirkg.validate import (  # noqa: I001
    SHAPE_ENGINES,
    ShapesRun,
    _Locator,
    _Statements,
    asserted_graph,
    default_shapes_engine,
    load_shapes,
    run_shapes,
    run_shapes_rudof,
    run_shapes_sparql,
    validate_dataset,
)

FIXTURES = Path(__file__).parent / "resources" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
#: The engines held to pyshacl, and how each validates an rdflib graph.
ENGINES = {"sparql": run_shapes_sparql, "rudof": run_shapes_rudof}

#: Values rudof prints in every way it has: escapes, a language tag in odd case, literals it
#: prints bare (xsd:long, xsd:nonNegativeInteger, xsd:boolean, xsd:dateTime) or without their
#: datatype (xsd:string), a datatype it writes as <IRI>, blank nodes, and two values that print
#: alike (12 and "12"^^xsd:long), on plain, inverse and sequence paths and a blank focus node.
TRICKY_SHAPES = r"""
PREFIX ex: <http://example.org/>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:p ; sh:nodeKind sh:IRI ; sh:message "an IRI" ] ,
        [ sh:path ex:q ; sh:datatype xsd:integer ; sh:message "an integer" ] ,
        [ sh:path [ sh:inversePath ex:r ] ; sh:nodeKind sh:Literal ; sh:message "none" ] ,
        [ sh:path ( ex:s ex:t ) ; sh:datatype xsd:boolean ; sh:message "a boolean" ] .
"""
TRICKY_DATA = r"""
PREFIX ex: <http://example.org/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
ex:a a ex:C ;
    ex:p "a \"quoted\" \\ back\nslash\ttab"@EN-gb , "y"^^xsd:string , "x" , "7" , "7"^^xsd:long ,
        "7"^^xsd:nonNegativeInteger , true , "2020-01-01T00:00:00"^^xsd:dateTime ,
        "z"^^ex:dt , "1"^^owl:real , "" , "héllo ü"@de , [ ex:label "blank" ] , ex:fine ;
    ex:q "12"^^xsd:long , 12 , "x" , ex:iri ;
    ex:s [ ex:t "yes" , false ] .
ex:z ex:r ex:a . [] ex:r ex:a .
[] a ex:C ; ex:p "a blank focus node" .
"""


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def _fixture_graph(path: Path) -> Graph:
    """As tests/test_shapes.py loads it: into its own named graph, then the asserted merge."""
    dataset = Dataset(default_union=True)
    dataset.graph(section_graph(path.stem)).parse(path, format="turtle")
    return asserted_graph(dataset)


def _render(results: list[ValidationResult]) -> str:
    return "\n".join(f"  {r!r}\n    rdf: {sorted(r.rdf)}" for r in results) or "  (none)"


def _assert_same(mapped: list[ValidationResult], reference: list[ValidationResult],
                 where: str) -> None:
    """Every field equal, in the build's order; then each result's RDF terms, exactly."""
    mapped, reference = sorted(mapped, key=sort_key), sorted(reference, key=sort_key)
    assert mapped == reference, (
        f"{where}: the engine's report is not pyshacl's; fix exomirkg.shacl_sparql (sparql) or "
        f"the mapping in exomirkg.validate.run_shapes_rudof (rudof)\nengine:\n{_render(mapped)}\n"
        f"pyshacl:\n{_render(reference)}")
    for ours, theirs in zip(mapped, reference, strict=True):
        assert set(ours.rdf) == set(theirs.rdf), (
            f"{where}: {ours.rule} on {ours.focus}: RDF description differs\n"
            f"engine only: {set(ours.rdf) - set(theirs.rdf)}\n"
            f"pyshacl only: {set(theirs.rdf) - set(ours.rdf)}")


def _assert_same_report(mapped: ValidationReport, reference: ValidationReport,
                        where: str) -> None:
    """Two reports of validate_dataset (each loaded its own shapes, so the blank nodes of
    property shapes differ): equal results, and SHACL reports equal up to blank nodes."""
    assert mapped.conforms is reference.conforms
    assert mapped.results == reference.results, (
        f"{where}: the engine's report is not pyshacl's\nengine:\n{_render(mapped.results)}\n"
        f"pyshacl:\n{_render(reference.results)}")
    assert isomorphic(mapped.as_graph(), reference.as_graph()), (
        f"{where}: the SHACL (Turtle) reports differ")


# --- which engine -----------------------------------------------------------------------


def test_default_engine_is_the_sparql_compiler_even_without_pyrudof(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SHAPE_ENGINES == ("sparql", "rudof", "pyshacl")
    assert default_shapes_engine() == "sparql"
    monkeypatch.setitem(sys.modules, "pyrudof", None)  # makes `import pyrudof` fail
    assert default_shapes_engine() == "sparql"


def test_an_unknown_engine_is_refused(shapes: Graph) -> None:
    with pytest.raises(ValueError, match="unknown SHACL engine"):
        run_shapes(Graph(), shapes, engine="jena")
    with pytest.raises(ValueError, match="unknown SHACL engine"):
        validate_dataset(Dataset(), engine="jena")


# --- the same report ----------------------------------------------------------------------


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("path", [pytest.param(p, id=f"valid/{p.stem}") for p in VALID]
                         + [pytest.param(p, id=f"invalid/{p.stem}") for p in INVALID])
def test_engine_report_is_pyshacls_on_every_fixture(path: Path, engine: str,
                                                    shapes: Graph) -> None:
    data = _fixture_graph(path)
    reference = run_shapes(data, shapes)
    # An invalid fixture must give results, or the comparison would prove nothing.
    assert bool(reference) is (path.parent.name == "invalid"), _render(reference)
    _assert_same(ENGINES[engine](data, shapes), reference, f"{engine}: {path}")


@pytest.mark.parametrize("engine", list(ENGINES))
def test_engine_reports_every_kind_of_value_as_the_datas_own_term(engine: str) -> None:
    shapes = Graph().parse(data=TRICKY_SHAPES, format="turtle")
    data = Graph().parse(data=TRICKY_DATA, format="turtle")
    mapped = ENGINES[engine](data, shapes)
    _assert_same(mapped, run_shapes(data, shapes), f"{engine}: tricky values")
    assert len(mapped) == 20
    for result in mapped:
        described = dict(result.rdf)
        value = described.get(SH.value)
        if value is not None and not isinstance(value, URIRef):
            # The data's own term, written as the data has it (language tag case included).
            assert value.n3() in {o.n3() for o in data.objects()} | {
                s.n3() for s in data.subjects()}, value


@pytest.mark.slow  # pyshacl over the whole review graph, twice
def test_the_build_report_is_pyshacls_on_the_review_graph(built: BuildResult) -> None:
    """The build validated with the SPARQL engine (the default): its report is pyshacl's, in
    the same order, and so is its SHACL report, and rudof's; each result has what SHACL 1.0
    3.6.2 requires."""
    assert built.report is not None
    # As build_dataset validates: the asserted dataset and the reasoner's graph beside it.
    dataset = load_dataset()
    inferred = infer(dataset, rules_dir=paths.layout().rules_dir)
    reference = validate_dataset(dataset, inferred, engine="pyshacl")
    assert reference.results, "the review graph has Warnings: the comparison must see them"
    for engine in ENGINES:
        _assert_same_report(validate_dataset(dataset, inferred, engine=engine), reference,
                            f"{engine}: review graph")
    _assert_same_report(built.report, reference, "the build's report")
    mapped = validate_dataset(dataset, inferred)
    graph = mapped.as_graph()
    for node in graph.objects(None, SH.result):
        for predicate in (RDF.type, SH.focusNode, SH.resultSeverity,
                          SH.sourceConstraintComponent, SH.sourceShape, SH.resultMessage):
            assert graph.value(node, predicate) is not None, f"a result lacks {predicate}"


@pytest.mark.parametrize("engine", list(ENGINES))
def test_engine_report_is_pyshacls_on_the_asserted_graph(built: BuildResult, engine: str,
                                                         shapes: Graph) -> None:
    """The same with one shapes graph, so that the RDF terms are compared exactly too."""
    data = asserted_graph(built.dataset)
    reference = run_shapes(data, shapes)
    assert reference
    _assert_same(ENGINES[engine](data, shapes), reference, f"{engine}: asserted graph")


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match, f"{path}: no line matches {pattern!r}; the mutation test needs updating"
    path.write_text(text[:match.start()] + match.expand(replacement) + text[match.end():],
                    encoding="utf-8")


#: (file, pattern, replacement, shape expected to fire, its constraint component).
MUTATIONS = {
    "description-with-escapes-and-a-language-tag": (
        "triples/sections/abstract.ttl", r'ekg:recipientDescription "[^"]*" ;',
        'ekg:recipientDescription """a "quoted" \\\\\\\\ back\\nslash"""@EN-gb ;',
        "ekg:FindingShape", "sh:DatatypeConstraintComponent"),
    "year-as-xsd-long": (
        "triples/entities/references.ttl", r"^    ekg:year (\d{4}) ;",
        r'    ekg:year "\1"^^<http://www.w3.org/2001/XMLSchema#long> ;',
        "ekg:ReferenceShape", "sh:DatatypeConstraintComponent"),
    "malformed-chebi-iri": (
        "triples/entities/drugs.ttl", r"<http://purl\.obolibrary\.org/obo/CHEBI_27899>",
        "<http://purl.obolibrary.org/obo/CHEBI_27899x>", "ekg:DrugShape",
        "sh:PatternConstraintComponent"),
}


@pytest.mark.slow  # every engine over a mutated copy of the whole review graph
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_broken_example_is_rejected_identically_by_every_engine(name: str,
                                                                  data_copy: Path) -> None:
    file, pattern, replacement, rule, component = MUTATIONS[name]
    _edit(data_copy / file, pattern, replacement)
    layout = paths.layout(data_copy)
    dataset = load_dataset(data_copy)
    inferred = infer(dataset, rules_dir=layout.rules_dir)
    reports = {engine: validate_dataset(dataset, inferred, shapes_dir=layout.shapes_dir,
                                        checks_dir=layout.checks_dir, data_root=data_copy,
                                        engine=engine)
               for engine in SHAPE_ENGINES}
    for engine, report in reports.items():
        assert not report.conforms, f"{engine} accepts the broken {file}"
        hits = [r for r in report.violations
                if (r.rule, r.component, r.file) == (rule, component, file)]
        assert len(hits) == 1, f"{engine}: expected one {rule} {component}:\n{report.as_text()}"
    for engine in ENGINES:
        _assert_same_report(reports[engine], reports["pyshacl"], f"{engine}: {name}")


# --- what the mapping decides --------------------------------------------------------------


def test_every_shape_that_reports_has_exactly_one_message(shapes: Graph) -> None:
    """Messages are the one field the engines cannot agree on without ``sh:message`` (pyshacl
    and rudof write their own text): every property shape, and every node shape with a
    constraint of its own, carries exactly one, so the reports are equal in full."""
    structural = {RDF.type, RDFS.label, SH.property, SH.targetClass, SH.targetNode,
                  SH.targetSubjectsOf, SH.targetObjectsOf, SH.message, SH.severity, SH.path,
                  SH.name, SH.description, SH.deactivated}
    reporting = set(shapes.objects(None, SH.property)) | {
        s for s in shapes.subjects(RDF.type, SH.NodeShape)
        if set(shapes.predicates(s)) - structural}
    wrong = sorted(f"{s.n3(shapes.namespace_manager)}: {len(set(shapes.objects(s, SH.message)))}"
                   for s in reporting if len(set(shapes.objects(s, SH.message))) != 1)
    assert not wrong, ("give each shape exactly one sh:message (what to fix, and where):\n  "
                       + "\n  ".join(wrong))


@pytest.mark.parametrize("engine", list(ENGINES))
def test_without_a_message_only_the_message_text_differs(engine: str) -> None:
    """The documented rule: no ``sh:message``, the engine's own text (rudof's, or
    "<component> not satisfied"), where pyshacl writes its own; every other field stays
    pyshacl's."""
    shapes = Graph().parse(data="""
        PREFIX ex: <http://example.org/>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:property [ sh:path ex:p ; sh:minCount 1 ] .""", format="turtle")
    data = Graph().parse(data="<http://example.org/a> a <http://example.org/C> .",
                         format="turtle")
    (mapped,), (reference,) = ENGINES[engine](data, shapes), run_shapes(data, shapes)
    assert mapped.message and mapped.message != reference.message
    if engine == "sparql":
        assert mapped.message == "MinCountConstraintComponent not satisfied"
    assert mapped.message == str(dict(mapped.rdf)[SH.resultMessage])
    unworded = {(p, o) for p, o in mapped.rdf if p != SH.resultMessage}
    assert unworded == {(p, o) for p, o in reference.rdf if p != SH.resultMessage}
    assert (mapped.severity, mapped.rule, mapped.focus, mapped.path, mapped.component) == (
        reference.severity, reference.rule, reference.focus, reference.path,
        reference.component)


def test_rudof_range_gap_on_derived_integers_is_corrected() -> None:
    """rudof 0.3.35 fails "2020"^^xsd:long against sh:minInclusive 1800 (SHACL compares the
    numbers; pyshacl passes it): the mapping drops those results. When the first assertion
    fails, rudof compares them itself: remove ``_within_range`` from exomirkg.validate."""
    shapes = Graph().parse(data="""
        PREFIX ex: <http://example.org/>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:property [ sh:path ex:year ; sh:minInclusive 1800 ; sh:maxInclusive 2100 ;
                          sh:message "a year" ] .""", format="turtle")
    data = Graph().parse(data="""
        PREFIX ex: <http://example.org/>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        ex:a a ex:C ; ex:year "2020"^^xsd:long , "1700"^^xsd:short , "MMXX" .""",
        format="turtle")
    engine = pyrudof.Rudof(pyrudof.RudofConfig())
    engine.read_shacl(shapes.serialize(format="nt"), format=pyrudof.ShaclFormat.NTriples)
    engine.read_data(data.serialize(format="nt"), format=pyrudof.RDFFormat.NTriples)
    raw = {(r.value, r.constraint_component.rsplit("#")[-1])
           for r in engine.validate_shacl().violations}
    assert ("2020", "MinInclusiveConstraintComponent") in raw, raw
    mapped = run_shapes_rudof(data, shapes)
    _assert_same(mapped, run_shapes(data, shapes), "derived integers")
    # Out of range, or not a number: still reported.
    assert {r.value for r in mapped} == {'"1700"^^xsd:short', '"MMXX"'}


def test_a_result_rudof_repeats_is_reported_once(monkeypatch: pytest.MonkeyPatch,
                                                 shapes: Graph) -> None:
    data = _fixture_graph(FIXTURES / "invalid" / "reference-year-as-string.ttl")
    reference = run_shapes_rudof(data, shapes)
    assert len(reference) == 3

    real = pyrudof.Rudof

    class Repeating:
        """rudof, giving each of its results twice (its class cannot be subclassed)."""

        def __init__(self, config: pyrudof.RudofConfig) -> None:
            self.engine = real(config)

        def __getattr__(self, name: str) -> object:
            return getattr(self.engine, name)

        def validate_shacl(self) -> SimpleNamespace:
            report = self.engine.validate_shacl()
            return SimpleNamespace(violations=[e for e in report.violations for _ in (1, 2)])

    monkeypatch.setattr(pyrudof, "Rudof", Repeating)
    _assert_same(run_shapes_rudof(data, shapes), reference, "repeated results")


def test_validation_falls_back_to_pyshacl_when_rudof_cannot_read_the_data(
    min_count_shape: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """rdflib reads and writes an IRI with a malformed %-escape, rudof's strict reader refuses
    it: pyshacl validates, with a warning, rather than rudof skipping the triple."""
    shapes_dir, checks_dir = min_count_shape
    dataset = Dataset(default_union=True)
    graph = dataset.graph(section_graph("fallback"))
    graph.add((URIRef("http://example.org/%zz"), RDF.type, URIRef("http://example.org/C")))
    graph.add((URIRef("http://example.org/ok"), RDF.type, URIRef("http://example.org/C")))
    graph.add((URIRef("http://example.org/ok"), URIRef("http://example.org/p"), Literal(1)))
    with pytest.raises(pyrudof.RudofError):
        run_shapes_rudof(asserted_graph(dataset), load_shapes(shapes_dir))
    with caplog.at_level(logging.WARNING, logger="exomirkg.validate"):
        report = validate_dataset(dataset, shapes_dir=shapes_dir, checks_dir=checks_dir,
                                  engine="rudof")
    assert "falling back to pyshacl" in caplog.text
    assert [(r.focus, r.message) for r in report.results] == [
        ("<http://example.org/%zz>", "needs ex:p")]


def test_the_files_statements_as_text_give_the_graphs_report() -> None:
    """The build hands rudof the files' statements as N-Triples text (no rdflib graph of
    them); the values it reports are matched back along every kind of path (inverse,
    sequence, alternative, zero-or-more) to the same terms as through an rdflib graph, and
    the report is pyshacl's."""
    shapes = Graph().parse(data=TRICKY_SHAPES + """
ex:S2 a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path [ sh:alternativePath ( ex:p ex:q ) ] ; sh:datatype xsd:string ;
                  sh:message "a string" ] ,
        [ sh:path ( [ sh:zeroOrMorePath ex:s ] ex:t ) ; sh:datatype xsd:string ;
          sh:message "strings below" ] .
""", format="turtle")
    text = pyoxigraph.serialize(pyoxigraph.parse(TRICKY_DATA.encode(),
                                                 format=pyoxigraph.RdfFormat.TURTLE),
                                format=pyoxigraph.RdfFormat.N_TRIPLES)
    # The same statements in rdflib, blank-node labels kept.
    graph = Graph()
    for quad in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES):
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    from_text = run_shapes_rudof(_Statements(text=text), shapes)
    assert len([r for r in from_text if r.message == "a string"]) == 13
    assert len([r for r in from_text if r.message == "strings below"]) == 1
    _assert_same(from_text, run_shapes_rudof(graph, shapes), "statements as text")
    _assert_same(from_text, run_shapes(graph, shapes), "statements as text, pyshacl")
    # As the build hands them over: one text per graph, a blank node's label shared by both.
    lines = text.splitlines(keepends=True)
    parts = [b"".join(lines[0::2]), b"".join(lines[1::2])]
    labels = [set(re.findall(rb"_:\w+", part)) for part in parts]
    assert labels[0] & labels[1], "a blank node must span the two texts"
    _assert_same(run_shapes_rudof(_Statements(text=parts), shapes), from_text, "two texts")
    assert set(shacl_sparql.shapes_store(parts)) == set(shacl_sparql.shapes_store(text))


# --- the SPARQL engine ---------------------------------------------------------------------

#: Literal-level constraints of every kind the shapes use, on plain, alternative and inverse
#: paths, with node-level logic (sh:or of a pattern and a nested property shape) as in
#: validation/shapes/ontology-term.shacl.ttl.
LITERAL_SHAPES = r"""
PREFIX ex: <http://example.org/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:year ; sh:datatype xsd:integer ; sh:minInclusive 1800 ;
                  sh:maxInclusive 2100 ; sh:maxCount 1 ; sh:message "a year" ] ,
        [ sh:path ex:n ; sh:datatype xsd:long ; sh:message "a long" ] ,
        [ sh:path ex:flag ; sh:datatype xsd:boolean ; sh:hasValue true ; sh:message "true" ] ,
        [ sh:path [ sh:alternativePath ( ex:doi ex:id ) ] ; sh:datatype xsd:string ;
          sh:pattern "^10[.][0-9]{4}/" ; sh:minLength 9 ; sh:message "a DOI" ] ,
        [ sh:path ex:label ; sh:datatype rdf:langString ; sh:uniqueLang true ; sh:minCount 1 ;
          sh:message "one label per language" ] ,
        [ sh:path ex:code ; sh:in ( "A" "b"@en 7 ex:x ) ; sh:message "a code" ] ,
        [ sh:path [ sh:inversePath ex:cites ] ; sh:class ex:C ; sh:message "cited by a C" ] ;
    sh:or ( [ sh:not [ sh:pattern "^http://example[.]org/keep" ] ]
            [ sh:property [ sh:path ex:label ; sh:minCount 2 ; sh:uniqueLang true ;
                            sh:datatype rdf:langString ] ] ) ;
    sh:message "a kept node has two labels in two languages" .
"""
LITERAL_DATA = r"""
PREFIX ex: <http://example.org/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
ex:a a ex:C ; ex:year "MMXX"^^xsd:integer , "2019"^^xsd:long ; ex:n "2019"^^xsd:long ;
    ex:flag "true"^^xsd:boolean ; ex:doi "10.1234/x" , "10.12/short" , "10.1234/a\"b\\c\nd" ;
    ex:id "10.1234/tagged"@en ;
    ex:label "A"@EN-gb , "a"@en-GB , "b"@en , "c"@de ;
    ex:code "A" , "b"@EN , 7 , "07"^^xsd:integer , ex:x .
ex:keep_b a ex:C ; ex:year "0042"^^xsd:integer ; ex:n "x"^^xsd:long ;
    ex:flag "maybe"^^xsd:boolean ; ex:label "only"@en ; ex:code "A"@en .
ex:keep_c a ex:C ; ex:year 1999 ; ex:flag true ; ex:label "one"@en , "zwei"@de .
ex:z ex:cites ex:a , ex:keep_c .
[] a ex:C ; ex:label "blank"@en ; ex:flag false .
"""


@pytest.fixture
def unnormalised_rdflib(monkeypatch: pytest.MonkeyPatch) -> None:
    """rdflib keeping each literal's lexical form as written (by default its parser turns
    ``"01"^^xsd:integer`` into ``"1"``): pyshacl then sees the files' own literals."""
    import rdflib

    monkeypatch.setattr(rdflib, "NORMALIZE_LITERALS", False)


def _graph_of(text: bytes) -> Graph:
    """N-Triples text as an rdflib graph with the text's blank-node labels (rdflib's own
    N-Triples parser renames them)."""
    graph = Graph()
    for quad in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES):
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return graph


def test_sparql_engine_checks_literals_as_the_files_write_them(
    tmp_path: Path, unnormalised_rdflib: None
) -> None:
    """The build's path: the files' N-Triples text, as read_ntriples writes it. Ill-typed
    literals, xsd:long, leading zeros, language tags in odd case (the reader writes them in
    lower case) and escapes give pyshacl's report on the same statements, and the values
    shown are the files' own (``"0042"``, not rdflib's ``"42"``)."""
    source = tmp_path / "literals.ttl"
    source.write_text(LITERAL_DATA, encoding="utf-8")
    text = read_ntriples(source)
    assert b'"0042"^^<http://www.w3.org/2001/XMLSchema#integer>' in text
    shapes = Graph().parse(data=LITERAL_SHAPES, format="turtle")
    ours = run_shapes_sparql(text, shapes)
    _assert_same(ours, run_shapes(_graph_of(text), shapes), "literals as written")
    ex = "<http://example.org/{}>".format
    shown = {(r.focus, r.path, r.component.removeprefix("sh:"), r.value) for r in ours}
    dois = f"{ex('doi')}|{ex('id')}"
    blank = next(r.focus for r in ours if r.focus.startswith("_:"))
    assert shown == {
        (ex("a"), ex("year"), "DatatypeConstraintComponent", '"MMXX"^^xsd:integer'),
        (ex("a"), ex("year"), "DatatypeConstraintComponent", '"2019"^^xsd:long'),
        (ex("a"), ex("year"), "MinInclusiveConstraintComponent", '"MMXX"^^xsd:integer'),
        (ex("a"), ex("year"), "MaxInclusiveConstraintComponent", '"MMXX"^^xsd:integer'),
        (ex("a"), ex("year"), "MaxCountConstraintComponent", ""),
        (ex("keep_b"), ex("year"), "MinInclusiveConstraintComponent", '"0042"^^xsd:integer'),
        (ex("keep_b"), ex("n"), "DatatypeConstraintComponent", '"x"^^xsd:long'),
        (ex("keep_b"), ex("flag"), "DatatypeConstraintComponent", '"maybe"^^xsd:boolean'),
        (ex("keep_b"), ex("flag"), "HasValueConstraintComponent", ""),
        (blank, ex("flag"), "HasValueConstraintComponent", ""),
        (ex("a"), dois, "PatternConstraintComponent", '"10.12/short"'),
        (ex("a"), dois, "DatatypeConstraintComponent", '"10.1234/tagged"@en'),
        (ex("a"), ex("label"), "UniqueLangConstraintComponent", ""),
        (ex("a"), ex("code"), "InConstraintComponent", '"07"^^xsd:integer'),
        (ex("keep_b"), ex("code"), "InConstraintComponent", '"A"@en'),
        (ex("a"), f"^{ex('cites')}", "ClassConstraintComponent", ex("z")),
        (ex("keep_c"), f"^{ex('cites')}", "ClassConstraintComponent", ex("z")),
        (ex("keep_b"), "", "OrConstraintComponent", ""),
    }, sorted(shown)


def test_the_build_validates_the_files_statements_with_the_sparql_engine(
    tmp_path: Path, unnormalised_rdflib: None
) -> None:
    """ShapesRun (the build's shapes step, in its thread) on Sources as the build reads them:
    the same results as the engine on the text, and graph/inferred is not validated."""
    source = tmp_path / "literals.ttl"
    source.write_text(LITERAL_DATA, encoding="utf-8")
    text = read_ntriples(source)
    shapes_dir = tmp_path / "shapes"
    shapes_dir.mkdir()
    (shapes_dir / "literals.ttl").write_text(LITERAL_SHAPES, encoding="utf-8")
    # A reasoner's triple that would break ex:S if the shapes saw it.
    inferred = b'<http://example.org/keep_c> <http://example.org/year> "1" .\n'
    sources = Sources({section_graph("literals"): text, GRAPH_INFERRED: inferred})
    run = ShapesRun(sources, shapes_dir=shapes_dir)
    assert run.engine == "sparql"
    store = sources.load_into(pyoxigraph.Store())
    locate = _Locator(store, sources.graphs, tmp_path)
    results = run.results(locate)
    _assert_same(results, run_shapes_sparql(text, run.shapes, locate), "ShapesRun")
    assert "ex:keep_c" not in {r.focus for r in results}
    assert run.seconds > 0


@pytest.mark.parametrize("constraint", [
    "sh:closed true", "sh:languageIn ( \"en\" )", "sh:equals ex:q", "sh:lessThan ex:q",
    "sh:target [ a sh:SPARQLTarget ; sh:select \"SELECT ?this WHERE { ?this ?p ?o }\" ]",
    "sh:pattern \"^a(?=b)\"",
])
def test_sparql_engine_refuses_a_constraint_it_does_not_compile(constraint: str) -> None:
    shapes = Graph().parse(data=f"""
        PREFIX ex: <http://example.org/>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; {constraint} ;
            sh:message "m" .""", format="turtle")
    data = Graph().parse(data="<http://example.org/a> a <http://example.org/C> .",
                         format="turtle")
    name = constraint.split()[0]
    with pytest.raises(DataFileError, match=f"SPARQL SHACL engine does not support {name}"):
        run_shapes_sparql(data, shapes)


def _synthetic_asserted(n_triples: int) -> Graph:
    return asserted_graph(benchmark("synthetic").generate(n_triples, seed=1))


@pytest.fixture(scope="module")
def synthetic_graph() -> Graph:
    return _synthetic_asserted(8000)


def _inject(data: Graph) -> None:
    """Break the synthetic graph in the ways curation goes wrong, a few nodes each."""
    findings = sorted(set(data.subjects(RDF.type, EKG.Finding)))
    references = sorted(set(data.subjects(RDF.type, EKG.Reference)))
    drugs = sorted(set(data.subjects(RDF.type, EKG.Drug)))
    rng = random.Random(5)
    data.remove((findings[0], EKG.hasEffect, None))
    data.add((findings[1], EKG.hasMiRNA, drugs[0]))
    data.add((findings[2], EKG.hasEffect, EKG.no_such_effect))
    data.add((findings[3], EKG.quote, Literal("short")))
    data.add((findings[4], EKG.supportingReference, BNode("dangling")))
    data.set((references[0], EKG.year, Literal("MMXX", datatype=XSD.integer)))
    data.set((references[1], EKG.year, Literal("2019", datatype=XSD.long)))
    data.set((references[2], EKG.year, Literal(1700)))
    data.add((references[3], EKG.doi, Literal("not a doi")))
    data.set((references[4], EKG.retracted, Literal(True)))
    data.add((rng.choice(drugs[5:]), RDFS.label, Literal("second", lang="EN")))
    data.remove((drugs[2], RDFS.label, None))
    data.add((drugs[3], RDFS.label, Literal("plain, no language")))


@pytest.mark.slow  # pyshacl over an 8,000-triple graph, twice
@pytest.mark.parametrize("broken", [False, True], ids=["conforming", "violations-injected"])
def test_sparql_report_is_pyshacls_on_the_synthetic_graph(synthetic_graph: Graph, broken: bool,
                                                          shapes: Graph) -> None:
    data = Graph()
    for triple in synthetic_graph:
        data.add(triple)
    if broken:
        _inject(data)
    reference = run_shapes(data, shapes)
    violations = [r for r in reference if r.severity == "Violation"]
    assert bool(violations) is broken, _render(reference)
    if broken:
        assert len({(r.rule, r.component) for r in violations}) >= 10, _render(violations)
    _assert_same(run_shapes_sparql(data, shapes), reference, "synthetic graph")


def test_sparql_pattern_end_anchor_is_sparqls_not_pythons() -> None:
    """The one documented difference from pyshacl: Python's ``$`` also matches before a final
    newline, SPARQL's REGEX does not, so a value that ends in a newline passes pyshacl's
    pattern check and fails this engine's (as the SHACL and SPARQL specifications say)."""
    shapes = Graph().parse(data=r"""
        PREFIX ex: <http://example.org/>
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:property [ sh:path ex:doi ; sh:pattern "^10[.][0-9]+/[^\\s]+$" ;
                          sh:message "a DOI" ] .""", format="turtle")
    data = Graph().parse(data=r"""
        PREFIX ex: <http://example.org/>
        ex:a a ex:C ; ex:doi "10.1/x\n" , "10.1/y" .""", format="turtle")
    assert run_shapes(data, shapes) == []
    assert [r.value for r in run_shapes_sparql(data, shapes)] == ['"10.1/x\n"']
