"""Fixtures of the reliability suite: a recording loopback canary and bounded apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Canary


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    """One canary per module; tests compare its hit count before and after each attempt."""
    bird = Canary().start()
    bird.self_check()
    yield bird
    bird.stop()
