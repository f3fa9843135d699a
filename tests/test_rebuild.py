"""The incremental build (exomirkg.rebuild): after random edits of the review's data files it
writes what a full build of the edited data writes, byte for byte, with the same report; what
it cannot take (the ontology, a new file, a state that is not the build's) is built in full."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest
from helpers import benchmark

from exomirkg.build import BUILD_INFO, TRIG_FILE
from exomirkg.cli import main
from exomirkg.load import read_ntriples
from exomirkg.rebuild import STATE_DIR
from exomirkg.rebuild import build as rebuild


def _files(out: Path) -> dict[str, bytes]:
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*")
            if path.is_file() and STATE_DIR not in path.parts and path.name != BUILD_INFO}


def _info(out: Path) -> dict:
    info = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))
    for volatile in ("built", "timings", "incremental"):
        info.pop(volatile)
    return info


def _report(out: Path) -> list[str]:
    """The kept report's results, a blank node's label aside (an anonymous property shape
    is a new blank node each time the shapes are read)."""
    record = json.loads((out / STATE_DIR / "report.json").read_text(encoding="utf-8"))
    return sorted(re.sub(r"_:\w+", "_:b", json.dumps(result, sort_keys=True))
                  for result in record["results"])


def _assert_same_build(incremental: Path, full: Path) -> None:
    files = _files(full)
    assert TRIG_FILE in files and len(files) > 10
    assert _files(incremental) == files
    assert _info(incremental) == _info(full)
    assert _report(incremental) == _report(full)


def _edit(rng: random.Random, root: Path) -> str:
    """Rewrite a data file as N-Triples (Turtle too) with some statements dropped, some
    copied from another file and some given another statement's object."""
    files = sorted((root / "triples" / "sections").glob("*.ttl")) + sorted(
        (root / "triples" / "entities").glob("*.ttl"))
    path = rng.choice(files)
    lines = sorted(set(read_ntriples(path).decode().splitlines(True)))
    kept = set(lines) - set(rng.sample(lines, min(len(lines), rng.randint(1, 25))))
    pool = sorted({line for other in files for line in
                   read_ntriples(other).decode().splitlines(True)})
    kept |= set(rng.sample(pool, 4))
    for _ in range(rng.randint(0, 4)):
        subject, predicate, _rest = rng.choice(pool).split(" ", 2)
        if predicate.endswith("hasEffect>"):
            continue  # functional: a second effect is the full path's (owl:sameAs)
        objects = [line.split(" ", 2)[2] for line in pool if line.split(" ", 2)[1] == predicate]
        kept.add(f"{subject} {predicate} {rng.choice(objects)}")
    path.write_text("".join(sorted(kept)), encoding="utf-8")
    return path.name


def test_random_edits_build_incrementally_to_the_full_builds_bytes(data_copy: Path,
                                                                   tmp_path: Path) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    first = rebuild(out, data_root=data_copy)
    assert not first.incremental and (out / STATE_DIR / "state.json").is_file()
    original = _files(out)
    rng = random.Random(17)
    saved = {path: path.read_bytes() for path in (data_copy / "triples").rglob("*.ttl")}
    for _round in range(4):
        _edit(rng, data_copy)
        result = rebuild(out, data_root=data_copy)
        assert result.incremental
        assert json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))["incremental"]
        shutil.rmtree(full, ignore_errors=True)
        rebuild(full, data_root=data_copy, full=True)
        _assert_same_build(out, full)
    # Back to the review: the first build's files again, still incrementally.
    for path, body in saved.items():
        path.write_bytes(body)
    assert rebuild(out, data_root=data_copy).incremental
    assert _files(out) == original


