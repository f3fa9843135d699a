"""A deterministic, grammar-aware fuzzer over the served example queries.

Every case is an example query from server/queries/ mutated at the token level (tokens
deleted, duplicated, swapped; keywords, brackets, quotes, escapes and odd characters
inserted; the text cut short, nested in braces, wrapped in a sub-SELECT), and a share of
the cases carries a SERVICE call to a loopback canary, some behind the lexer/parser
desync forms. All cases go through one Flask test client. The endpoint must answer each
one, in time, with no 5xx other than a 503 that says when to retry, and must never call
the canary.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import fresh_app

from exomirkg import paths
from exomirkg.build import BuildResult

from .support import Canary, internals_shown

pytestmark = pytest.mark.slow

#: Fixed so that a failure names a case that reproduces on every run.
SEED = 1_000_003
CASES = 1500
QUERY_TIMEOUT = 3
#: A case taking longer than this did not get its answer: the endpoint hung.
ANSWER_LIMIT = QUERY_TIMEOUT + 10
#: One case in this many carries a SERVICE call to the canary.
SERVICE_SHARE = 6

QUERY_FILES = sorted((paths.SERVER_DIR / "queries").glob("*.rq"))

_TOKEN = re.compile(
    r"""
      \#[^\n]*
    | '''.*?'''|\"\"\".*?\"\"\"
    | '(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"
    | <[^<>\s{}"]*>
    | [?$]\w+
    | [A-Za-z_][\w.\-]*(?::[\w.\-:%]*)?|:[\w.\-]*
    | \d+(?:\.\d+)?
    | \^\^|&&|\|\||!=|<=|>=
    | \S
    """,
    re.VERBOSE | re.DOTALL,
)

KEYWORDS = ["SERVICE", "SILENT", "FILTER", "OPTIONAL", "GRAPH", "VALUES", "UNION", "MINUS",
            "BIND", "EXISTS", "NOT EXISTS", "SELECT", "SELECT *", "WHERE", "LIMIT 1", "OFFSET",
            "ORDER BY", "GROUP BY", "HAVING", "FROM", "FROM NAMED", "AS", "a", "DISTINCT",
            "INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "WITH", "BASE", "PREFIX", "DESCRIBE",
            "CONSTRUCT", "ASK", "UNDEF", "COUNT(*)", "REGEX", "STR", "IRI", "BNODE", "true"]
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ".", ";", ",", "*", "<", ">", "<=", "=", "!",
               "&&", "||", "^^", "@en", "|", "/", "^", "+", "?", "$", "_:", ":", "{}", "()"]
QUOTES = ["'", '"', "'''", '"""', "<", "#", "\\", "\\\\", "'\\", "\\u0053", "\\u00",
          "\\U0010FFFF", "\\U00110000", "\\uD800", "\\u0027", "\\u0022", "\\u003C",
          "\\u007B", "\\u0023", "'a>'", "<'a>", "\\t", "<>", "<#>", "<:>", "''", '""']
#: Code points that often break text handling: controls, NUL, combining marks, bidi and
#: zero-width marks, BOM, non-characters, astral planes, private use (no lone surrogates,
#: which cannot be sent as UTF-8 at all).
UNICODE = [0x00, 0x01, 0x08, 0x0B, 0x1B, 0x7F, 0x85, 0xA0, 0xAD, 0x300, 0x301, 0x36F,
           0x2028, 0x2029, 0x200B, 0x200D, 0x202E, 0x2066, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF,
           0x1F600, 0x1D11E, 0xE000, 0xF8FF, 0x10FFFF, 0x3042, 0x05D0, 0x0627, 0xE9]

#: Ways to reach the canary; the last four are the lexer/parser desync forms, where a
#: ``<`` after a variable and a quote look like an IRI and a string to a naive lexer.
SERVICE_SNIPPETS = [
    "SERVICE <{url}> {{ ?s ?p ?o }}",
    "SERVICE SILENT <{url}> {{ ?s ?p ?o }}",
    "service <{url}> {{ }}",
    "\\u0053ERVICE <{url}> {{ ?s ?p ?o }}",
    "{{ SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }}",
    "OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "OPTIONAL {{ BIND('b' AS ?q) FILTER(?q<'a>') }} SERVICE <{url}> {{ ?x ?y ?z }} "
    "BIND('' AS ?e)",
    "OPTIONAL {{ BIND('b' AS ?q) FILTER(?q<='a>') }} SERVICE SILENT <{url}> {{ }} "
    "BIND('' AS ?e)",
    'OPTIONAL {{ BIND("b" AS ?q) FILTER(?q<"a>") }} SERVICE <{url}> {{ ?x ?y ?z }} '
    'BIND("" AS ?e)',
    "OPTIONAL {{ BIND('b' AS ?q) FILTER(?q<'''a>''') }} {{ SELECT * WHERE {{ "
    "SERVICE SILENT <{url}> {{ ?x ?y ?z }} }} }} BIND('' AS ?e)",
]


