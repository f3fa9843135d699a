"""Complete answers are kept and given again (sparql/answers.py): the same bytes and headers,
without asking a query process; volatile functions, failures and large answers are not kept,
and the bytes kept stay within the limit."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask

from exomirkg.sparql.answers import AnswerCache, keeps
from exomirkg.sparql.engine import Job, Outcome

JSON = {"Accept": "application/sparql-results+json"}
JOIN = ("SELECT ?f ?d WHERE { ?f a <https://w3id.org/exomirkg/Finding> ; "
        "<https://w3id.org/exomirkg/concernsDrug> ?d } ORDER BY ?f ?d")


def _counted(app: Flask) -> list[Job]:
    """The jobs the app's query processes are asked from now on."""
    engine = app.extensions["exomirkg"].engine
    asked: list[Job] = []
    run = engine.run

    def counting(job: Job, *args, **kwargs) -> Outcome:
        asked.append(job)
        return run(job, *args, **kwargs)

    engine.run = counting
    return asked


def _job(query: str, media: str = "application/sparql-results+json") -> Job:
    return Job(query=query, media=media, row_cap=0, union=True)


def test_an_answer_asked_again_is_the_same_and_asks_no_query_process(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(QUERY_WORKERS=1)
    asked = _counted(app)
    client = app.test_client()
    first = client.get("/sparql", query_string={"query": JOIN}, headers=JSON)
    second = client.get("/sparql", query_string={"query": JOIN}, headers=JSON)
    assert first.status_code == second.status_code == 200
    assert json.loads(first.data)["results"]["bindings"], "the query has answers"
    assert second.data == first.data
    assert second.headers["X-Exomirkg-Rows"] == first.headers["X-Exomirkg-Rows"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert len(asked) == 1
    # Another media type, or the same text by POST with another dataset: asked again.
    client.get("/sparql", query_string={"query": JOIN}, headers={"Accept": "text/csv"})
    client.post("/sparql", data={"query": JOIN, "default-graph-uri": "urn:x:none"},
                headers=JSON)
    assert len(asked) == 3
    client.post("/sparql", data={"query": JOIN}, headers=JSON)  # POST, same job: kept
    assert len(asked) == 3


def test_without_the_cache_every_request_is_evaluated(make_app: Callable[..., Flask]) -> None:
    app = make_app(QUERY_WORKERS=1, ANSWER_CACHE=0)
    asked = _counted(app)
    client = app.test_client()
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": JOIN}).status_code == 200
    assert len(asked) == 2
    assert json.loads(client.get("/health").data)["answer_cache_mb"] is None


def test_a_cut_answer_is_kept_with_its_truncation_headers(make_app: Callable[..., Flask]) -> None:
    app = make_app(QUERY_WORKERS=1, ROW_CAP=2)
    asked = _counted(app)
    client = app.test_client()
    answers = [client.get("/sparql", query_string={"query": JOIN}, headers=JSON)
               for _ in range(2)]
    assert len(asked) == 1
    for answer in answers:
        assert answer.headers["X-Exomirkg-Truncated"] == "true; limit=2"
        assert len(json.loads(answer.data)["results"]["bindings"]) == 2
    assert answers[1].data == answers[0].data


def test_volatile_functions_and_failures_are_asked_every_time(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(QUERY_WORKERS=1)
    asked = _counted(app)
    client = app.test_client()
    random = "SELECT (RAND() AS ?r) WHERE {}"
    values = {json.loads(client.get("/sparql", query_string={"query": random},
                                    headers=JSON).data)["results"]["bindings"][0]["r"]["value"]
              for _ in range(3)}
    assert len(asked) == 3 and len(values) == 3, values
    wrong = "SELECT ?x WHERE { ?x <http://example.org/p> ?y } GROUP BY ?y"  # ?x not grouped
    statuses = [client.get("/sparql", query_string={"query": wrong}).status_code
                for _ in range(2)]
    assert statuses == [400, 400]
    assert len(asked) == 5


def test_the_health_report_names_the_limit(client) -> None:
    assert json.loads(client.get("/health").data)["answer_cache_mb"] == 64


@pytest.mark.parametrize(("query", "kept"), [
    ("SELECT ?s WHERE { ?s a <x:C> }", True),
    ("SELECT (now() AS ?t) {}", False),
    ("SELECT (STRUUID () AS ?u) {}", False),
    ("SELECT (NOW # a comment between\n () AS ?t) {}", False),
    ("CONSTRUCT { ?s <x:p> ?b } WHERE { ?s a <x:C> BIND(bnode() AS ?b) }", False),
    ("SELECT ?s WHERE { ?s <x:p> '\\u0072and(' }", False),
    ("SELECT ?operand WHERE { ?operand a <x:C> }", True),  # "rand" inside a name
    ("SELECT ?now WHERE { ?now a <x:C> }", False),  # a variable so called: not kept
])
def test_which_texts_are_kept(query: str, kept: bool) -> None:
    assert keeps(query) is kept


def test_the_bytes_kept_stay_within_the_limit_least_recently_used_out() -> None:
    cache = AnswerCache(16 * 4096)
    body = b"x" * 3000  # under a sixteenth of the room, with the overhead
    jobs = [_job(f"ASK {{ <x:{i}> ?p ?o }}") for i in range(40)]
    for job in jobs[:10]:
        assert cache.put(job, Outcome("ok", body=body, rows=1))
    assert cache.get(jobs[0]) is not None  # now the most recently used
    for job in jobs[10:]:
        cache.put(job, Outcome("ok", body=body, rows=1))
        assert cache.used <= cache.limit
    assert cache.get(jobs[0]) is None and cache.get(jobs[1]) is None
    assert cache.get(jobs[-1]).body == body


def test_large_answers_and_failures_are_not_kept() -> None:
    cache = AnswerCache(16 * 4096)
    assert not cache.put(_job("ASK {}"), Outcome("ok", body=b"x" * 4096))
    assert not cache.put(_job("ASK {}"), Outcome("query", message="no"))
    assert cache.put(_job("ASK {}"), Outcome("ok", body=b"true"))
    assert cache.get(_job("ASK {}")).body == b"true"
    assert cache.get(_job("ASK {}", media="text/csv")) is None
