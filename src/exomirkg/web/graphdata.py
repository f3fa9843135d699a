"""Run the pages' SPARQL files (server/pages/*.rq) against the app's store."""

from __future__ import annotations

from functools import cache
from typing import Any

import pyoxigraph

from exomirkg import paths
from exomirkg.namespaces import BASE
from exomirkg.queries import NamedQuery, load_queries
from exomirkg.store import Row, plain, select_rows
from exomirkg.web.helpers import cached
from exomirkg.web.search import GENERIC, Document, SearchIndex, group_of
from exomirkg.web.state import get_state

__all__ = ["counts", "entity_iri", "example_queries", "page_query", "quote_input",
           "search_index", "select"]

@cache
def _query_text(name: str) -> str:
    return (paths.PAGE_QUERIES_DIR / f"{name}.rq").read_text(encoding="utf-8")


def page_query(name: str) -> str:
    """The text of ``server/pages/<name>.rq``."""
    return _query_text(name)


def select(name: str, store: pyoxigraph.Store | None = None, **bindings: Any) -> list[Row]:
    """Run the page query ``server/pages/<name>.rq`` over the union graph, variables bound.

    :param name: the file name without ``.rq``.
    :param bindings: variable name -> pyoxigraph term, e.g. ``entity=NamedNode(...)``.
    :returns: one dict per solution.
    """
    return select_rows(store or get_state().store, _query_text(name), bindings)


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
