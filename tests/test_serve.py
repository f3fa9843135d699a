"""`exomirkg serve`: gunicorn, flags and environment, refusing invalid builds, building first."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from helpers import cli_server, wait_healthy

from exomirkg.build import BUILD_INFO, TRIG_FILE, BuildResult
from exomirkg.cli import main


@pytest.fixture
def invalid_build(tmp_path: Path, build_dir: Path, built: BuildResult) -> Path:
    """A copy of the build whose build-info says validation failed."""
    folder = tmp_path / "invalid"
    folder.mkdir()
    shutil.copy(build_dir / TRIG_FILE, folder / TRIG_FILE)
    info = json.loads((build_dir / BUILD_INFO).read_text())
    (folder / BUILD_INFO).write_text(json.dumps({**info, "conforms": False}))
    return folder


def _serve(*args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    with cli_server("--workers", "1", "--threads", "4", "--query-workers", "1", *args,
                    stdout=subprocess.PIPE) as served:
        yield served


@pytest.mark.slow
def test_serve_runs_under_gunicorn_with_flags(build_dir: Path, built: BuildResult) -> None:
    for base, process in _serve("--out", str(build_dir), "--timeout", "1", "--row-cap", "3"):
        health = wait_healthy(base, process)
        assert health.headers["Server"].startswith("gunicorn")
        assert health.json()["row_cap"] == 3 and health.json()["query_timeout_s"] == 1.0
        rows = requests.get(f"{base}/sparql", params={"query": "SELECT * { ?s ?p ?o }"},
                            timeout=30)
        assert rows.headers["X-Exomirkg-Truncated"] == "true; limit=3"
        runaway = requests.get(f"{base}/sparql", timeout=30, params={
            "query": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"})
        assert runaway.status_code == 503 and "time limit" in runaway.text
        assert requests.get(f"{base}/sparql?query=ASK%7B%7D", timeout=30).json()["boolean"]


@pytest.mark.slow
def test_serve_sends_an_answer_larger_than_one_pipe_read(build_dir: Path,
                                                         built: BuildResult) -> None:
    """An answer past the first 64 KiB read of the answer pipe reaches the client whole
    through gunicorn (WSGI bodies must be ``bytes``: the Flask test client does not check)."""
    for base, process in _serve("--out", str(build_dir)):
        wait_healthy(base, process)
        answer = requests.get(f"{base}/sparql", params={"query": "SELECT * { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert answer.status_code == 200, answer.text[:300]
        assert len(answer.content) > 65536, "the test needs an answer past one pipe read"
        rows = answer.json()["results"]["bindings"]
        assert int(answer.headers["X-Exomirkg-Rows"]) == len(rows) > 0


def test_serve_refuses_a_build_that_failed_validation(runner: CliRunner,
                                                      invalid_build: Path) -> None:
    result = runner.invoke(main, ["serve", "--out", str(invalid_build)])
    assert result.exit_code == 2
    assert "conforms" in result.output and "--allow-invalid" in result.output


@pytest.mark.slow
def test_serve_allow_invalid_starts_with_a_loud_warning(invalid_build: Path) -> None:
    for base, process in _serve("--out", str(invalid_build), "--allow-invalid"):
        assert wait_healthy(base, process).json()["conforms"] is False
        os.killpg(process.pid, signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
        assert "FAILED VALIDATION" in err


def test_serve_builds_first_when_there_is_no_build(runner: CliRunner, tmp_path: Path,
                                                   build_dir: Path, built: BuildResult,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import exomirkg.build
    import exomirkg.web.serve

    built_into: list[Path] = []

    def fake_build(out: Path, **_kwargs) -> None:
        built_into.append(out)
        shutil.copy(build_dir / TRIG_FILE, out / TRIG_FILE)
        shutil.copy(build_dir / BUILD_INFO, out / BUILD_INFO)

    calls: list[dict] = []
    monkeypatch.setattr(exomirkg.build, "build", fake_build)
    monkeypatch.setattr(exomirkg.web.serve, "run_server", lambda **kw: calls.append(kw))
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["serve", "--out", str(empty)])
    assert result.exit_code == 0, result.output
    assert built_into == [empty.resolve()], "serve should build when the build is missing"
    assert calls and calls[0]["settings"]["BUILD_DIR"] == empty.resolve()


def test_serve_flags_and_env_reach_the_app_settings(runner: CliRunner, build_dir: Path,
                                                    built: BuildResult,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import exomirkg.web.serve

    calls: list[dict] = []
    monkeypatch.setattr(exomirkg.web.serve, "run_server", lambda **kw: calls.append(kw))
    monkeypatch.setenv("EXOMIRKG_ROW_CAP", "7")
    result = runner.invoke(main, [
        "serve", "--out", str(build_dir), "--port", "9999", "--workers", "3", "--threads", "2",
        "--timeout", "4.5", "--body-cap", "2048", "--cors-origins", "https://a.example",
        "--query-workers", "5", "--no-inprocess-lookups", "--no-query-spin", "--no-access-log"])
    assert result.exit_code == 0, result.output
    call = calls[0]
    assert (call["port"], call["workers"], call["threads"]) == (9999, 3, 2)
    assert call["access_log"] is False
    settings = call["settings"]
    assert settings["QUERY_TIMEOUT"] == 4.5 and settings["ROW_CAP"] == 7
    assert settings["BODY_CAP"] == 2048 and settings["CORS_ORIGINS"] == "https://a.example"
    assert settings["QUERY_WORKERS"] == 5
    assert settings["INPROCESS_LOOKUPS"] is False and settings["QUERY_SPIN"] is False


def test_create_app_reads_exomirkg_environment(build_dir: Path, built: BuildResult,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from exomirkg.web import create_app

    monkeypatch.setenv("EXOMIRKG_BUILD_DIR", str(build_dir))
    monkeypatch.setenv("EXOMIRKG_QUERY_TIMEOUT", "2.5")
    monkeypatch.setenv("EXOMIRKG_ROW_CAP", "11")
    monkeypatch.setenv("EXOMIRKG_CORS_ORIGINS", "")
    monkeypatch.setenv("EXOMIRKG_INPROCESS_LOOKUPS", "false")
    app = create_app()
    try:
        assert app.config["QUERY_TIMEOUT"] == 2.5 and app.config["ROW_CAP"] == 11
        assert app.test_client().get("/health").get_json()["inprocess_lookups"] is False
        response = app.test_client().get("/health", headers={"Origin": "https://x.example"})
        assert "Access-Control-Allow-Origin" not in response.headers, "CORS should be off"
    finally:
        app.extensions["exomirkg"].engine.close()


def test_on_disk_store_path_serves_the_same_data(tmp_path: Path, build_dir: Path,
                                                 built: BuildResult) -> None:
    from exomirkg.web import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir),
                      "STORE_PATH": str(tmp_path / "store"), "QUERY_WORKERS": 1})
    try:
        response = app.test_client().get(
            "/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
        count = int(response.json["results"]["bindings"][0]["n"]["value"])
        assert count == json.loads((build_dir / BUILD_INFO).read_text())["triples"]
    finally:
        app.extensions["exomirkg"].engine.close()


# The validation gate has no side doors: data not shown to pass validation is refused
# whichever way it reaches `serve` or create_app, and served only with --allow-invalid.

@pytest.fixture(scope="module")
def no_validate_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `exomirkg build --no-validate` folder (build-info.json: "conforms": null)."""
    folder = tmp_path_factory.mktemp("no-validate")
    result = CliRunner().invoke(main, ["build", "--no-validate", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert "not validated" in result.output, "build --no-validate should say serve refuses it"
    assert json.loads((folder / BUILD_INFO).read_text())["conforms"] is None
    return folder


def _unvalidated(door: str, tmp_path: Path, build_dir: Path,
                 no_validate_build: Path) -> tuple[list[str], dict[str, str]]:
    """The CLI arguments and app settings that point at one kind of unvalidated data."""
    if door == "data-file":
        # A TriG of one's own, with no build-info.json beside it.
        data = tmp_path / "mine.trig"
        shutil.copy(build_dir / TRIG_FILE, data)
        return ["--data", str(data)], {"DATA_FILE": str(data)}
    if door == "no-validate":
        return ["--out", str(no_validate_build)], {"BUILD_DIR": str(no_validate_build)}
    folder = tmp_path / door
    folder.mkdir()
    shutil.copy(build_dir / TRIG_FILE, folder / TRIG_FILE)
    if door == "edited-after-build":
        # build-info.json says "conforms": true, but of the TriG as it was built.
        shutil.copy(build_dir / BUILD_INFO, folder / BUILD_INFO)
        with (folder / TRIG_FILE).open("a", encoding="utf-8") as trig:
            trig.write("\n<https://w3id.org/exomirkg/x> <https://w3id.org/exomirkg/y> 1 .\n")
    return ["--out", str(folder)], {"BUILD_DIR": str(folder)}


DOORS = ["data-file", "no-build-info", "no-validate", "edited-after-build"]


@pytest.mark.parametrize("door", DOORS)
def test_serve_refuses_unvalidated_data(door: str, runner: CliRunner, tmp_path: Path,
                                        build_dir: Path, built: BuildResult,
                                        no_validate_build: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import exomirkg.web.serve

    calls: list[dict] = []
    monkeypatch.setattr(exomirkg.web.serve, "run_server", lambda **kw: calls.append(kw))
    args, _settings = _unvalidated(door, tmp_path, build_dir, no_validate_build)
    result = runner.invoke(main, ["serve", *args])
    assert result.exit_code == 2, result.output
    assert not calls, f"{door}: serve started on unvalidated data without --allow-invalid"
    message = result.output
    assert "refusing to serve" in message and BUILD_INFO in message
    assert "`exomirkg build`" in message and "--allow-invalid" in message
    assert "Traceback" not in message


@pytest.mark.parametrize("door", DOORS)
def test_serve_allow_invalid_serves_unvalidated_data_with_a_warning(
        door: str, runner: CliRunner, tmp_path: Path, build_dir: Path, built: BuildResult,
        no_validate_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import exomirkg.web.serve

    calls: list[dict] = []
    monkeypatch.setattr(exomirkg.web.serve, "run_server", lambda **kw: calls.append(kw))
    args, _settings = _unvalidated(door, tmp_path, build_dir, no_validate_build)
    result = runner.invoke(main, ["serve", *args, "--allow-invalid"])
    assert result.exit_code == 0, result.output
    assert "WAS NOT VALIDATED" in result.output
    assert calls and calls[0]["settings"]["ALLOW_INVALID"] is True


@pytest.mark.parametrize("door", DOORS)
def test_create_app_refuses_unvalidated_data_unless_allowed(
        door: str, tmp_path: Path, build_dir: Path, built: BuildResult,
        no_validate_build: Path, caplog: pytest.LogCaptureFixture) -> None:
    from exomirkg.web import create_app
    from exomirkg.web.state import InvalidBuildError

    _args, settings = _unvalidated(door, tmp_path, build_dir, no_validate_build)
    with pytest.raises(InvalidBuildError, match="--allow-invalid"):
        create_app({"TESTING": True, "QUERY_WORKERS": 1, **settings})
    with caplog.at_level("WARNING", logger="exomirkg.web.state"):
        app = create_app({"TESTING": True, "QUERY_WORKERS": 1, "ALLOW_INVALID": True,
                          **settings})
    try:
        assert "DID NOT PASS VALIDATION" in caplog.text
        health = app.test_client().get("/health").get_json()
        assert health["status"] == "ok" and health["triples"] > 0
        assert health["conforms"] is None, f"{door}: /health must not claim the data conforms"
    finally:
        app.extensions["exomirkg"].engine.close()
