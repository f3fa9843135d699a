"""The app's graph state when ``BACKEND`` names an external engine (``sparql+http://...``)."""

from __future__ import annotations

import logging
from typing import Any

from exomirkg.backends.sparql_http import BackendUnavailable, SparqlHttpEngine, SparqlHttpStore
from exomirkg.namespaces import PREFIXES
from exomirkg.settings import DEFAULTS
from exomirkg.sparql.state import GraphState

__all__ = ["check_backend", "engine_problem", "external_state", "init_external"]

log = logging.getLogger(__name__)


def _graphs(info: dict[str, Any]) -> list[str] | None:
    graphs = info.get("graphs")
    return sorted(graphs) if graphs else None


def check_backend(backend: str, timeout: float = 10.0) -> int:
    """Ask the engine for its triple count (for a clear error before a server starts).

    :raises BackendUnavailable: with a sentence saying what to fix.
    :raises ValueError: when ``backend`` is not ``sparql+http(s)://HOST:PORT/PATH``.
    """
    return SparqlHttpStore(backend, timeout=timeout).check()


def external_state(config: Any, info: dict[str, Any]) -> Any:
    """Build the app's :class:`~exomirkg.sparql.state.GraphState` over an external engine.

    The dataset's graph names come from the build info when there is one, so engines that
    keep system graphs in their default graph (Virtuoso) answer over our graphs only. An
    engine that does not answer at start is logged as an error, and every request then gets
    a 503 with the reason until it comes up.

    :param config: the app config (``BACKEND``, ``QUERY_TIMEOUT``, ``QUERY_WORKERS``).
    :param info: the build info (may be empty).
    """
    timeout = float(config.get("QUERY_TIMEOUT", DEFAULTS["QUERY_TIMEOUT"]))
    store = SparqlHttpStore(str(config["BACKEND"]), graphs=_graphs(info), timeout=timeout)
    workers = config.get("QUERY_WORKERS", DEFAULTS["QUERY_WORKERS"])
    engine = SparqlHttpEngine(store, size=int(workers), timeout=timeout,
                              prefixes=PREFIXES)
    triples = 0
    try:
        triples = store.check()
    except BackendUnavailable as error:
        log.error("external SPARQL engine unavailable at start: %s", error)
    names = list(store.graphs) if store.graphs is not None else []
    return GraphState(store=store, info=info, engine=engine, graph_names=names,
                      triples=triples)


def engine_problem(state: Any) -> str | None:
    """Why the external engine cannot serve right now (``None`` when it answers ``ASK {}``).

    Used by ``/health``, which must not report "ok" from the counts cached at start while
    the engine is down. When the engine was down at start its triple count is taken now.

    :param state: the app's :class:`~exomirkg.sparql.state.GraphState` over an external engine.
    """
    try:
        state.store.ping()
        if not state.triples:
            state.triples = state.store.check()
    except BackendUnavailable as error:
        log.error("health check: %s", error)
        return str(error)
    return None


def init_external(app: Any, info: dict[str, Any]) -> None:
    """Serve ``app`` from the engine named by ``BACKEND`` (called by ``init_state``)."""
    # Its errors (BackendUnavailable, EngineTimeout) are answered by the app's one set of
    # handlers (exomirkg.web.helpers.install): 503 with a sentence and Retry-After.
    app.extensions["exomirkg"] = external_state(app.config, info)
