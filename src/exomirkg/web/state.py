"""The graph held by the app: a pyoxigraph store loaded once per process, and the query pool."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph
from flask import Flask, current_app

from exomirkg.backends import is_external
from exomirkg.build import BUILD_INFO, TRIG_FILE, build
from exomirkg.namespaces import PREFIXES
from exomirkg.web.engine import QueryEngine, StoreSource

__all__ = ["GraphState", "InvalidBuildError", "data_files", "get_state", "init_state"]

log = logging.getLogger(__name__)


class InvalidBuildError(RuntimeError):
    """The build failed validation (``"conforms": false``) and ALLOW_INVALID is off."""


@dataclass
class GraphState:
    """The store (for in-process reads such as /health and pages), the build info, the pool."""

    store: pyoxigraph.Store
    info: dict[str, Any] = field(default_factory=dict)
    engine: QueryEngine | None = None
    #: Names of the named graphs, computed once (Service Description, VoID, dataset checks).
    graph_names: list[str] = field(default_factory=list)
    triples: int = 0
    #: Answer lookups on ``store`` in the web process (embedded store and INPROCESS_LOOKUPS).
    inprocess_lookups: bool = False
    #: Descriptions computed on first use (VoID statistics, graph sizes).
    cache: dict[str, Any] = field(default_factory=dict)


def data_files(config: Any) -> tuple[Path, Path]:
    """The TriG file and build-info path the config points at (``DATA_FILE`` or ``BUILD_DIR``)."""
    if config.get("DATA_FILE"):
        trig = Path(config["DATA_FILE"])
        return trig, trig.with_name(BUILD_INFO)
    build_dir = Path(config["BUILD_DIR"])
    return build_dir / TRIG_FILE, build_dir / BUILD_INFO


def read_build_info(info_path: Path) -> dict[str, Any]:
    """The build info, or an empty dict when there is none (e.g. a test dataset)."""
    return json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}


def check_conforms(info: dict[str, Any], allow_invalid: bool) -> None:
    """Refuse data whose build failed validation, unless explicitly allowed.

    :raises InvalidBuildError: when ``conforms`` is false and ``allow_invalid`` is not set.
    """
    if info.get("conforms") is False:
        if not allow_invalid:
            raise InvalidBuildError(
                "the build failed validation (build-info.json: \"conforms\": false); fix the "
                "data and rebuild (`exomirkg build`), or start with --allow-invalid"
            )
        log.warning("SERVING DATA THAT FAILED VALIDATION (--allow-invalid)")


def init_state(app: Flask) -> None:
    """Load the built dataset (building it first when missing) into the app."""
    trig, info_path = data_files(app.config)
    if not trig.is_file():
        if app.config.get("DATA_FILE"):
            raise FileNotFoundError(f"DATA_FILE {trig} does not exist")
        build(trig.parent)
    info = read_build_info(info_path)
    check_conforms(info, bool(app.config.get("ALLOW_INVALID")))
    if is_external(app.config.get("BACKEND")):
        from exomirkg.backends.state import init_external

        init_external(app, info)
        return
    store_path = app.config.get("STORE_PATH")
    if store_path:
        store_dir = Path(store_path)
        if not (store_dir.is_dir() and any(store_dir.iterdir())):
            from exomirkg.store import prepare_store_dir

            prepare_store_dir(trig, store_dir)
        store = pyoxigraph.Store.read_only(str(store_dir))
        source = StoreSource(store_path=store_dir, prefixes=dict(PREFIXES),
                             spin=bool(app.config.get("QUERY_SPIN", True)))
    else:
        from exomirkg.store import load_store

        store = load_store(trig)
        source = StoreSource(trig=trig, prefixes=dict(PREFIXES),
                             spin=bool(app.config.get("QUERY_SPIN", True)))
    engine = QueryEngine(source, size=int(app.config["QUERY_WORKERS"]),
                         timeout=float(app.config["QUERY_TIMEOUT"]))
    names = sorted(g.value for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode))
    app.extensions["exomirkg"] = GraphState(
        store=store, info=info, engine=engine, graph_names=names, triples=len(store),
        inprocess_lookups=bool(app.config.get("INPROCESS_LOOKUPS", True)))


def get_state() -> GraphState:
    """The current app's graph state."""
    return current_app.extensions["exomirkg"]
