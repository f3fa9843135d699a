"""Plain helpers for the reliability suite (fixtures live in conftest.py)."""

from __future__ import annotations

import re

from helpers import Canary  # noqa: F401 - the reliability suite's canary is the shared one

#: The endpoint's answers must never show Python internals, whatever the client sent.
_INTERNALS = re.compile(rb"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


def internals_shown(body: bytes) -> bool:
    """Whether a response body leaks a Python traceback."""
    return _INTERNALS.search(body) is not None
