"""Read a query's form and risky keywords before evaluation, without evaluating it.

pyoxigraph has no Python API to parse a query without running it, and ``Store.query``
sends SERVICE requests over HTTP. A small lexer that skips comments, strings, IRIs,
variables and prefixed names finds the bare keywords that matter. It errs on the side of
refusing: a bare ``SERVICE`` anywhere is refused even where the parser would reject it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["QueryShape", "inspect_query"]

#: SPARQL 1.1 Update operations; none is a keyword of the query language.
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
#: Queries up to this length have their shape cached (clients repeat the same queries; a
#: bound on length keeps the cache's memory small whatever clients send).
CACHED_QUERY_CHARS = 4096
#: The four query forms.
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$]\w+)
    | (?P<pname>(?:[^\W\d][\w.\-]*)?:(?:[\w.:%\-]|\\.)*)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


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


def _unescape(text: str) -> str:
    """Apply SPARQL's \\u / \\U code point escapes, as the parser does before lexing."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(replace, text)


def inspect_query(text: str) -> QueryShape:
    """Lex ``text`` and report its form and risky keywords.

    >>> inspect_query("PREFIX s: <http://x/service> SELECT * { ?service s:p 'SERVICE' }")
    QueryShape(form='SELECT', is_update=False, has_service=False, has_dataset_clause=False)
    >>> inspect_query("SELECT * { \\\\u0053ERVICE <http://x/> { ?s ?p ?o } }").has_service
    True
    """
    if len(text) <= CACHED_QUERY_CHARS:
        return _inspect_cached(text)
    return _inspect(text)


@lru_cache(maxsize=1024)
def _inspect_cached(text: str) -> QueryShape:
    return _inspect(text)


def _inspect(text: str) -> QueryShape:
    words = [m.group("word").upper() for m in _TOKEN.finditer(_unescape(text))
             if m.lastgroup == "word"]
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
    )
