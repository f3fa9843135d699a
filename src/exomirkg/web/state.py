"""The graph held by the app: a pyoxigraph store loaded once per process."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph
from flask import Flask, current_app

from exomirkg.build import BUILD_INFO, TRIG_FILE, build

__all__ = ["GraphState", "get_state", "init_state"]


@dataclass
class GraphState:
    """The store and what /health reports about it."""

    store: pyoxigraph.Store
    info: dict[str, Any] = field(default_factory=dict)


def init_state(app: Flask) -> None:
    """Load the built dataset (building it first when missing) into the app."""
    build_dir = Path(app.config["BUILD_DIR"])
    trig = build_dir / TRIG_FILE
    if not trig.is_file():
        build(build_dir)
    from exomirkg.store import load_store

    info_path = build_dir / BUILD_INFO
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    app.extensions["exomirkg"] = GraphState(store=load_store(trig), info=info)


def get_state() -> GraphState:
    """The current app's graph state."""
    return current_app.extensions["exomirkg"]
