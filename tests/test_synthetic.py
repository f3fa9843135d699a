"""benchmarks/synthetic.py's graph conforms, as curated data does, so benchmarks measure the
realistic build (not the cost of writing one validation result per few triples)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from exomirkg.build import build


def _synthetic() -> ModuleType:
    """benchmarks/synthetic.py: benchmark code, kept out of the package."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("synthetic", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_data_folder_builds_without_violations(seed: int, tmp_path: Path) -> None:
    synthetic = _synthetic()
    folder = synthetic.write_data_root(synthetic.generate(4000, seed=seed), tmp_path / "data")

    result = build(tmp_path / "out", data_root=folder)

    assert result.report is not None
    violations = result.report.violations
    assert not violations, (
        "benchmarks/synthetic.py must generate what the shapes and checks accept: "
        + result.report.as_text())
    assert result.report.conforms
    # The curated review has Warnings of this kind only (findings on retracted references).
    assert {r.rule for r in result.report.warnings} <= {"ekg:FindingRetractedSupportShape"}
    # The rules still fire on it: findings join drugs to mechanisms.
    assert "drugLinkedToMechanism" in result.inferred.serialize(format="nt")
