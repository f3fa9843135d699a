"""Counts per class and per review section, for `exomirkg stats` and the counts test."""

from __future__ import annotations

import pyoxigraph

from exomirkg.namespaces import BASE, GRAPH

__all__ = ["class_counts", "section_counts"]

#: Entities the review names only in the title of a cited reference are declared (so the titles
#: stay searchable) but are not the review's entities, so they are not counted (issue 13).
_CLASS_COUNTS = f"""
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX ekg: <{BASE}>
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  ?s a ?class .
  FILTER(STRSTARTS(STR(?class), "{BASE}"))
  FILTER(STRSTARTS(STR(?s), "{BASE}"))
  FILTER NOT EXISTS {{ ?s ekg:mentionedOnlyInReferenceTitle true }}
}} GROUP BY ?class ORDER BY ?class
"""

_SECTION_COUNTS = f"""
PREFIX ekg: <{BASE}>
SELECT ?g (COUNT(DISTINCT ?f) AS ?n) WHERE {{
  GRAPH ?g {{ ?f a ekg:Finding }}
  FILTER(STRSTARTS(STR(?g), "{GRAPH}section/"))
}} GROUP BY ?g ORDER BY ?g
"""


def _counts(store: pyoxigraph.Store, query: str, strip: str) -> dict[str, int]:
    result = store.query(query, use_default_graph_as_union=True)
    return {row[0].value.removeprefix(strip): int(row[1].value) for row in result}


def class_counts(store: pyoxigraph.Store) -> dict[str, int]:
    """Distinct entities of each project class (asserted or inferred types), e.g. ``Drug``."""
    return _counts(store, _CLASS_COUNTS, BASE)


def section_counts(store: pyoxigraph.Store) -> dict[str, int]:
    """Findings per section graph, keyed ``2-2``, ``table-1``, ..."""
    return _counts(store, _SECTION_COUNTS, f"{GRAPH}section/")
