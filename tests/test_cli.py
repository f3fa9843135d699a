"""The CLI contract: build, validate, query, stats, and clean errors on bad data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from exomirkg.build import BUILD_INFO, NT_FILE, TRIG_FILE, BuildResult
from exomirkg.cli import main
from exomirkg.store import file_sha256

COMMANDS = ["build", "validate", "query", "stats", "serve", "explain"]


def _run(args: list[str], data_root: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if data_root is not None:
        env["EXOMIRKG_DATA_ROOT"] = str(data_root)
    return subprocess.run([sys.executable, "-m", "exomirkg", *args], capture_output=True,
                          text=True, env=env, timeout=600, **kwargs)


def test_every_contract_command_has_help(runner: CliRunner) -> None:
    """Each command's --help says what it does and lists every option it takes."""
    for command in COMMANDS:
        result = runner.invoke(main, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, f"{command} --help failed: {result.output}"
        assert result.output.startswith(f"Usage: main {command}"), result.output
        summary = (main.commands[command].help or "").strip().splitlines()[0]
        assert summary and summary.rstrip(".") in " ".join(result.output.split()), command
        for parameter in main.commands[command].params:
            for flag in getattr(parameter, "opts", []):
                if flag.startswith("--"):
                    assert flag in result.output, f"{command} --help does not list {flag}"


def test_build_writes_trig_nt_and_info(built: BuildResult, build_dir: Path) -> None:
    trig, nt = build_dir / TRIG_FILE, build_dir / NT_FILE
    assert trig.stat().st_size > 0 and nt.stat().st_size > 0
    info = json.loads((build_dir / BUILD_INFO).read_text())
    assert info["graphs"]["https://w3id.org/exomirkg/graph/inferred"] > 0
    assert info["graphs"]["https://w3id.org/exomirkg/graph/ontology"] > 0
    nt_lines = nt.read_text().count("\n")
    assert nt_lines == len({t for t in built.dataset.triples((None, None, None))})


def test_build_command_prints_a_timing_line_per_step_and_rebuilds_the_same_bytes(
        tmp_path: Path, built: BuildResult, build_dir: Path) -> None:
    """A rebuild in another process (another hash seed, new blank nodes) writes the files of
    the session's build byte for byte, as an incremental build will be checked against."""
    run = _run(["build", "--out", str(tmp_path)])
    assert run.returncode == 0, run.stderr
    for step in ("load", "reason", "validate", "write"):
        assert any(line.startswith(step) and line.endswith(" s") for line in
                   run.stdout.splitlines()), f"no timing line for {step}:\n{run.stdout}"
    info = json.loads((tmp_path / BUILD_INFO).read_text())
    assert info["sha256"] == json.loads((build_dir / BUILD_INFO).read_text())["sha256"]
    assert (tmp_path / TRIG_FILE).read_bytes() == (build_dir / TRIG_FILE).read_bytes()
    assert b"_:" in (tmp_path / NT_FILE).read_bytes(), "no blank node: the check is empty"


def test_build_does_nothing_until_a_file_it_reads_or_writes_changes(data_copy: Path) -> None:
    out = data_copy / "out"
    first = _run(["build", "--out", str(out)], data_root=data_copy)
    assert first.returncode == 0, first.stderr
    info = json.loads((out / BUILD_INFO).read_text())
    assert info["inputs"]["triples/sections/s2-2-caf-mirnas.ttl"] == file_sha256(
        data_copy / "triples" / "sections" / "s2-2-caf-mirnas.ttl")
    assert "(code)" in info["inputs"] and "imports/chebi_import.owl" in info["files"]
    written = {path: path.stat().st_mtime_ns for path in out.rglob("*")}

    again = _run(["build", "--out", str(out)], data_root=data_copy)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("up to date:"), again.stdout
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*")} == written

    # A quote edited: built again, and the files say so.
    section = data_copy / "triples" / "sections" / "s2-2-caf-mirnas.ttl"
    section.write_text(section.read_text().replace("CAFs", "CAFs ", 1))
    edited = _run(["build", "--out", str(out)], data_root=data_copy)
    assert edited.returncode == 0, edited.stderr
    assert not edited.stdout.startswith("up to date"), edited.stdout
    assert b'"CAFs ' in (out / NT_FILE).read_bytes()
    # A file it wrote is gone, or asked to: built again.
    (out / "imports" / "chebi_import.owl").unlink()
    for args in ([], ["--force"]):
        rebuilt = _run(["build", "--out", str(out), *args], data_root=data_copy)
        assert rebuilt.returncode == 0 and "write" in rebuilt.stdout, rebuilt.stdout
    assert (out / "imports" / "chebi_import.owl").is_file()


def test_build_that_failed_validation_is_built_again_to_report(data_copy: Path) -> None:
    drugs = data_copy / "triples" / "entities" / "drugs.ttl"
    drugs.write_text(drugs.read_text() + "\nekg:cisplatin ekg:oops ekg:nothing_declared .\n")
    out = data_copy / "out"
    for _attempt in range(2):
        run = _run(["build", "--out", str(out)], data_root=data_copy)
        assert run.returncode == 1 and "validation failed" in run.stderr, run.stderr
        assert not run.stdout.startswith("up to date"), run.stdout


def test_malformed_turtle_gives_one_line_with_file_and_line(data_copy: Path) -> None:
    broken = data_copy / "triples" / "entities" / "drugs.ttl"
    lines = broken.read_text().splitlines()
    lines.insert(20, 'ekg:oops rdfs:label "never closed .')
    broken.write_text("\n".join(lines) + "\n")
    run = _run(["stats"], data_root=data_copy)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    error_lines = run.stderr.strip().splitlines()
    assert len(error_lines) == 1, run.stderr
    assert f"{broken}:21:" in error_lines[0]


def test_a_broken_rule_header_gives_one_line_naming_the_rule(data_copy: Path) -> None:
    rule = data_copy / "ontology" / "rules" / "link-label.rq"
    rule.write_text(rule.read_text().replace("#+ summary: A readable label",
                                             "#+ summary: A label: readable"))
    run = _run(["build", "--out", str(data_copy / "out")], data_root=data_copy)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert f"{rule}: bad #+ header" in line


def test_query_prints_csv_from_stdin(built: BuildResult, build_dir: Path) -> None:
    query = ('PREFIX ekg: <https://w3id.org/exomirkg/> PREFIX rdfs: '
             '<http://www.w3.org/2000/01/rdf-schema#>\n'
             'SELECT ?label WHERE { ekg:cisplatin rdfs:label ?label }')
    run = _run(["query", "-", "--format", "csv", "--out", str(build_dir)], input=query)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["label", "cisplatin"]


def test_query_syntax_error_exits_2(build_dir: Path, built: BuildResult) -> None:
    run = _run(["query", "-", "--out", str(build_dir)], input="SELECT ?x WHERE { ?x ")
    assert run.returncode == 2
    assert "syntax error" in run.stderr.lower() and "Traceback" not in run.stderr


def test_stats_counts_classes(build_dir: Path, built: BuildResult) -> None:
    run = _run(["stats", "--out", str(build_dir)])
    assert run.returncode == 0, run.stderr
    counts = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    # The review's own entities: those named only in a reference title are not counted
    # (ekg:mentionedOnlyInReferenceTitle; 26 drugs and 39 miRNAs are declared).
    assert counts["Drug"] >= 24
    assert counts["ExosomalMiRNA"] == 35
