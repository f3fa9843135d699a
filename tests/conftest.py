"""Shared fixtures: one real build per test session, and a fresh Flask app per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from exomirkg import paths
from exomirkg.build import TRIG_FILE, BuildResult, build
from exomirkg.store import load_store

#: Tiny Turtle fixtures that prove a check, shape or rule can fail.
RESOURCES = Path(__file__).parent / "resources"


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


@pytest.fixture
def app(built: BuildResult, build_dir: Path) -> Iterator[Flask]:
    """A fresh app over the session's build; its query processes are closed afterwards."""
    from exomirkg.web import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir)})
    yield app
    engine = app.extensions["exomirkg"].engine
    if engine is not None:
        engine.close()


@pytest.fixture
def make_app(built: BuildResult, build_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Make apps over the session's build with the given settings; each one made is closed
    (its query processes stopped) after the test, whatever the test did."""
    from exomirkg.web import create_app

    made: list[Flask] = []

    def make(**settings: object) -> Flask:
        app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        engine = app.extensions["exomirkg"].engine
        if engine is not None:
            engine.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the data folders, for tests that break or mutate the data."""
    for name in ("ontology", "triples", "validation", "server"):
        shutil.copytree(paths.DATA_ROOT / name, tmp_path / name)
    return tmp_path
