"""Read a query's form and risky keywords before evaluation, without evaluating it.

pyoxigraph has no Python API to parse a query without running it, and ``Store.query``
sends SERVICE requests over HTTP. A small lexer that skips comments, strings, IRIs,
variables and prefixed names finds the bare keywords that matter. It errs on the side of
refusing: a bare ``SERVICE`` anywhere is refused even where the parser would reject it.

It also recognises *lookups*: a SELECT or ASK over one triple pattern with a fixed subject
or object (``SELECT ?s { ?s rdfs:label "paclitaxel"@en }``). Such a query is one index scan
over that node's triples, so it cannot run away, and the endpoint answers it without the
hop to a killable query process. The test is an allow-list over the whole text; anything
it does not match (comments, escapes, FILTER, paths, a second pattern...) is not a lookup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["MAX_DEPTH", "MAX_QUERY_CHARS", "QueryRefused", "QueryShape", "check_bounds",
           "inspect_query", "is_lookup", "lex", "may_name_service", "verify"]

#: SPARQL 1.1 Update operations; none is a keyword of the query language.
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
#: Queries up to this length have their shape cached (clients repeat the same queries; a
#: bound on length keeps the cache's memory small whatever clients send).
CACHED_QUERY_CHARS = 4096
#: The four query forms.
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})

_OPENERS = frozenset("{([")
_CLOSERS = frozenset("})]")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
#: Lexical pieces shared by the keyword lexer and the lookup allow-list.
_IRI = r"""<[^<>"{}|^`\\\x00-\x20]*>"""
_SHORT_STRING = r"'(?:[^'\\\n\r]|\\.)*'" + r'|"(?:[^"\\\n\r]|\\.)*"'
_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |""" + _SHORT_STRING + r""")
    # A string that never closes runs to the end of its line (or of the text, for a long
    # string): consuming it whole keeps the scan linear. Backing off one character and
    # trying again from each quote made a body of '\ pairs quadratic (100 kB: 43 s).
    | (?P<open_string>'''(?:[^'\\]|\\.|'(?!''))*|\"\"\"(?:[^"\\]|\\.|"(?!""))*
                 |'(?:[^'\\\n\r]|\\.)*|"(?:[^"\\\n\r]|\\.)*)
    | (?P<iri>""" + _IRI + r""")
    | (?P<var>[?$]\w+)
    # One greedy run then an optional ":local": nothing to back off into, so a long run of
    # name characters without a colon costs one pass, not one pass per character.
    | (?P<name>[^\W\d][\w.\-]*(?::(?:[\w.:%\-]|\\.)*)?|:(?:[\w.:%\-]|\\.)*)
    | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


_PN_PREFIX = r"(?:[A-Za-z][\w.\-]*)?:"
_PNAME = _PN_PREFIX + r"[\w.:%\-]*"
_NAME = rf"(?:{_IRI}|{_PNAME})"
_VAR = r"(?:[?$]\w+|_:\w+)"
_LITERAL = (rf"(?:{_SHORT_STRING})"
            rf"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^{_NAME})?|[+-]?\d+(?:\.\d+)?|true|false")
_LOOKUP = re.compile(
    rf"""\s*(?:(?:BASE\s*{_IRI}|PREFIX\s+{_PN_PREFIX}\s*{_IRI})\s*)*
    (?:SELECT\s*(?:(?:DISTINCT|REDUCED)\s+)?(?:\*|{_VAR}(?:\s*{_VAR})*)|ASK)\s*
    (?:WHERE\s*)?\{{\s*
    (?P<s>{_NAME}|{_VAR})\s+(?:{_NAME}|{_VAR}|a)\s+(?P<o>{_LITERAL}|{_NAME}|{_VAR})
    \s*\.?\s*\}}
    (?:\s*(?:LIMIT|OFFSET)\s+\d+){{0,2}}\s*""",
    re.VERBOSE | re.IGNORECASE,
)


def is_lookup(text: str) -> bool:
    """Whether ``text`` is a one-pattern SELECT/ASK with a fixed subject or object.

    >>> is_lookup('PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> '
    ...           'SELECT ?s WHERE { ?s rdfs:label "paclitaxel"@en }')
    True
    >>> is_lookup("SELECT * { ?s ?p ?o }"), is_lookup("SELECT * { ?a <x:p> ?b . ?c <x:p> ?d }")
    (False, False)
    """
    # Code point escapes are applied before parsing and could hide a quote; refuse them.
    if "\\u" in text or "\\U" in text:
        return False
    match = _LOOKUP.fullmatch(text)
    if match is None:
        return False
    return not (_is_variable(match.group("s")) and _is_variable(match.group("o")))


def _is_variable(term: str) -> bool:
    return term[0] in "?$" or term.startswith("_:")


@dataclass(frozen=True)
class QueryShape:
    """What the lexer saw: the form and the keywords that decide how we run the query."""

    #: SELECT, ASK, CONSTRUCT, DESCRIBE, or None when no form keyword was found.
    form: str | None
    #: An update operation (INSERT, LOAD, ...) appears as a bare keyword.
    is_update: bool
    #: A SERVICE clause appears (federated query: an outbound request).
    has_service: bool
    #: The query names its own dataset with FROM / FROM NAMED.
    has_dataset_clause: bool
    #: A one-pattern lookup that cannot run away (:func:`is_lookup`).
    is_lookup: bool = False
    #: The deepest nesting of ``{`` ``(`` ``[`` outside strings, IRIs and comments.
    depth: int = 0


def _unescape(text: str) -> str:
    """Apply SPARQL's \\u / \\U code point escapes, as the parser does before lexing."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(replace, text)


def inspect_query(text: str) -> QueryShape:
    """Lex ``text`` and report its form and risky keywords.

    >>> shape = inspect_query("PREFIX s: <http://x/service> SELECT * { ?service s:p 'SERVICE' }")
    >>> shape.form, shape.is_update, shape.has_service, shape.has_dataset_clause, shape.is_lookup
    ('SELECT', False, False, False, True)
    >>> inspect_query("SELECT * { \\\\u0053ERVICE <http://x/> { ?s ?p ?o } }").has_service
    True
    """
    if len(text) <= CACHED_QUERY_CHARS:
        return _inspect_cached(text)
    return _inspect(text)


@lru_cache(maxsize=1024)
def _inspect_cached(text: str) -> QueryShape:
    return _inspect(text)


def lex(text: str) -> Iterator[tuple[str, str, int]]:
    """The query's tokens as ``(kind, text, end offset)``, in one linear pass.

    Kinds: ``comment``, ``string`` (closed or not), ``iri``, ``var``, ``word`` (a bare
    keyword or name), ``pname`` (a prefixed name), ``other`` (one character). A lexer's
    view only: whether ``<`` opens an IRI needs a parser (:func:`verify`).

    >>> [kind for kind, _, _ in lex("SELECT ?s { ?s a ex:C }")]
    ['word', 'var', 'other', 'var', 'word', 'pname', 'other']
    """
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        token = match.group()
        if kind == "name":
            kind = "pname" if ":" in token else "word"
        elif kind == "open_string":
            kind = "string"
        yield kind, token, match.end()


def _inspect(text: str) -> QueryShape:
    words: list[str] = []
    depth = deepest = 0
    for kind, token, _ in lex(_unescape(text)):
        if kind == "word":
            words.append(token.upper())
        elif kind == "other":
            char = token
            if char in _OPENERS:
                depth += 1
                deepest = max(deepest, depth)
            elif char in _CLOSERS:
                depth -= 1
    form = None
    for word in words:
        if word in ("BASE", "PREFIX"):
            continue
        form = word if word in QUERY_FORMS else None
        break
    return QueryShape(
        form=form,
        is_update=any(word in UPDATE_KEYWORDS for word in words),
        has_service="SERVICE" in words,
        has_dataset_clause="FROM" in words,
        is_lookup=len(text) <= CACHED_QUERY_CHARS and is_lookup(text),
        depth=deepest,
    )


#: Longest query text accepted, in characters (longer: 400). Far above any real query; it
#: bounds the work of the checks below, which run before any time limit can apply.
MAX_QUERY_CHARS = 200_000
#: Deepest nesting of groups, brackets and parentheses accepted (deeper: 400). Real queries
#: stay under 20; the parsers recurse per level (pyoxigraph's crashed near 3,000).
MAX_DEPTH = 64
#: The sentence that refuses a federated query.
SERVICE_REFUSED = ("SERVICE (federated query) is disabled: this endpoint makes no requests to "
                   "other servers on a client's behalf; run the federated query from your own "
                   "client instead")


class QueryRefused(Exception):
    """The query is refused before evaluation; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_bounds(text: str, shape: QueryShape | None = None) -> QueryShape:
    """Refuse a query too long or too deeply nested to check safely; return its shape.

    Both checks are linear in the text (the lexer never backs off more than a token).

    :raises QueryRefused: 400 with a sentence saying which bound was passed.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(400, f"query too long: {len(text):,} characters; the limit is "
                                f"{MAX_QUERY_CHARS:,}")
    shape = shape or inspect_query(text)
    if shape.depth > MAX_DEPTH:
        raise QueryRefused(400, f"query nested too deeply: {shape.depth} levels of braces, "
                                f"brackets or parentheses; the limit is {MAX_DEPTH}")
    return shape


def may_name_service(text: str) -> bool:
    """Whether the keyword SERVICE can be written in ``text`` at all: the letters
    ``service`` in any case, or a codepoint escape (``\\u``, ``\\U``: SPARQL 1.1 lets a query
    use them anywhere, section 19.2; pyoxigraph does not resolve them in keywords, but an
    engine may). Keywords are ASCII and nothing splits one, so a text without either holds
    no SERVICE however it is read: no lexer is involved, nothing to desync.

    >>> may_name_service("SELECT * { ?s ?p ?o }"), may_name_service("... sErViCe <x:> {}")
    (False, True)
    """
    return "\\u" in text or "\\U" in text or "service" in text.lower()


def verify(text: str) -> None:
    """Parse ``text`` with a real SPARQL parser (rdflib's) and refuse federated queries.

    This is the decision the lexer above only anticipates: the lexer cannot know whether
    ``<`` opens an IRI or compares (``FILTER(?q<'a>')``), and once it guesses wrong a string
    can hide a SERVICE clause. A parser reads the whole grammar, so what it sees is what an
    engine evaluates; a query it cannot read is refused rather than trusted. It runs in the
    killable query process (time and memory limits apply) or, for an external engine, after
    :func:`check_bounds`. Verdicts on short texts are cached, as :func:`inspect_query`'s
    shapes are: clients repeat their queries, and the bound on length keeps the cache small
    whatever they send.

    >>> verify("SELECT * WHERE { FILTER(?q<'a>') SERVICE <http://x/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    exomirkg.sparql.guard.QueryRefused: SERVICE (federated query) is disabled: ...

    :raises QueryRefused: 403 for SERVICE, 400 for text the parser cannot read.
    """
    if len(text) <= CACHED_QUERY_CHARS:
        _verify_cached(text)
    else:
        _verify(text)


@lru_cache(maxsize=2048)
def _verify_cached(text: str) -> None:
    _verify(text)  # only an accepted text is cached: a refusal raises


def _verify(text: str) -> None:
    from exomirkg.sparql.parsing import parse_query

    try:
        tree = parse_query(text)
    except RecursionError:
        raise QueryRefused(400, "query nested too deeply to parse; the limit is "
                                f"{MAX_DEPTH} levels") from None
    except Exception as error:  # pyparsing's ParseException and the parse actions' errors
        raise QueryRefused(400, f"malformed query: {_first_line(error)}") from None
    if _has_service(tree):
        raise QueryRefused(403, SERVICE_REFUSED)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _has_service(tree: object) -> bool:
    """Whether a parse tree holds a SERVICE pattern anywhere (iteratively: trees are deep)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if getattr(node, "name", None) == "ServiceGraphPattern":
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            stack.extend(node)
    return False
