"""One-pattern lookups are answered in the web process; everything else in a query process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from helpers import fresh_app

from exomirkg.build import BuildResult
from exomirkg.sparql.guard import inspect_query, is_lookup

RDFS = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
EKG = "PREFIX ekg: <https://w3id.org/exomirkg/>\n"
LABEL_LOOKUP = RDFS + 'SELECT ?s WHERE { ?s rdfs:label "drug efflux"@en }'


@pytest.mark.parametrize("query", [
    LABEL_LOOKUP,
    RDFS + "SELECT DISTINCT ?s { ?s rdfs:label 'paclitaxel'@en . } LIMIT 5 OFFSET 0",
    "select * where { <https://w3id.org/exomirkg/paclitaxel> ?p ?o }",
    EKG + "ASK { ekg:paclitaxel a ekg:Drug }",
    EKG + "SELECT ?f { ?f ekg:concernsDrug ekg:paclitaxel }",
    "BASE <https://w3id.org/exomirkg/> SELECT ?p ?o { <paclitaxel> ?p ?o }",
    'SELECT ?s { ?s <http://x/n> "3"^^<http://www.w3.org/2001/XMLSchema#integer> }',
    "SELECT ?s ?p { ?s ?p 42 }",
], ids=["label", "distinct-limit-offset", "subject-fixed", "ask-typed", "object-fixed", "base",
        "typed-literal", "number"])
def test_one_pattern_with_a_fixed_subject_or_object_is_a_lookup(query: str) -> None:
    assert is_lookup(query)
    assert inspect_query(query).is_lookup


@pytest.mark.parametrize("query", [
    "SELECT * { ?s ?p ?o }",
    "SELECT ?s { ?s <http://x/p> ?o }",
    "SELECT * { ?a <x:p> <x:o> . ?b <x:p> <x:o> }",
    "SELECT * { ?a <x:p> <x:o> ; <x:q> ?c }",
    "SELECT * { ?a <x:p> <x:o> , <x:z> }",
    "SELECT * { <x:s> <x:p>* ?o }",
    "SELECT * { <x:s> <x:p>/<x:q> ?o }",
    "SELECT * { <x:s> ?p ?o FILTER(regex(str(?o), '(a*)*b')) }",
    "SELECT * { <x:s> ?p ?o OPTIONAL { ?o ?q ?r } }",
    "SELECT * { GRAPH ?g { <x:s> ?p ?o } }",
    "SELECT * FROM <http://x/g> { <x:s> ?p ?o }",
    "SELECT (COUNT(*) AS ?n) { <x:s> ?p ?o }",
    "SELECT * { <x:s> ?p ?o } ORDER BY ?o",
    "SELECT * { <x:s> ?p ?o } VALUES ?x { 1 2 }",
    "SELECT * { { SELECT * { ?a ?b ?c } } }",
    "SELECT * { <x:s> ?p ?o } # comment",
    "CONSTRUCT { ?s ?p ?o } WHERE { <x:s> ?p ?o }",
    "DESCRIBE <x:s>",
    "SELECT * { <x:s> ?p \"a\\u0022 . ?x ?y ?z . ?q ?r \\u0022\" }",
    "SELECT * { SERVICE <http://127.0.0.1:1/> { <x:s> ?p ?o } }",
    "INSERT DATA { <x:s> <x:p> <x:o> }",
], ids=["all-variables", "predicate-only", "two-patterns", "semicolon", "comma", "path-star",
        "path-sequence", "filter", "optional", "graph", "from", "aggregate", "order-by",
        "values", "subquery", "comment", "construct", "describe", "escaped-quote", "service",
        "update"])
def test_anything_else_is_not_a_lookup(query: str) -> None:
    assert not is_lookup(query)


@pytest.fixture
def spied_app(built: BuildResult, build_dir: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, list[str]]]:
    """An app whose query processes record each query they are sent."""
    with fresh_app(build_dir, QUERY_WORKERS=1) as app:
        engine = app.extensions["exomirkg"].engine
        sent: list[str] = []
        run = engine.run

        def recording_run(job, timeout=None, **limits):
            sent.append(job.query)
            return run(job, timeout=timeout, **limits)

        monkeypatch.setattr(engine, "run", recording_run)
        yield app, sent


def test_a_lookup_is_answered_without_a_query_process(
        spied_app: tuple[Flask, list[str]]) -> None:
    app, sent = spied_app
    response = app.test_client().get("/sparql", query_string={"query": LABEL_LOOKUP})
    assert response.status_code == 200
    subjects = sorted(b["s"]["value"] for b in response.get_json()["results"]["bindings"])
    # One subject: the GO process is "drug export from cell" (labels are unique).
    assert subjects == ["https://w3id.org/exomirkg/drug_efflux"]
    assert sent == []
    join = RDFS + 'SELECT ?s ?o { ?s rdfs:label "drug efflux"@en . ?s a ?o }'
    assert app.test_client().get("/sparql", query_string={"query": join}).status_code == 200
    assert sent == [join], "a join should go to a killable query process"


def test_lookups_honour_the_protocol_dataset_and_the_row_cap(make_app) -> None:
    client = make_app(ROW_CAP=2, QUERY_WORKERS=1).test_client()
    findings = EKG + "SELECT ?f { ?f a ekg:Finding }"
    assert inspect_query(findings).is_lookup
    capped = client.get("/sparql", query_string={"query": findings})
    assert capped.headers["X-Exomirkg-Truncated"] == "true; limit=2"
    assert len(capped.get_json()["results"]["bindings"]) == 2
    empty = client.get("/sparql", query_string={
        "query": LABEL_LOOKUP, "default-graph-uri": "https://w3id.org/exomirkg/graph/none"})
    assert empty.get_json()["results"]["bindings"] == []


@pytest.mark.parametrize("media", ["application/sparql-results+json",
                                   "application/sparql-results+xml", "text/csv",
                                   "text/tab-separated-values"])
def test_in_process_and_query_process_answers_are_byte_identical(make_app, media: str) -> None:
    bodies = []
    for inprocess in (True, False):
        app = make_app(QUERY_WORKERS=1, INPROCESS_LOOKUPS=inprocess)
        query = EKG + "SELECT ?p ?o { ekg:paclitaxel ?p ?o }"
        response = app.test_client().get("/sparql", query_string={"query": query},
                                         headers={"Accept": media})
        assert response.status_code == 200 and response.mimetype == media
        bodies.append(response.data)
    assert bodies[0] == bodies[1]
    assert b"paclitaxel" in bodies[0]


# -- the classifier against an independent parser (rdflib's) ----------------------------------

def _pattern_count(algebra) -> tuple[int, set[str]]:
    """Triples in the query's BGPs and the names of every algebra node above them."""
    from rdflib.plugins.sparql.parserutils import CompValue

    triples, names = 0, set()
    stack = [algebra]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            names.add(node.name)
            if node.name == "BGP":
                triples += len(node["triples"])
            stack.extend(v for k, v in node.items() if k != "triples")
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return triples, names


