"""Shared fixtures: one real build and one app per test session; fresh apps on request."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from helpers import fresh_app

from exomirkg import paths
from exomirkg.build import TRIG_FILE, BuildResult, build
from exomirkg.store import load_store

#: Tiny Turtle fixtures that prove a check, shape or rule can fail.
RESOURCES = Path(__file__).parent / "resources"


#: Folders whose every test carries a marker, so ``-m "not browser"`` cannot run one by mistake.
_FOLDER_MARKERS = {"browser": "browser", "backend": "backend"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.parent.name
        if folder in _FOLDER_MARKERS and item.path.parent.parent == Path(__file__).parent:
            item.add_marker(_FOLDER_MARKERS[folder])


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one real build of the repository's data."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def built(build_dir: Path) -> BuildResult:
    """The real build (load, reason, validate, write), done once per session."""
    return build(build_dir)


@pytest.fixture(scope="session")
def store(built: BuildResult, build_dir: Path) -> pyoxigraph.Store:
    """The built dataset in pyoxigraph, as the server holds it. Do not write to it."""
    return load_store(build_dir / TRIG_FILE)


@pytest.fixture(scope="session")
def app(built: BuildResult, build_dir: Path) -> Iterator[Flask]:
    """The app over the session's build, shared by every test (as a server's worker serves
    every request): its query processes start once and what it computes once per app
    (downloads, pages, the search index) is computed once. Read-only: a test that changes
    settings, closes or kills the engine, or needs a cold app uses ``make_app``."""
    with fresh_app(build_dir) as app:
        yield app


@pytest.fixture
def make_app(built: BuildResult, build_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Make apps over the session's build with the given settings; each one made is closed
    (its query processes stopped) after the test, whatever the test did."""
    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(fresh_app(build_dir, **settings))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def min_count_shape(tmp_path: Path) -> tuple[Path, Path]:
    """A shapes folder whose one shape needs ``ex:p`` on every ``ex:C``
    (message "needs ex:p"), and an empty checks folder beside it."""
    shapes_dir, checks_dir = tmp_path / "shapes", tmp_path / "checks"
    shapes_dir.mkdir()
    checks_dir.mkdir()
    (shapes_dir / "c.shacl.ttl").write_text(
        "PREFIX ex: <http://example.org/>\nPREFIX sh: <http://www.w3.org/ns/shacl#>\n"
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ;\n"
        '    sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message "needs ex:p" ] .\n',
        encoding="utf-8")
    return shapes_dir, checks_dir


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the data folders, for tests that break or mutate the data."""
    for name in ("ontology", "triples", "validation", "server"):
        shutil.copytree(paths.DATA_ROOT / name, tmp_path / name)
    return tmp_path