def test_a_violation_comes_and_goes_with_its_edit(data_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert rebuild(out, data_root=data_copy).report.conforms
    section = data_copy / "triples" / "sections" / "s2-2-caf-mirnas.ttl"
    text = section.read_text(encoding="utf-8")
    lines = text.splitlines(True)
    quote = next(i for i, line in enumerate(lines) if "ekg:quote" in line
                 and "most abundant stromal" in line)
    section.write_text("".join(lines[:quote] + lines[quote + 1:]), encoding="utf-8")
    broken = rebuild(out, data_root=data_copy)
    assert broken.incremental and not broken.report.conforms
    assert {(r.rule, r.focus) for r in broken.report.violations} == {
        ("ekg:ReviewAssertionShape",
         "ekg:statement_cancer_associated_fibroblast_most_abundant_among_stromal_cell"),
        ("statement-without-evidence-violation", "ekg:cancer_associated_fibroblast")}
    section.write_text(text, encoding="utf-8")
    mended = rebuild(out, data_root=data_copy)
    assert mended.incremental and mended.report.conforms
    assert len(mended.report.warnings) == 5


@pytest.mark.parametrize("change", ["ontology", "new file", "no state", "output edited",
                                    "rules"])
def test_what_the_state_cannot_take_is_built_in_full(data_copy: Path, tmp_path: Path,
                                                     change: str) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    rebuild(out, data_root=data_copy)
    section = data_copy / "triples" / "sections" / "s2-3-tam-mirnas.ttl"
    section.write_text(section.read_text(encoding="utf-8").replace(
        "ekg:quote", "ekg:quote", 1) + "\n# an edit\n", encoding="utf-8")
    if change == "ontology":
        edit = data_copy / "ontology" / "exomirkg-edit.ttl"
        edit.write_text(edit.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    elif change == "new file":
        (data_copy / "triples" / "sections" / "zz-new.ttl").write_text(
            "@prefix ekg: <https://w3id.org/exomirkg/> .\n", encoding="utf-8")
    elif change == "no state":
        (out / STATE_DIR / "state.json").unlink()
    elif change == "output edited":
        (out / TRIG_FILE).write_bytes((out / TRIG_FILE).read_bytes() + b"\n")
    elif change == "rules":
        rule = sorted((data_copy / "ontology" / "rules").glob("*.rq"))[0]
        rule.write_text(rule.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = rebuild(out, data_root=data_copy)
    assert not result.incremental
    rebuild(full, data_root=data_copy, full=True)
    _assert_same_build(out, full)


def test_the_build_command_says_it_built_incrementally(data_copy: Path, tmp_path: Path,
                                                       runner) -> None:
    out = tmp_path / "out"
    args = ["--data-root", str(data_copy), "build", "--out", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    section = data_copy / "triples" / "sections" / "s2-3-tam-mirnas.ttl"
    section.write_text(section.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    done = runner.invoke(main, args)
    assert done.exit_code == 0 and "incremental: 1 changed file(s)" in done.output
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0 and "incremental" not in forced.output
    assert (out / STATE_DIR / "state.json").is_file()


def test_edited_sections_of_the_synthetic_graph_build_to_the_full_builds_bytes(
        tmp_path: Path) -> None:
    """The plan's check (docs/scale.md, the incremental build's item 5): the synthetic graph
    in section files, a curator's edits (findings dropped, others given another drug or
    mechanism: benchmarks/incremental.py's), incremental and full builds alike."""
    data = benchmark("synthetic").generate_ntriples(20_000, seed=1, sections=6)
    root = benchmark("synthetic").write_data_root(data, tmp_path / "data")
    edit = benchmark("incremental").edit_section
    out, full = tmp_path / "out", tmp_path / "full"
    rebuild(out, data_root=root)
    rng = random.Random(3)
    sections = sorted((root / "triples" / "sections").glob("*.ttl"))
    for _round in range(2):
        path = rng.choice(sections)
        path.write_bytes(edit(rng, read_ntriples(path), 8))
        assert rebuild(out, data_root=root).incremental
        shutil.rmtree(full, ignore_errors=True)
        rebuild(full, data_root=root, full=True)
        _assert_same_build(out, full)
