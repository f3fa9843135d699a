"""The examples in the package's docstrings run, so they cannot drift from the code.

Run here rather than with ``--doctest-modules``, which would also import the two
``conftest.py`` files (tests/ and tests/browser/) as one module and fail to collect.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import exomirkg

PACKAGE = Path(exomirkg.__file__).parent
MODULES = sorted(
    ".".join(("exomirkg", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__")
    for path in PACKAGE.rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8"))


def test_some_modules_have_examples() -> None:
    assert len(MODULES) >= 10, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name}: '>>> ' appears but no example ran"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
