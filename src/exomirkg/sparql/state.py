"""What an app serves: the store, its build info and the engine that runs queries (no Flask)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exomirkg.sparql.answers import AnswerCache
from exomirkg.sparql.engine import QueryRunner

__all__ = ["GraphState"]


@dataclass
class GraphState:
    """The store (for in-process reads such as /health and pages), the build info, the pool."""

    #: A pyoxigraph Store, or the external backend's store with the same read API.
    store: Any
    info: dict[str, Any] = field(default_factory=dict)
    engine: QueryRunner | None = None
    #: Names of the named graphs, computed once (Service Description, VoID, dataset checks).
    graph_names: list[str] = field(default_factory=list)
    triples: int = 0
    #: Answer lookups on ``store`` in the web process (embedded store and INPROCESS_LOOKUPS).
    inprocess_lookups: bool = False
    #: The app's one cache of things computed on first use from the read-only store (VoID
    #: statistics, page data, downloads); the web layer reaches it through
    #: ``exomirkg.web.helpers.cached``.
    cache: dict[str, Any] = field(default_factory=dict)
    #: Complete answers by job (embedded store and ANSWER_CACHE; ``sparql/answers.py``).
    answers: AnswerCache | None = None
