"""A non-editable wheel install in a clean venv finds every data file."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from exomirkg import paths


@pytest.mark.slow
def test_wheel_install_runs_stats(tmp_path: Path) -> None:
    root = paths.DATA_ROOT
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(dist), str(root)], check=True, timeout=600)
    wheel = next(dist.glob("exomirkg-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   timeout=900)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    run = subprocess.run([str(env_dir / "bin" / "exomirkg"), "stats"], capture_output=True,
                         text=True, cwd=workdir, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Drug" in run.stdout
    located = subprocess.run(
        [str(python), "-c", "from exomirkg import paths; print(paths.DATA_ROOT)"],
        capture_output=True, text=True, cwd=workdir, check=True)
    assert "site-packages" in located.stdout, "the wheel must use its packaged data"
