"""SELECT answers written by pyoxigraph's writers (``bulkresults.write_whole``) and the framed
pipe to a query process: the same rows as the store, cut exactly at the cap, in every format."""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import pyoxigraph
import pytest

from exomirkg.build import TRIG_FILE
from exomirkg.sparql import bulkresults, engine
from exomirkg.sparql.bulkresults import _iris_only, json_from_tsv
from exomirkg.sparql.engine import Job, evaluate
from exomirkg.sparql.results import UNCAPPED, _write_python

FORMATS = {"application/sparql-results+json": pyoxigraph.QueryResultsFormat.JSON,
           "application/sparql-results+xml": pyoxigraph.QueryResultsFormat.XML,
           "text/tab-separated-values": pyoxigraph.QueryResultsFormat.TSV}
#: Answers that are hard to count from the written bytes: empty solutions, literals holding
#: the JSON separator ``},{`` and quotes, no variable at all, no row, triple terms, many rows.
QUERIES = {
    "awkward": 'SELECT ?x ?y WHERE { VALUES (?x ?y) { (1 UNDEF) (UNDEF UNDEF) '
               '("a}},{\\"b"@en <http://x/y>) (2 3) (UNDEF UNDEF) ("},{" "}},{") } }',
    "no variable": "SELECT * {}",
    "no row": "SELECT ?x { FILTER(false) }",
    "separators in literals": 'SELECT ?x WHERE { VALUES ?x { "},{" "},{" "},{" "a" "b" "c" } }',
    "literals ending as a separator": 'SELECT ?x ?y WHERE { VALUES (?x ?y) { ("}},{" "}},{"@en) '
                                      '("a}},{"^^<http://x/t> UNDEF) } }',
    "triple terms": "SELECT ?t WHERE { VALUES ?i { 1 2 3 } "
                    "BIND(<<( <http://a> <http://b> ?i )>> AS ?t) }",
    "many rows": "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) } "
                 "ORDER BY ?s ?p ?o LIMIT 300",
}


def _rows(solutions) -> list[list[str | None]]:
    return [[None if term is None else str(term) for term in row] for row in solutions]


@pytest.mark.parametrize("cap", [1, 2, 5, 64, 100, UNCAPPED])
@pytest.mark.parametrize("media", FORMATS)
@pytest.mark.parametrize("name", QUERIES)
def test_answers_are_the_store_s_cut_exactly_at_the_cap(store: pyoxigraph.Store, name: str,
                                                      media: str, cap: int) -> None:
    query = QUERIES[name]
    outcome = evaluate(store, Job(query=query, media=media, row_cap=cap, union=True), {})
    assert outcome.kind == "ok", outcome.message
    whole = _rows(store.query(query, use_default_graph_as_union=True))
    got = _rows(pyoxigraph.parse_query_results(outcome.body, format=FORMATS[media]))
    assert got == whole[:cap], f"{name} as {media}, cap {cap}: other rows than the store's"
    assert outcome.rows == len(whole[:cap]), "X-Exomirkg-Rows must count the rows sent"
    assert outcome.truncated == (len(whole) > cap)
    if outcome.truncated and media.endswith("json"):
        assert json.loads(outcome.body)["exomirkg:truncated"]["limit"] == cap
    if outcome.truncated and media.endswith("xml"):
        assert b"<!-- results truncated" in outcome.body


#: Characters that build TSV and JSON syntax, control characters TSV leaves as they are and
#: JSON escapes, and characters neither escapes.
_AWKWARD = ['}', '{', ',', '"', "\\", "a", ":", "]", "<", ">", "@", "^", "\t", "\n", "\r",
            "\x00", "\x01", "\x08", "\x0c", "\x1f", "\x7f", "é", "\u2028", "😀", "@en", '"@en\t"',
            '"\n"', ">\t<", "--ltr"]
#: Lexical forms TSV writes bare and others it quotes, by datatype.
_LEXICAL = {"integer": ["1", "-12", "+3", "1.0", "a", ""],
            "decimal": ["1.5", "-.5", "1.", "2"], "double": ["1e3", ".5E-2", "1.5", "x"],
            "boolean": ["true", "false", "1", "TRUE"], "string": ["s", ""]}


