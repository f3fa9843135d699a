"""Without Chromium the browser tests must fail under CI=true (and only skip elsewhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

HERE = Path(__file__).resolve().parent


def _run_browser_test(ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": ci, "CHROMIUM": "/nonexistent/chromium"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               str(HERE / "test_pages_browser.py"), "-k", "search_finds"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600,
                          cwd=HERE.parents[1])


def test_missing_chromium_fails_the_browser_tests_under_ci():
    result = _run_browser_test("true")
    assert result.returncode == 1 and "1 error" in result.stdout, result.stdout[-2000:]
    assert "apt-get install -y chromium chromium-driver" in result.stdout


def test_missing_chromium_only_skips_the_browser_tests_outside_ci():
    result = _run_browser_test("")
    assert result.returncode == 0 and "1 skipped" in result.stdout, result.stdout[-2000:]
