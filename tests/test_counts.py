"""Expected minimum counts per review section and per class, so a lost section fails loudly."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner

from exomirkg import paths
from exomirkg.build import BuildResult
from exomirkg.cli import main
from exomirkg.namespaces import GRAPH, section_graph
from exomirkg.stats import class_counts, section_counts

EXPECTED_FILE = Path(__file__).parent / "resources" / "expected-counts.yaml"
EXPECTED = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
SECTION_MINIMUMS: dict[str, int] = {str(k): v for k, v in EXPECTED["findings_per_section"].items()}
CLASS_MINIMUMS: dict[str, int] = {str(k): v for k, v in EXPECTED["entities_per_class"].items()}


def _section_files() -> dict[str, list[Path]]:
    """Section key (``2-2``, ``table-1``) -> the triples/sections files loaded into its graph."""
    files: dict[str, list[Path]] = {}
    for path in sorted(paths.SECTIONS_DIR.glob("*.ttl")):
        key = str(section_graph(path.stem)).removeprefix(f"{GRAPH}section/")
        files.setdefault(key, []).append(path)
    return files


@pytest.fixture(scope="module")
def sections(store: pyoxigraph.Store) -> dict[str, int]:
    return section_counts(store)


@pytest.fixture(scope="module")
def classes(store: pyoxigraph.Store) -> dict[str, int]:
    return class_counts(store)


@pytest.mark.parametrize("key", sorted(SECTION_MINIMUMS))
def test_section_has_its_minimum_findings(key: str, sections: dict[str, int]) -> None:
    minimum, got = SECTION_MINIMUMS[key], sections.get(key, 0)
    files = _section_files().get(key)
    where = (", ".join(str(p.relative_to(paths.DATA_ROOT)) for p in files) if files else
             f"no file in triples/sections/ maps to graph/section/{key} (name it "
             f"s{key}-<slug>.ttl, or {key}.ttl)")
    assert got >= minimum, (
        f"section {key}: {got} findings, expected at least {minimum} ({where}); restore the "
        f"lost findings, or lower the figure in {EXPECTED_FILE.name} if they were merged")


@pytest.mark.parametrize("name", sorted(CLASS_MINIMUMS))
def test_class_has_its_minimum_entities(name: str, classes: dict[str, int]) -> None:
    minimum, got = CLASS_MINIMUMS[name], classes.get(name, 0)
    assert got >= minimum, (
        f"ekg:{name}: {got} entities, expected at least {minimum}; check the file of "
        f"triples/entities/ (or triples/sections/ for Finding) that declares them, and the "
        f"reasoner for defined classes")


def test_every_section_graph_is_listed_in_the_counts_file(sections: dict[str, int]) -> None:
    """A new section graph needs its minimum, or losing it later would go unnoticed."""
    unlisted = sorted(set(sections) - set(SECTION_MINIMUMS))
    assert not unlisted, f"add minimums for sections {unlisted} to {EXPECTED_FILE}"


def test_stats_command_prints_findings_per_section_and_entities_per_class(
        runner: CliRunner, built: BuildResult, build_dir: Path) -> None:
    result = runner.invoke(main, ["stats", "--out", str(build_dir)])
    assert result.exit_code == 0, result.output
    counts: dict[str, int] = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    assert "findings per section:" in result.output and "entities per class:" in result.output
    for key, minimum in {**SECTION_MINIMUMS, **CLASS_MINIMUMS}.items():
        assert counts.get(key, 0) >= minimum, (
            f"`exomirkg stats` prints {counts.get(key)} for {key}, expected >= {minimum}:\n"
            f"{result.output}")