def _random_term(rng: random.Random, kind: str) -> dict:
    text = "".join(rng.choice(_AWKWARD) for _ in range(rng.randint(0, 5)))
    if kind == "uri":
        return {"type": "uri", "value": rng.choice(["http://x/", "https://w3id.org/é/", "urn:a:"])
                + str(rng.randint(0, 9)) + rng.choice(["", "#f", "?q=1&r=%20"])}
    if kind == "bnode":
        return {"type": "bnode", "value": f"b{rng.randint(0, 9)}"}
    if kind == "lang":
        term = {"type": "literal", "value": text, "xml:lang": rng.choice(["en", "en-gb", "pt"])}
        if rng.random() < 0.2:
            term["its:dir"] = rng.choice(["ltr", "rtl"])
        return term
    if kind == "typed":
        datatype = rng.choice([*_LEXICAL, "http://x/type"])
        value = rng.choice(_LEXICAL.get(datatype, [text]))
        return {"type": "literal", "value": value,
                "datatype": datatype if ":" in datatype else _XSD + datatype}
    if kind == "triple":
        return {"type": "triple", "value": {"subject": {"type": "uri", "value": "http://a"},
                                            "predicate": {"type": "uri", "value": "http://b"},
                                            "object": {"type": "literal", "value": text}}}
    return {"type": "literal", "value": text}


def test_json_from_tsv_is_pyoxigraph_s_json_byte_for_byte() -> None:
    """Seeded random answers (columns of one kind of term or of several, unbound cells,
    awkward characters, triple terms), read by pyoxigraph: their TSV rewritten is the JSON
    pyoxigraph's own writer writes, byte for byte."""
    rng = random.Random(29)
    kinds = ["uri", "bnode", "lang", "typed", "plain", "triple"]
    for _ in range(1500):
        names = rng.sample(["x", "y", "z1", "é"], rng.randint(0, 4))
        column_kinds = {name: rng.choice(kinds[:-1] if rng.random() < 0.95 else kinds)
                        for name in names}
        mixed = rng.random() < 0.3
        unbound = rng.choice([0, 0, 0.2, 0.6])
        bindings = []
        for _ in range(rng.randint(0, 7)):
            bindings.append({name: _random_term(rng, rng.choice(kinds[:-1]) if mixed
                                                else column_kinds[name])
                             for name in names if rng.random() >= unbound})
        document = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}})

        def parsed(document: str = document) -> pyoxigraph.QuerySolutions:
            return pyoxigraph.parse_query_results(document.encode(),
                                                  format=pyoxigraph.QueryResultsFormat.JSON)
        theirs = parsed().serialize(format=pyoxigraph.QueryResultsFormat.JSON)
        tsv = parsed().serialize(format=pyoxigraph.QueryResultsFormat.TSV)
        assert json_from_tsv(tsv) == theirs, document


