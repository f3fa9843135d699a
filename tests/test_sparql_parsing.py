"""rdflib's SPARQL parser on a thread of its own (``exomirkg.sparql.parsing``): a parse
keeps nothing of its caller alive, fails as it did, and works from threads and forks."""

from __future__ import annotations

import gc
import os
import signal
import threading
import weakref
from collections.abc import Callable, Iterator

import pytest
from rdflib.plugins.sparql.parser import parseQuery

from exomirkg import check_focus, reason
from exomirkg.sparql import guard
from exomirkg.sparql.guard import QueryRefused
from exomirkg.sparql.parsing import QuerySyntaxError, parse_query, parsed

_COUNTER = iter(range(10**9))


def _new(text: str) -> str:
    """The text made new, so that no cache answers it (every call parses)."""
    return f"{text} # {next(_COUNTER)}"


class _Held:
    """What a caller holds (a store, a build's text) while it parses."""


@pytest.fixture
def no_collector() -> Iterator[None]:
    """Only reference counts free objects: what a cycle holds stays."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _caller(parse: Callable[[str], object], text: str) -> weakref.ref:
    held = _Held()
    try:
        parse(text)
    except (QueryRefused, QuerySyntaxError, RecursionError):
        pass
    return weakref.ref(held)


PARSES = {
    "query_algebra": check_focus.query_algebra,
    "rule_reads": reason.rule_reads,
    "guard": guard.verify,
}
TEXTS = {
    "read": "PREFIX ex: <http://example.org/> SELECT ?s (COUNT(*) AS ?n) WHERE { "
            "?s ex:p/ex:q* ?o OPTIONAL { ?o a ex:C } FILTER NOT EXISTS { ?s ex:r ?x } "
            "MINUS { ?s ex:t ?y } } GROUP BY ?s",
    "malformed": "SELECT WHERE { ?s ?p ?o ",
    "service": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
}


@pytest.mark.parametrize("text", sorted(TEXTS))
@pytest.mark.parametrize("parse", sorted(PARSES))
def test_a_parse_keeps_nothing_of_its_caller_alive(no_collector, parse: str, text: str) -> None:
    """pyparsing leaves the parse's frames in reference cycles, and a frame kept so keeps its
    callers' frames and their locals (a build's store and text): freed only when the
    collector runs, at some other point, in some other thread. On the parser thread, what
    the caller held goes when the caller returns, whether the parse succeeded or failed."""
    kept = _caller(PARSES[parse], _new(TEXTS[text]))
    assert kept() is None


def test_without_the_parser_thread_the_caller_would_be_kept(no_collector) -> None:
    """Not vacuous: rdflib's parser called in this thread keeps the caller's locals."""
    kept = _caller(parseQuery, _new(TEXTS["read"]))
    assert kept() is not None
    gc.collect()
    assert kept() is None


def test_failures_read_as_rdflib_words_them() -> None:
    text = _new(TEXTS["malformed"])
    with pytest.raises(Exception) as direct:  # noqa: PT011 - pyparsing's own type
        parseQuery(text)
    with pytest.raises(QuerySyntaxError) as threaded:
        parse_query(text)
    assert str(threaded.value) == str(direct.value)
    assert "Expected" in str(threaded.value)
    with pytest.raises(QueryRefused, match=r"^malformed query: Expected"):
        guard.verify(text)
    deep = "SELECT * WHERE " + "{ " * 400 + "?s ?p ?o" + " }" * 400
    with pytest.raises(RecursionError):
        parse_query(deep)


def test_running_out_of_memory_stays_a_memory_error() -> None:
    """A query process answers a MemoryError while parsing as the memory limit, not as a
    malformed query (``engine._verified_evaluate``)."""
    def exhausted(_text: str) -> None:
        raise MemoryError("no more")

    with pytest.raises(MemoryError, match="no more"):
        parsed(exhausted, "SELECT * {}")


def test_a_parse_within_a_parse_does_not_wait_on_itself() -> None:
    assert parsed(parse_query, "SELECT * { ?s ?p ?o }")[1].name == "SelectQuery"


def test_threads_parse_at_once_and_each_gets_its_own_tree() -> None:
    """rdflib's parser is not thread-safe; the parser thread takes one parse at a time."""
    results: dict[int, str] = {}

    def work(index: int) -> None:
        for step in range(5):
            text = f"SELECT ?v{index}_{step} WHERE {{ ?v{index}_{step} ?p ?o }}"
            tree = parse_query(text)
            results[index * 10 + step] = str(tree[1]["projection"][0]["var"])

    threads = [threading.Thread(target=work, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {index * 10 + step: f"v{index}_{step}"
                       for index in range(6) for step in range(5)}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_parses_on_a_thread_of_its_own() -> None:
    """A forked child has none of its parent's threads: it starts its own parser thread
    (waiting on the parent's would never end)."""
    parse_query(_new("SELECT * { ?s ?p ?o }"))  # the parent's thread is running
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        signal.alarm(30)  # a child waiting on its parent's thread would wait for ever
        try:
            tree = parse_query(_new("ASK { ?s ?p ?o }"))
            os.write(writer, tree[1].name.encode())
        finally:
            os._exit(0)
    os.close(writer)
    try:
        _pid, status = os.waitpid(child, 0)
        answer = os.read(reader, 100)
    finally:
        os.close(reader)
    assert os.waitstatus_to_exitcode(status) == 0
    assert answer == b"AskQuery"
