"""External engines for the backend tests: Virtuoso (via scripts/virtuoso.sh) and Oxigraph server.

Each engine is started once per session on free loopback ports with a temporary folder,
loaded with the session's real build, and stopped afterwards (only what the fixture started).
On CI (``CI=true``) a missing engine fails the run instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import free_port

from exomirkg.build import BUILD_INFO, TRIG_FILE, BuildResult

#: The bash script under test (a checkout file; it is not shipped in the wheel).
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "virtuoso.sh"
#: Virtuoso's ResultSetMaxRows for the session: above every example query's answer and
#: below the dataset's triple count, so its silent cut can be provoked on purpose.
VIRTUOSO_MAX_ROWS = 5000


def missing(what: str, how: str) -> None:
    """Fail on CI, skip elsewhere: a missing engine must never pass silently in CI."""
    message = f"{what} is not installed: {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def graph_names(build_dir: Path) -> list[str]:
    """The dataset's named graphs, from the build info."""
    return sorted(json.loads((build_dir / BUILD_INFO).read_text())["graphs"])


@pytest.fixture(scope="session")
def virtuoso(built: BuildResult, build_dir: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Virtuoso loaded with the build; yields ``sparql+http://127.0.0.1:PORT/sparql``."""
    if shutil.which("virtuoso-t") is None:
        missing("Virtuoso (virtuoso-t)", "run `scripts/virtuoso.sh install` as root")
    folder = tmp_path_factory.mktemp("virtuoso")
    port, isql_port = free_port(), free_port()
    env = dict(os.environ, ISQL_PORT=str(isql_port), PYTHON=sys.executable,
               VIRTUOSO_MAX_ROWS=str(VIRTUOSO_MAX_ROWS))
    run = ["bash", str(SCRIPT)]
    try:
        subprocess.run([*run, "start", str(folder), str(port)], env=env, check=True,
                       capture_output=True, text=True, timeout=120)
        subprocess.run([*run, "load", str(folder), str(build_dir / TRIG_FILE)], env=env,
                       check=True, capture_output=True, text=True, timeout=300)
    except subprocess.CalledProcessError as error:
        subprocess.run([*run, "stop", str(folder)], env=env, timeout=60)
        pytest.fail(f"{' '.join(error.cmd[1:])} failed ({error.returncode}):\n"
                    f"{error.stdout}\n{error.stderr}")
    try:
        yield f"sparql+http://127.0.0.1:{port}/sparql"
    finally:
        subprocess.run([*run, "stop", str(folder)], env=env, timeout=60, capture_output=True)


def _wait_http(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback only)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _oxigraph() -> str:
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(binary).is_file():
        missing("Oxigraph server (PyPI oxigraph)", "pip install -e '.[test]'")
    return binary


@contextmanager
def _running_oxigraph(binary: str, command: str, *args: str) -> Iterator[str]:
    """Run ``oxigraph COMMAND ARGS`` on a free 127.0.0.1 port until ready; yield its base URL."""
    port = free_port()
    process = subprocess.Popen([binary, command, *args, "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def oxigraph_server(built: BuildResult, build_dir: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``oxigraph serve-read-only`` over the build, union default graph; yields its backend URL."""
    binary = _oxigraph()
    folder = tmp_path_factory.mktemp("oxigraph")
    subprocess.run([binary, "load", "--location", str(folder), "--file",
                    str(build_dir / TRIG_FILE)], check=True, capture_output=True, timeout=300)
    with _running_oxigraph(binary, "serve-read-only", "--location", str(folder),
                           "--union-default-graph") as base_url:
        yield f"sparql+{base_url}/query"


@pytest.fixture
def writable_oxigraph() -> Iterator[str]:
    """An empty in-memory ``oxigraph serve`` (read-write) for load tests; yields its base URL."""
    with _running_oxigraph(_oxigraph(), "serve") as base_url:
        yield base_url