def test_the_terms_json_kept_between_answers_is_bounded_and_right(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Terms written once are looked up in later answers, under each variable's own lead;
    past the bound the table is emptied, and every answer is still pyoxigraph's JSON."""
    monkeypatch.setattr(bulkresults, "_TERMS", {})
    monkeypatch.setattr(bulkresults, "_kept", 0)
    monkeypatch.setattr(bulkresults, "_TERMS_KEPT", 40)
    store = pyoxigraph.Store()
    for i in range(60):
        store.add(pyoxigraph.Quad(pyoxigraph.NamedNode(f"http://x/s{i}"),
                                  pyoxigraph.NamedNode("http://x/p"),
                                  pyoxigraph.Literal(f"v{i % 7}", language="en")))
    queries = ["SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s",
               "SELECT ?o ?s WHERE { ?s ?p ?o } ORDER BY ?s",
               'SELECT ?s ?o ?n WHERE { ?s ?p ?o OPTIONAL { ?s ?p "v1"@en BIND(1 AS ?n) } } '
               "ORDER BY ?s"]
    for _ in range(3):
        for query in queries:
            theirs = store.query(query).serialize(format=pyoxigraph.QueryResultsFormat.JSON)
            ours = json_from_tsv(store.query(query).serialize(
                format=pyoxigraph.QueryResultsFormat.TSV))
            assert ours == theirs
            # Past the bound, an answer's terms are kept for that answer only.
            assert sum(len(table) - 1 for table in bulkresults._TERMS.values()) <= 40
    # Below the bound, a literal under two leads has an entry in each variable's table.
    monkeypatch.setattr(bulkresults, "_TERMS", {})
    monkeypatch.setattr(bulkresults, "_TERMS_KEPT", 1000)
    for query in queries[:2]:
        json_from_tsv(store.query(query).serialize(format=pyoxigraph.QueryResultsFormat.TSV))
    term = b'{"type":"literal","value":"v1","xml:lang":"en"}'
    assert bulkresults._TERMS[b',"o":'][b'"v1"@en'] == b',"o":' + term
    assert bulkresults._TERMS[b'"o":'][b'"v1"@en'] == b'"o":' + term


@pytest.mark.parametrize(("body", "rows", "width", "iris"), [
    (b"<a>\t<b>\n<c>\t<d>\n", 2, 2, True),
    (b"<a>\n", 1, 1, True),
    (b"<a>\t\n<c>\t<d>\n", 2, 2, False),                  # an unbound cell
    (b'<a>\t"<b>"\n', 1, 2, False),                        # a literal holding an IRI's form
    (b'<a>\t"x>\\t<y"\n', 1, 2, False),                    # ... and an escaped tab
    (b"<a>\t<<( <s> <p> <o> )>>\n", 1, 2, False),         # a triple term
    (b"<a>\t12\n", 1, 2, False),                           # a bare integer
    (b"<a>\t_:b\n", 1, 2, False),                          # a blank node
    (b'<a"b>\n', 1, 1, False),                             # an IRI a lenient load let in
    (b"<a\x01b>\n", 1, 1, False),
])
def test_an_answer_of_iris_is_told_from_one_that_only_looks_so(body: bytes, rows: int,
                                                               width: int, iris: bool) -> None:
    assert _iris_only(body, rows, width) is iris


def test_json_from_tsv_escapes_an_iri_a_lenient_load_let_in() -> None:
    """A quote, a control character or a carriage return in an IRI (which a lenient load
    takes; the server's loads are strict) is escaped, as pyoxigraph's writer escapes it; an
    IRI holding a tab, which breaks the TSV's lines, is refused, not written wrong."""
    store = pyoxigraph.Store()
    store.load(b'<http://a"b> <http://p> <http://o> .\n<http://c\x01\rd> <http://p> "x" .\n'
               b'<http://e> <http://p> "y"@en .', format=pyoxigraph.RdfFormat.N_TRIPLES,
               lenient=True)
    for query in ["SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s",
                  "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"]:
        theirs = store.query(query).serialize(format=pyoxigraph.QueryResultsFormat.JSON)
        assert b'a\\"b' in theirs and b"c\\u0001\\rd" in theirs
        assert json_from_tsv(store.query(query).serialize(
            format=pyoxigraph.QueryResultsFormat.TSV)) == theirs
    store.load(b"<http://f\tg> <http://p> <http://o> .", format=pyoxigraph.RdfFormat.N_TRIPLES,
               lenient=True)
    tsv = store.query("SELECT ?s ?o WHERE { ?s ?p ?o }").serialize(
        format=pyoxigraph.QueryResultsFormat.TSV)
    with pytest.raises(ValueError, match="holds a tab"):
        json_from_tsv(tsv)


def test_a_frame_larger_than_the_pipe_arrives_whole() -> None:
    read, write = os.pipe()
    body = os.urandom(3 * 2**20)  # past the 1 MiB answer pipe: several reads

    def send() -> None:
        engine._write_frame(write, b"meta", body)
        os.close(write)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert engine._read_frame(read) == (b"meta", body)
        with pytest.raises(EOFError):  # the writer's end is closed: the process ended
            engine._read_frame(read)
    finally:
        sender.join(10)
        os.close(read)


@pytest.mark.parametrize("size", [0, 100, 65536 - 12, 65536, 200_000])
def test_a_frame_arrives_whole_at_every_size(size: int) -> None:
    """Bodies that fit the first read and bodies read on into their own buffer alike."""
    read, write = os.pipe()
    engine._widen(write)
    body = os.urandom(size)
    try:
        engine._write_frame(write, b"meta", body)
        meta, got = engine._read_frame(read)
        assert (meta, len(got)) == (b"meta", size)
        assert got == body, "the body must arrive byte for byte"
    finally:
        os.close(write)
        os.close(read)


def test_polling_waits_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runnable count is read from /proc/loadavg (never a million), and polling is on
    while the runnable tasks, the two sides of the hop among them, fit the CPUs."""
    monkeypatch.setattr(engine, "_CPUS", 10**6)
    assert engine._cpu_to_spare(), "/proc/loadavg could not be read"
    for cpus, running, spare in [(2, 1, True), (2, 2, True), (2, 3, False), (1, 2, False),
                                 (8, 8, True), (8, 9, False)]:
        monkeypatch.setattr(engine, "_CPUS", cpus)
        monkeypatch.setattr(engine.os, "pread",
                            lambda fd, size, at, n=running: f"0.5 0.4 0.3 {n}/321 4567\n".encode())
        assert engine._cpu_to_spare() is spare, (cpus, running)


#: Every query in every format, but a triple term in CSV: pyoxigraph writes one holding a
#: comma as an unquoted field, which RFC 4180 forbids; ours quotes it.
_BYTE_CASES = [(name, media) for name in QUERIES for media in [*FORMATS, "text/csv"]
               if (name, media) != ("triple terms", "text/csv")]
#: Lexical forms on both sides of Turtle's short forms, which TSV writes bare, and strings
#: each format must escape.
_XSD = "http://www.w3.org/2001/XMLSchema#"
_FORMS = {"integer": ["1", "+1", "-1", "01", "1.0", " 1", "", "a"],
          "decimal": ["1.0", ".5", "1.", "+.5", "-1.5", "1", "1e3", "0.50"],
          "double": ["1e3", "1.5E-3", ".5e1", "1.e2", "1.0", "INF", "NaN", "1", "+1E+2",
                     "-.5e-1", "1.5e"],
          "boolean": ["true", "false", "1", "0", "TRUE"], "float": ["1.0", "1e3"],
          # White space at the ends (XML keeps it as references), CSV's special characters.
          "string": [" a ", "\ta", "a\n", "  ", "a b", "x,y", 'q"q', "", "\r\n"]}


@pytest.mark.parametrize(("name", "media"), _BYTE_CASES)
def test_the_python_writer_writes_pyoxigraph_s_bytes(store: pyoxigraph.Store, name: str,
                                                      media: str) -> None:
    """Rows written one by one in Python (the external engine's answers, capped JSON) are
    byte-identical to pyoxigraph's writer, so both engines answer alike."""
    fmt = FORMATS.get(media, pyoxigraph.QueryResultsFormat.CSV)
    answer = store.query(QUERIES[name], use_default_graph_as_union=True)
    names = [v.value for v in answer.variables]
    theirs = store.query(QUERIES[name], use_default_graph_as_union=True).serialize(format=fmt)
    assert _write_python(names, iter(answer), media, UNCAPPED).body == theirs


@pytest.mark.parametrize("media", [*FORMATS, "text/csv"])
def test_literals_are_written_as_pyoxigraph_writes_them(media: str) -> None:
    # Parsed results keep lexical forms a store would make canonical.
    bindings = [{"x": {"type": "literal", "value": value, "datatype": _XSD + datatype}}
                for datatype, values in _FORMS.items() for value in values]
    document = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": bindings}})
    fmt = FORMATS.get(media, pyoxigraph.QueryResultsFormat.CSV)

    def parsed() -> pyoxigraph.QuerySolutions:
        return pyoxigraph.parse_query_results(document.encode(),
                                              format=pyoxigraph.QueryResultsFormat.JSON)
    theirs = parsed().serialize(format=fmt)
    assert _write_python(["x"], iter(parsed()), media, UNCAPPED).body == theirs
    if media == "text/tab-separated-values":
        assert b"\n1e3\n" in theirs and b'\n"1."^^<' in theirs  # the test sees both forms


def test_a_query_process_loads_its_store_in_a_thread_of_its_own(
        build_dir: Path, store: pyoxigraph.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Off the main thread, where queries are evaluated (a malloc arena of its own), with
    every quad, and a failed load still fails the caller."""
    loaders: list[threading.Thread] = []
    real = engine._open_store

    def spy(source: engine.StoreSource) -> pyoxigraph.Store:
        loaders.append(threading.current_thread())
        return real(source)

    monkeypatch.setattr(engine, "_open_store", spy)
    loaded = engine._open_store_apart(engine.StoreSource(trig=build_dir / TRIG_FILE))
    assert loaders and loaders[0] is not threading.main_thread()
    assert len(loaded) == len(store)
    with pytest.raises(OSError):
        engine._open_store_apart(engine.StoreSource(trig=build_dir / "missing.trig"))
