"""The guard's two views of a query: a linear lexer (fast refusals, depth) and a parser."""

from __future__ import annotations

import pytest

from exomirkg.backends.sparql_http import _is_select_distinct, bind_values
from exomirkg.sparql.guard import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    QueryRefused,
    check_bounds,
    inspect_query,
    lex,
    may_name_service,
    verify,
)

CANARY = "<http://127.0.0.1:9/sparql>"
#: Queries a lexer reads wrongly (``<'a>`` taken for an IRI hides what follows in a string).
DESYNC = [
    f"SELECT * WHERE {{ OPTIONAL {{ BIND('b' AS ?q) FILTER(?q<'a>') }} "
    f"SERVICE {CANARY} {{ ?x ?y ?z }} BIND('' AS ?e) }}",
    f"SELECT * WHERE {{ OPTIONAL {{ BIND('b' AS ?q) FILTER(?q<='a>') }} "
    f"SERVICE {CANARY} {{ ?x ?y ?z }} BIND('' AS ?e) }}",
    f"SELECT * WHERE {{ FILTER(?q<'''a>''') {{ SELECT * {{ SERVICE SILENT {CANARY} "
    "{ ?x ?y ?z } } } }",
]


@pytest.mark.parametrize("query", DESYNC)
def test_the_lexer_can_be_desynced_but_the_parser_refuses(query: str) -> None:
    assert not inspect_query(query).has_service, "the lexer alone misses it (why it is not "\
        "the decision)"
    with pytest.raises(QueryRefused) as refused:
        verify(query)
    assert refused.value.status == 403 and "SERVICE" in refused.value.message


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s ?p 'SERVICE' }",
    "PREFIX s: <http://x/> SELECT * WHERE { ?service s:service ?o }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3) }",
])
def test_service_in_data_positions_passes_the_parser(query: str) -> None:
    verify(query)


@pytest.mark.parametrize(("text", "may"), [
    ("SELECT * WHERE { ?s ?p ?o }", False),
    ("SELECT * WHERE { ?s <x:p> 'servic' }", False),
    ("SELECT * WHERE { sErViCe <x:> { } }", True),
    ("SELECT * WHERE { \\u0053ERVICE <x:> { } }", True),
    ("SELECT * WHERE { \\U00000053ERVICE <x:> { } }", True),
    ("SELECT ?service WHERE { }", True),  # a word in a data position: the parse decides
    *((query, True) for query in DESYNC),
])
def test_only_a_text_that_may_name_service_needs_the_parse(text: str, may: bool) -> None:
    assert may_name_service(text) is may


def test_unreadable_text_is_refused_with_the_parsers_message() -> None:
    with pytest.raises(QueryRefused) as refused:
        verify("SELEC * WHERE { ?s ?p ?o }")
    assert refused.value.status == 400 and refused.value.message.startswith("malformed query")


def test_bounds_are_checked_with_a_sentence() -> None:
    deep = "SELECT * WHERE " + "{" * (MAX_DEPTH + 1) + " ?s ?p ?o " + "}" * (MAX_DEPTH + 1)
    with pytest.raises(QueryRefused, match=f"the limit is {MAX_DEPTH}"):
        check_bounds(deep)
    ok = "SELECT * WHERE " + "{" * MAX_DEPTH + " ?s ?p ?o " + "}" * MAX_DEPTH
    assert check_bounds(ok).depth == MAX_DEPTH
    with pytest.raises(QueryRefused, match="query too long"):
        check_bounds("#" * (MAX_QUERY_CHARS + 1))


def test_brackets_inside_strings_iris_and_comments_do_not_count() -> None:
    query = "SELECT * WHERE { ?s ?p '{{{((([[[' . ?s <x:([> ?o # {{{{\n }"
    assert inspect_query(query).depth == 1


def test_lex_names_each_kind_once() -> None:
    kinds = [kind for kind, _, _ in lex('SELECT ?s { ?s a ex:C ; <x:p> "t" } # c')]
    assert kinds == ["word", "var", "other", "var", "word", "pname", "other", "iri", "string",
                     "other", "comment"]
    assert [kind for kind, _, _ in lex("'never closed\n?x")] == ["string", "var"]


def test_the_external_backend_reads_distinct_and_where_through_the_lexer() -> None:
    assert _is_select_distinct("PREFIX a: <x:> SELECT DISTINCT ?s WHERE { ?s ?p ?o }")
    assert not _is_select_distinct("SELECT ?s WHERE { { SELECT DISTINCT ?s { ?s ?p ?o } } }")
    bound = bind_values("SELECT ?l WHERE { ?d <p> ?l }", {"d": "http://x/"})
    assert bound.startswith("SELECT ?l WHERE { VALUES (?d)")


@pytest.mark.parametrize("query", DESYNC)
def test_the_external_backend_refuses_desynced_service_before_sending(query: str) -> None:
    from exomirkg.backends.sparql_http import SparqlHttpEngine, SparqlHttpStore
    from exomirkg.sparql.engine import Job

    # Port 9 on loopback has no listener: a query sent would come back as unreachable.
    engine = SparqlHttpEngine(SparqlHttpStore("sparql+http://127.0.0.1:9/sparql"))
    outcome = engine.run(Job(query, "text/csv", 10, True))
    assert (outcome.kind, outcome.status) == ("refused", 403), outcome


def test_only_short_accepted_queries_are_remembered() -> None:
    """The verdict cache holds short texts only, so long queries cannot fill its memory."""
    from exomirkg.sparql.guard import CACHED_QUERY_CHARS, _verify_cached

    short = "SELECT * WHERE { ?s ?p 'remember me' }"
    long = "SELECT * WHERE { ?s ?p ?o } #" + "x" * CACHED_QUERY_CHARS
    before = _verify_cached.cache_info().currsize
    verify(long)
    assert _verify_cached.cache_info().currsize == before
    verify(short)
    assert _verify_cached.cache_info().currsize == before + 1
