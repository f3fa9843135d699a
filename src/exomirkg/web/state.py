"""The graph held by the app: a pyoxigraph store loaded once per process, and the query pool."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pyoxigraph
from flask import Flask, current_app

from exomirkg.backends import is_external
from exomirkg.build import BUILD_INFO, TRIG_FILE, build
from exomirkg.namespaces import PREFIXES
from exomirkg.sparql.answers import AnswerCache
from exomirkg.sparql.engine import QueryEngine, StoreSource
from exomirkg.sparql.state import GraphState

__all__ = ["GraphState", "InvalidBuildError", "check_conforms", "data_files", "get_state",
           "init_state", "validation_problem"]

log = logging.getLogger(__name__)


class InvalidBuildError(RuntimeError):
    """The data is not known to have passed validation and ALLOW_INVALID is off."""


def data_files(config: Any) -> tuple[Path, Path]:
    """The TriG file and build-info path the config points at (``DATA_FILE`` or ``BUILD_DIR``)."""
    if config.get("DATA_FILE"):
        trig = Path(config["DATA_FILE"])
        return trig, trig.with_name(BUILD_INFO)
    build_dir = Path(config["BUILD_DIR"])
    return build_dir / TRIG_FILE, build_dir / BUILD_INFO


def read_build_info(info_path: Path) -> dict[str, Any]:
    """The build info, or an empty dict when there is none or it is unreadable (unvalidated:
    see check_conforms)."""
    if not info_path.is_file():
        return {}
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        log.warning("%s is not valid JSON: the data counts as unvalidated", info_path)
        return {}
    return info if isinstance(info, dict) else {}


def _describes(info: dict[str, Any], data: Path) -> bool:
    """Whether the build info lists ``data`` with its current sha256 (it was built with it)."""
    recorded = (info.get("sha256") or {}).get(data.name)
    if not recorded or not data.is_file():
        return False
    digest = hashlib.sha256()
    with data.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == recorded


def validation_problem(info: dict[str, Any], data: Path | None = None) -> str | None:
    """Why the data is not known to have passed validation (one sentence), or None.

    Only ``"conforms": true`` counts: ``false`` (validation failed), ``null`` (built with
    ``--no-validate``), no build-info at all (a hand-made TriG) and a build-info written for
    another file are all unvalidated data.

    :param data: the TriG file to serve; when given, the build info must list its sha256.
    """
    fix = "build it with `exomirkg build`, or start with --allow-invalid"
    if not info:
        where = f"beside {data}" if data is not None else "for the data"
        return f"there is no {BUILD_INFO} {where}, so nothing shows it passed validation: {fix}"
    conforms = info.get("conforms")
    if conforms is False:
        return (f"the build failed validation ({BUILD_INFO}: \"conforms\": false): fix the data "
                "and rebuild (`exomirkg build`), or start with --allow-invalid")
    if conforms is not True:
        return (f"the data was never validated ({BUILD_INFO}: \"conforms\": "
                f"{json.dumps(conforms)}, e.g. from `exomirkg build --no-validate`): {fix}")
    if data is not None and not _describes(info, data):
        return (f"{BUILD_INFO} beside {data} does not list this file's sha256, so it does not "
                f"show that this file passed validation: {fix}")
    return None


def check_conforms(info: dict[str, Any], allow_invalid: bool,
                   data: Path | None = None) -> dict[str, Any]:
    """Refuse data not known to have passed validation, unless explicitly allowed.

    :param data: the TriG file to serve; its build info must list its sha256.
    :returns: the build info to report (/health); ``conforms`` is null there when the
        build info does not describe ``data``, so it never claims a check that did not happen.
    :raises InvalidBuildError: when :func:`validation_problem` finds one and
        ``allow_invalid`` is not set.
    """
    problem = validation_problem(info, data)
    if problem is None:
        return info
    if not allow_invalid:
        raise InvalidBuildError(problem)
    log.warning("SERVING DATA THAT DID NOT PASS VALIDATION (--allow-invalid): %s", problem)
    if info.get("conforms") is True:
        return {**info, "conforms": None}
    return info


def init_state(app: Flask) -> None:
    """Load the built dataset (building it first when missing) into the app."""
    trig, info_path = data_files(app.config)
    if not trig.is_file():
        if app.config.get("DATA_FILE"):
            raise FileNotFoundError(f"DATA_FILE {trig} does not exist")
        build(trig.parent)
    info = read_build_info(info_path)
    info = check_conforms(info, bool(app.config.get("ALLOW_INVALID")), data=trig)
    if is_external(app.config.get("BACKEND")):
        from exomirkg.backends.state import init_external

        init_external(app, info)
        return
    store_path = app.config.get("STORE_PATH")
    spin = bool(app.config.get("QUERY_SPIN", False))
    memory = int(app.config.get("QUERY_MEMORY") or 0) * 2**20  # the setting is in MB
    if store_path:
        store_dir = Path(store_path)
        if not (store_dir.is_dir() and any(store_dir.iterdir())):
            from exomirkg.store import prepare_store_dir

            prepare_store_dir(trig, store_dir)
        store = pyoxigraph.Store.read_only(str(store_dir))
        source = StoreSource(store_path=store_dir, prefixes=dict(PREFIXES), spin=spin,
                             memory=memory)
    else:
        from exomirkg.store import load_store

        store = load_store(trig)
        source = StoreSource(trig=trig, prefixes=dict(PREFIXES), spin=spin, memory=memory)
    queue = app.config.get("QUERY_QUEUE")
    engine = QueryEngine(source, size=int(app.config["QUERY_WORKERS"]),
                         timeout=float(app.config["QUERY_TIMEOUT"]),
                         queue=None if queue in (None, "") else int(queue))
    cache_mb = int(app.config.get("ANSWER_CACHE") or 0)
    names = sorted(g.value for g in store.named_graphs() if isinstance(g, pyoxigraph.NamedNode))
    app.extensions["exomirkg"] = GraphState(
        store=store, info=info, engine=engine, graph_names=names, triples=len(store),
        inprocess_lookups=bool(app.config.get("INPROCESS_LOOKUPS", True)),
        answers=AnswerCache(cache_mb * 2**20) if cache_mb > 0 else None)


def get_state() -> GraphState:
    """The current app's graph state."""
    return current_app.extensions["exomirkg"]
