"""Plain helpers for the reliability suite (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from helpers import Canary  # noqa: F401 - the reliability suite's canary is the shared one

#: The endpoint's answers must never show Python internals, whatever the client sent.
_INTERNALS = re.compile(rb"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


def make_app(build_dir: Path, **settings) -> Flask:
    """An app over the session's build; the caller closes its engine."""
    from exomirkg.web import create_app

    return create_app({"TESTING": True, "BUILD_DIR": str(build_dir), **settings})


def close_app(app: Flask) -> None:
    engine = app.extensions["exomirkg"].engine
    if engine is not None:
        engine.close()


def internals_shown(body: bytes) -> bool:
    """Whether a response body leaks a Python traceback."""
    return _INTERNALS.search(body) is not None