PROLOGUE = "BASE <http://x/base/> PREFIX ex: <http://x/> "
FORMS = ["SELECT ?s", "SELECT DISTINCT *", "select reduced ?s ?o", "ASK", "SELECT $s ?p"]
SUBJECTS = ["?s", "<http://x/a>", "ex:a", "<a>", "_:b"]
PREDICATES = ["a", "<http://x/p>", "?p", "ex:p"]
OBJECTS = ['"x"', "'x'@en-GB", '"1"^^<http://www.w3.org/2001/XMLSchema#integer>', "42",
           "?o", "ex:o", "true"]
MODIFIERS = ["", " LIMIT 3", " OFFSET 2 LIMIT 1"]
#: Text that turns a one-pattern query into something else, inserted before its closing brace.
INJECTIONS = [" . ?x ?y ?z", " ; <http://x/q> ?z", " , ?z", " FILTER(true)",
              " OPTIONAL { ?a ?b ?c }", " } UNION { ?a ?b ?c", " # }", " . GRAPH ?g { ?a ?b ?c }",
              " BIND(1 AS ?one)", " . ?s <http://x/p>* ?q"]


def _generated_queries() -> list[tuple[str, bool]]:
    """A fixed sample of one-pattern queries, with whether each fixes its subject or object."""
    import itertools
    import random

    combos = list(itertools.product(FORMS, ["WHERE ", ""], SUBJECTS, PREDICATES, OBJECTS,
                                    ["", " ."], MODIFIERS))
    sample = random.Random(6).sample(combos, 250)
    return [(f"{PROLOGUE}{form} {where}{{ {s} {p} {o}{dot} }}{modifier}",
             not (s[0] in "?$_" and o[0] in "?$"))
            for form, where, s, p, o, dot, modifier in sample]


def test_the_classifier_agrees_with_rdflibs_parser() -> None:
    from rdflib.plugins.sparql import prepareQuery

    allowed = {"SelectQuery", "AskQuery", "Project", "Distinct", "Reduced", "Slice", "BGP"}
    accepted = 0
    for query, fixed in _generated_queries():
        assert is_lookup(query) == fixed, query
        triples, names = _pattern_count(prepareQuery(query).algebra)
        assert triples == 1 and names <= allowed, (query, names)
        accepted += fixed
        for injection in INJECTIONS:
            cut = query.rindex("}")
            changed = query[:cut] + injection + " " + query[cut:]
            assert not is_lookup(changed), f"accepted as a lookup: {changed}"
    assert accepted > 150, "the sample should hold mostly lookups"
