"""Run the pages' SPARQL files (server/pages/*.rq) against the app's store."""

from __future__ import annotations

from functools import cache
from typing import Any

import pyoxigraph

from exomirkg import paths
from exomirkg.namespaces import BASE
from exomirkg.queries import NamedQuery, load_queries
from exomirkg.web.helpers import cached
from exomirkg.web.search import GENERIC, Document, SearchIndex, group_of
from exomirkg.web.state import get_state

__all__ = ["Row", "counts", "entity_iri", "example_queries", "local_name", "page_query", "plain",
           "quote_input", "search_index", "select"]

#: A solution as a dict of variable name -> term (absent variables are left out).
Row = dict[str, Any]


@cache
def _query_text(name: str) -> str:
    return (paths.PAGE_QUERIES_DIR / f"{name}.rq").read_text(encoding="utf-8")


def page_query(name: str) -> str:
    """The text of ``server/pages/<name>.rq``."""
    return _query_text(name)


def select(name: str, store: pyoxigraph.Store | None = None, **bindings: Any) -> list[Row]:
    """Run a page query over the union graph with variables bound (SEP-0007 substitution).

    :param name: the file name without ``.rq``.
    :param bindings: variable name -> pyoxigraph term, e.g. ``entity=NamedNode(...)``.
    :returns: one dict per solution.
    """
    store = store or get_state().store
    substitutions = {pyoxigraph.Variable(k): v for k, v in bindings.items()}
    result = store.query(_query_text(name), use_default_graph_as_union=True,
                         substitutions=substitutions or None)
    names = [v.value for v in result.variables]
    rows = []
    for solution in result:
        row = {}
        for var in names:
            term = solution[var]
            if term is not None:
                row[var] = term
        rows.append(row)
    return rows


def counts() -> dict[str, int]:
    """Live counts for the landing page (findings, miRNAs, drugs, ...), once per app."""
    return cached("counts", lambda: {key: plain(value)
                                     for key, value in select("counts")[0].items()})


def _make_search_index() -> SearchIndex:
    fields: dict[str, dict[str, list[str]]] = {}
    for row in select("search-index"):
        texts = fields.setdefault(plain(row["entity"]), {})
        texts.setdefault(plain(row["field"]), []).append(plain(row["text"]))
    classes: dict[str, list[str]] = {}
    badges: dict[str, list[str]] = {}
    for row in select("search-kinds"):
        entity, label = plain(row["entity"]), plain(row.get("classLabel"))
        classes.setdefault(entity, []).append(plain(row["class"]))
        # An engine may type the 0/1 flag as xsd:int, which plain() leaves a string.
        asserted = str(plain(row["asserted"])) == "1"
        if label and asserted and plain(row["class"]) not in GENERIC:
            badges.setdefault(entity, []).append(label)
    documents = []
    for iri, found in fields.items():
        group = group_of(classes.get(iri, ()))
        # The badge is an asserted class, the most specific one people would say: "taxane"
        # over "drug", "retracted reference" over "reference" (the longest label, as our
        # subclasses qualify their superclass's name); else the group's name.
        badge = max(badges.get(iri, ()), key=lambda text: (len(text), text), default=group)
        documents.append(Document(
            iri=iri, label=min(found["label"]), kind=badge, group=group,
            synonyms=tuple(found.get("synonym", ())), ids=tuple(found.get("id", ())),
            texts=tuple(found.get("text", ()))))
    return SearchIndex(documents)


def search_index() -> SearchIndex:
    """The search index over every label, synonym, identifier and quote, built on first use."""
    return cached("search", _make_search_index)


def example_queries() -> dict[str, NamedQuery]:
    """The competency queries of server/queries/, read once per app."""
    directory = paths.QUERIES_DIR
    return cached("queries", lambda: load_queries(directory) if directory.is_dir() else {})


def plain(term: Any) -> Any:
    """A term's Python value: str for IRIs and strings, int/bool for typed literals."""
    if term is None:
        return None
    if isinstance(term, pyoxigraph.Literal):
        datatype = term.datatype.value
        if datatype.endswith("#integer"):
            return int(term.value)
        if datatype.endswith("#boolean"):
            return term.value in {"true", "1"}
        return term.value
    return term.value


def entity_iri(local: str) -> pyoxigraph.NamedNode:
    """The IRI a local name of our namespace stands for.

    :raises ValueError: ``local`` cannot be part of an IRI (a space, a quote, ``<>``, a
        control character, ...); views answer 404, as no IRI of ours looks like that.
    """
    return pyoxigraph.NamedNode(BASE + local)


def quote_input(text: str, limit: int = 80) -> str:
    """Request input as an error message may quote it: short, control characters replaced.

    Escaping for HTML is still the template's job; this keeps a 10 kB path or a CRLF out of
    a plain-text body.

    >>> quote_input("a\\r\\nb"), quote_input("x" * 100, limit=3)
    ('a\ufffd\ufffdb', 'xxx…')
    """
    short = text if len(text) <= limit else text[:limit] + "…"
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in short)


def local_name(iri: str) -> str | None:
    """The path of an IRI of our namespace, or None for external IRIs."""
    return iri[len(BASE):] if iri.startswith(BASE) else None