@dataclass(frozen=True)
class Case:
    number: int
    source: str
    mutations: tuple[str, ...]
    transport: str
    query: str
    #: Raw bytes for a direct POST whose body is deliberately not valid UTF-8.
    raw: bytes | None = None
    service: bool = False


@dataclass(frozen=True)
class Outcome:
    case: Case
    status: int
    retry_after: str | None
    seconds: float
    body: bytes


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _join(tokens: list[str], rng: random.Random) -> str:
    # A comment runs to the end of its line, so a newline must follow one; otherwise a
    # newline now and then lets an inserted ``#`` hide only part of the query.
    parts: list[str] = []
    for token in tokens:
        parts.append(token)
        parts.append("\n" if token.startswith("#") or rng.random() < 0.1 else " ")
    return "".join(parts)


def _matching_close(tokens: list[str], start: int) -> int | None:
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index] == "{":
            depth += 1
        elif tokens[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _mutate(tokens: list[str], rng: random.Random) -> str:
    """Apply one token-level mutation in place; return its name."""
    position = rng.randrange(len(tokens) + 1)
    kind = rng.choice(["delete", "delete-run", "duplicate", "swap", "swap-near", "keyword",
                       "keyword", "punctuation", "quote", "quote", "unicode", "nest",
                       "sub-select", "replace", "char"])
    if kind in ("delete", "delete-run") and tokens:
        start = min(position, len(tokens) - 1)
        del tokens[start:start + (1 if kind == "delete" else rng.randint(2, 6))]
    elif kind == "duplicate" and tokens:
        index = min(position, len(tokens) - 1)
        tokens.insert(index, tokens[index])
    elif kind in ("swap", "swap-near") and len(tokens) > 1:
        first = rng.randrange(len(tokens))
        second = (min(first + 1, len(tokens) - 1) if kind == "swap-near"
                  else rng.randrange(len(tokens)))
        tokens[first], tokens[second] = tokens[second], tokens[first]
    elif kind == "keyword":
        tokens.insert(position, rng.choice(KEYWORDS))
    elif kind == "punctuation":
        tokens.insert(position, rng.choice(PUNCTUATION))
    elif kind == "quote":
        tokens.insert(position, rng.choice(QUOTES))
    elif kind == "unicode":
        text = "".join(chr(rng.choice(UNICODE)) for _ in range(rng.randint(1, 4)))
        tokens.insert(position, text if rng.random() < 0.5 else f"'{text}'")
    elif kind == "nest":
        opens = [i for i, t in enumerate(tokens) if t == "{"]
        if opens:
            start = rng.choice(opens)
            end = _matching_close(tokens, start)
            if end is not None:
                depth = rng.choice([1, 2, 5, 20, 60, 100])
                tokens[end + 1:end + 1] = ["}"] * depth
                tokens[start:start] = ["{"] * depth
    elif kind == "sub-select":
        where = next((i for i, t in enumerate(tokens) if t == "{"), None)
        end = _matching_close(tokens, where) if where is not None else None
        if where is not None and end is not None:
            tokens[end:end] = ["}", "}"]
            tokens[where + 1:where + 1] = ["{", "SELECT", "*", "WHERE", "{"]
    elif kind == "replace" and tokens:
        tokens[min(position, len(tokens) - 1)] = rng.choice(KEYWORDS + PUNCTUATION + QUOTES)
    elif kind == "char" and tokens:
        index = min(position, len(tokens) - 1)
        token = tokens[index]
        spot = rng.randrange(len(token) + 1)
        tokens[index] = token[:spot] + rng.choice("{}()<>'\"#\\?:.;,") + token[spot + 1:]
    return kind


def generate(url: str) -> list[Case]:
    """The fuzz corpus: the same cases on every run (a fixed seed)."""
    rng = random.Random(SEED)
    sources = [(path.name, _tokens(path.read_text(encoding="utf-8"))) for path in QUERY_FILES]
    cases: list[Case] = []
    for number in range(CASES):
        name, original = sources[number % len(sources)]
        tokens = list(original)
        service = number % SERVICE_SHARE == 0
        # A SERVICE case keeps the query mostly intact: a call the parser rejects tests
        # nothing about outbound requests.
        rounds = rng.choice([0, 0, 1] if service else [1, 1, 2, 3])
        mutations = [_mutate(tokens, rng) for _ in range(rounds)]
        if service:
            snippet = rng.choice(SERVICE_SNIPPETS).format(url=url)
            opens = [i for i, t in enumerate(tokens) if t == "{"]
            # Mostly just inside a group (where the parser accepts it and would run it),
            # sometimes anywhere at all.
            spot = (rng.choice(opens) + 1 if opens and rng.random() < 0.8
                    else rng.randrange(len(tokens) + 1))
            tokens.insert(spot, snippet)
            mutations.append("service")
        text = _join(tokens, rng)
        if rng.random() < 0.05:
            text = text[:rng.randrange(len(text) + 1)]
            mutations.append("truncate")
        transport = ("get", "form", "direct")[number % 3]
        raw = None
        if transport == "direct" and rng.random() < 0.1:
            data = bytearray(text.encode("utf-8"))
            spot = rng.randrange(len(data) + 1)
            data[spot:spot] = rng.choice([b"\xff", b"\xc0\x80", b"\xe2\x82", b"\xed\xa0\x80"])
            raw = bytes(data)
            mutations.append("bad-utf8")
        cases.append(Case(number, name, tuple(mutations), transport, text, raw, service))
    return cases


def _send(client, case: Case):
    if case.transport == "get":
        return client.get("/sparql", query_string={"query": case.query})
    if case.transport == "form":
        return client.post("/sparql", data={"query": case.query})
    body = case.raw if case.raw is not None else case.query.encode("utf-8")
    return client.post("/sparql", data=body, content_type="application/sparql-query")


@dataclass
class Run:
    outcomes: list[Outcome]
    seconds: float
    canary_hits: int
    canary_requests: list[str]


@pytest.fixture(scope="module")
def run(built: BuildResult, build_dir: Path, canary: Canary) -> Iterator[Run]:
    """Send every case once; the tests below judge the outcomes."""
    cases = generate(canary.url)
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with fresh_app(build_dir, QUERY_TIMEOUT=QUERY_TIMEOUT, QUERY_WORKERS=2) as app:
        client = app.test_client()
        for case in cases:
            begun = time.monotonic()
            response = _send(client, case)
            outcomes.append(Outcome(case, response.status_code,
                                    response.headers.get("Retry-After"),
                                    time.monotonic() - begun, response.get_data()))
    seconds = time.monotonic() - started
    counts = Counter(o.status for o in outcomes)
    slowest = max(outcomes, key=lambda o: o.seconds)
    # One line for people reading the run (pytest -s): the outcome of the whole corpus.
    print(f"\nfuzz: {len(outcomes)} cases in {seconds:.1f} s; status "
          + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
          + f"; slowest {slowest.seconds:.2f} s (case {slowest.case.number}); "
          f"canary hits: {canary.hits}")
    yield Run(outcomes, seconds, canary.hits, list(canary.requests))


def _describe(outcome: Outcome) -> str:
    case = outcome.case
    return (f"case {case.number} ({case.source}, {'+'.join(case.mutations)}, {case.transport})"
            f" -> {outcome.status} in {outcome.seconds:.2f} s: "
            f"{outcome.body[:160]!r}\n    query: {case.query[:300]!r}")


def _report(bad: list[Outcome], what: str) -> str:
    shown = "\n  ".join(_describe(o) for o in bad[:12])
    return f"{len(bad)} case(s) {what}:\n  {shown}"


def test_corpus_is_large_varied_and_reaches_the_evaluator(run: Run) -> None:
    cases = [o.case for o in run.outcomes]
    assert len(cases) >= 1000
    assert len({c.query for c in cases}) >= 0.95 * len(cases), "mutations repeat too often"
    assert {c.source for c in cases} == {p.name for p in QUERY_FILES}
    assert sum(c.service for c in cases) >= len(cases) // SERVICE_SHARE
    counts = Counter(o.status for o in run.outcomes)
    # A fuzzer whose every case is a syntax error only tests the parser's first line.
    assert counts[200] >= 0.05 * len(cases), f"too few mutants were valid queries: {counts}"
    assert counts[400] >= 0.3 * len(cases), f"too few mutants were refused as malformed: {counts}"


def test_no_server_error_except_a_503_that_says_when_to_retry(run: Run) -> None:
    bad = [o for o in run.outcomes
           if o.status >= 500 and not (o.status == 503 and o.retry_after)]
    assert not bad, _report(bad, "answered 5xx (other than 503 + Retry-After)")


def test_every_case_is_answered_in_time(run: Run) -> None:
    late = [o for o in run.outcomes if o.seconds >= ANSWER_LIMIT]
    assert not late, _report(late, f"took {ANSWER_LIMIT} s or more")


def test_answers_never_show_a_traceback(run: Run) -> None:
    leaking = [o for o in run.outcomes if internals_shown(o.body)]
    assert not leaking, _report(leaking, "showed Python internals")


def test_refusals_are_plain_sentences(run: Run) -> None:
    unreadable = []
    for outcome in run.outcomes:
        if 400 <= outcome.status < 500:
            text = outcome.body.decode("utf-8", "replace").strip()
            if len(text.split()) < 3:
                unreadable.append(outcome)
    assert not unreadable, _report(unreadable, "were refused without a sentence saying why")


def test_the_canary_is_never_called(run: Run) -> None:
    leaked = [o for o in run.outcomes if o.case.service and o.status == 200]
    assert run.canary_hits == 0, (
        f"the endpoint connected to the canary {run.canary_hits} time(s) "
        f"({run.canary_requests[:5]}); SERVICE cases answered 200: "
        + _report(leaked, "carried SERVICE and were answered 200"))
