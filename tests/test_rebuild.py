"""The incremental build (exomirkg.rebuild): after random edits of the review's data files it
writes what a full build of the edited data writes, byte for byte, with the same report; what
it cannot take (the ontology, a new file, a state that is not the build's) is built in full.
So does ``build --watch`` (rebuild.Watcher), the state held in memory from build to build."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue

import pytest
from helpers import benchmark

from exomirkg import canonical
from exomirkg import rebuild as rebuild_module
from exomirkg import validate as validate_module
from exomirkg.build import BUILD_INFO, TRIG_FILE
from exomirkg.cli import main
from exomirkg.incremental import Levels
from exomirkg.load import read_ntriples
from exomirkg.namespaces import GRAPH_INFERRED
from exomirkg.rebuild import STATE_DIR, CodeChanged, Watcher
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
    """The kept report's results (:func:`_results`)."""
    return _results(json.loads((out / STATE_DIR / "report.json").read_text(encoding="utf-8")))


def _results(record: dict) -> list[str]:
    """A report's results, a blank node's label aside (an anonymous property shape is a new
    blank node each time the shapes are read)."""
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


@pytest.mark.parametrize("watch", [False, True])
def test_the_shapes_run_while_the_reasoner_updates(data_copy: Path, tmp_path: Path,
                                                   monkeypatch, watch: bool) -> None:
    """The shapes read their own store alone, so they run on the other core while the
    reasoner updates the build's store (0.3-0.5 s of an edit at 10^6 triples), from disk and
    from a watcher's memory; so do, in a watcher, the checks of the asserted triples (on the
    focus nodes the change reaches), once those are in their state after. Their results are
    the report's as before."""
    out = tmp_path / "out"
    watcher = Watcher(out, data_root=data_copy) if watch else None
    assert (watcher.step() if watcher else rebuild(out, data_root=data_copy)).report.conforms
    section = data_copy / "triples" / "sections" / "s2-2-caf-mirnas.ttl"
    lines = section.read_text(encoding="utf-8").splitlines(True)
    section.write_text("".join(line for line in lines if not (
        "ekg:quote" in line and "most abundant stromal" in line))
        + '\nekg:cisplatin rdfs:label "PACLITAXEL"@en .\n', encoding="utf-8")
    ran = {name: threading.Event() for name in ("shapes_change", "asserted_checks")}
    update_lowest = Levels._update_lowest

    def ran_beside(name: str) -> None:
        run = getattr(rebuild_module, name)

        def beside(*args, **kwargs):
            result = run(*args, **kwargs)
            ran[name].set()
            return result
        monkeypatch.setattr(rebuild_module, name, beside)

    def reason(self, *args):
        # Done before the reasoner goes on: they read the store while it updates.
        for name, event in ran.items():
            if watch or name == "shapes_change":
                assert event.wait(timeout=120), f"{name} waited for the reasoner"
        return update_lowest(self, *args)

    for name in ran:
        ran_beside(name)
    monkeypatch.setattr(Levels, "_update_lowest", reason)
    broken = watcher.step() if watcher else rebuild(out, data_root=data_copy)
    assert broken.incremental and ran["asserted_checks"].is_set() == watch
    found = {(result.rule, result.focus) for result in broken.report.violations}
    assert ("ekg:ReviewAssertionShape",
            "ekg:statement_cancer_associated_fibroblast_most_abundant_among_stromal_cell") in found
    assert ("duplicate-label-violation", "ekg:cisplatin") in found
    full = tmp_path / "full"
    rebuild(full, data_root=data_copy, full=True)
    assert _files(out) == _files(full) and _info(out) == _info(full)
    assert _results(broken.report.as_record()) == _report(full)


def test_a_check_that_reads_none_of_the_change_keeps_its_results(data_copy: Path,
                                                                  tmp_path: Path,
                                                                  monkeypatch) -> None:
    """A check runs only on a change of a triple it reads: an edit of a finding's drug keeps
    duplicate-label's results. A label runs it on the classes of its entity alone
    (``#+ partition: class``): a clash among drugs, then one among genes that keeps the
    drugs' result, then the drugs' clash undone, which keeps the genes'."""
    out = tmp_path / "out"
    watcher = Watcher(out, data_root=data_copy)
    assert watcher.step().report.conforms
    ran: dict[str, object] = {}
    check_rows = validate_module._check_rows

    def recording(store, check, focus=None, **kwargs):
        ran[check.name] = None if focus is None else {str(node) for node in focus}
        return check_rows(store, check, focus, **kwargs)

    monkeypatch.setattr(validate_module, "_check_rows", recording)
    section = data_copy / "triples" / "sections" / "s2-2-caf-mirnas.ttl"
    text = section.read_text(encoding="utf-8")
    assert "ekg:concernsDrug ekg:sorafenib ;" in text
    drugs = '\nekg:cisplatin rdfs:label "PACLITAXEL"@en .\n'
    genes = '\nekg:abcc1 rdfs:label "abcb1"@en .\n'
    ekg = "https://w3id.org/exomirkg/"
    edits = [  # (the text, the classes duplicate-label runs on, its results)
        (text.replace("ekg:concernsDrug ekg:sorafenib ;", "ekg:concernsDrug ekg:cisplatin ;"),
         None, set()),
        # cisplatin's classes, PlatinumDrug inferred (which classes a change reaches is
        # followed over every graph, more than the check reads: never less).
        (text + drugs, {f"{ekg}Drug", f"{ekg}PlatinumDrug"}, {("ekg:cisplatin", "ekg:Drug")}),
        (text + drugs + genes, {f"{ekg}Gene", f"{ekg}ABCTransporter"},
         {("ekg:cisplatin", "ekg:Drug"), ("ekg:abcb1", "ekg:Gene"),
          ("ekg:abcb1", "ekg:ABCTransporter")}),
        (text + genes, {f"{ekg}Drug", f"{ekg}PlatinumDrug"},
         {("ekg:abcb1", "ekg:Gene"), ("ekg:abcb1", "ekg:ABCTransporter")}),
    ]
    for edit, classes, expected in edits:
        ran.clear()
        section.write_text(edit, encoding="utf-8")
        built = watcher.step()
        assert built.incremental and ran
        assert ran.get("duplicate-label-violation", "not run") == (classes or "not run")
        assert {(result.focus, result.details["class"]) for result in built.report.violations
                if result.rule == "duplicate-label-violation"} == expected
        full = tmp_path / "full"
        shutil.rmtree(full, ignore_errors=True)
        rebuild(full, data_root=data_copy, full=True)
        assert _files(out) == _files(full) and _info(out) == _info(full)
        assert _results(built.report.as_record()) == _report(full)


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


def _full_build(root: Path, full: Path) -> Path:
    shutil.rmtree(full, ignore_errors=True)
    rebuild(full, data_root=root, full=True)
    return full


def _no_restore(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the state was read back from the build folder")


def test_a_watcher_builds_each_edit_from_its_state_in_memory(data_copy: Path, tmp_path: Path,
                                                            monkeypatch) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    # graph/inferred (1,647 lines) written in pieces of whole subjects, from the second
    # build on: each piece's Turtle made again only when its lines changed.
    monkeypatch.setattr(canonical, "_PIECE", 16)
    watcher = Watcher(out, data_root=data_copy)
    first = watcher.step()
    assert first is not None and not first.incremental
    assert watcher.step() is None  # nothing changed
    monkeypatch.setattr(rebuild_module, "_restore", _no_restore)
    rng = random.Random(5)
    for _round in range(3):
        _edit(rng, data_copy)
        result = watcher.step()
        assert result is not None and result.incremental and result.report is not None
        assert str(GRAPH_INFERRED) in result.kept.pieces
        # Not dumped again, the first time either: the watcher made what the full build's
        # write kept while it read the state from disk (_prefetch_kept).
        assert str(GRAPH_INFERRED) in result.lines
        # The state on disk no longer stands for the build folder.
        assert not (out / STATE_DIR / "state.json").exists()
        _full_build(data_copy, full)
        assert _files(out) == _files(full)
        assert _info(out) == _info(full)
        assert _results(result.report.as_record()) == _report(full)
    # Touched, not changed: nothing to build.
    os.utime(next((data_copy / "triples" / "sections").glob("*.ttl")))
    assert watcher.step() is None
    # Stopped, it saves the state; the next build starts from it.
    assert watcher.close() and not watcher.close()
    monkeypatch.undo()
    _edit(rng, data_copy)
    assert rebuild(out, data_root=data_copy).incremental
    _assert_same_build(out, _full_build(data_copy, full))


def test_what_a_write_kept_is_made_again_from_the_state_on_disk(data_copy: Path,
                                                                 tmp_path: Path) -> None:
    """The lines of each graph as the build folder's files hold them, sorted, each once; none
    when the state does not give those files."""
    out = tmp_path / "out"
    rebuild(out, data_root=data_copy)
    state = rebuild_module._usable(out, data_copy)
    assert state is not None
    kept = rebuild_module._prefetch_kept(out, state.graphs, rebuild_module._parts(out))
    assert kept is not None and set(kept.lines) == {*state.graphs, str(GRAPH_INFERRED)}
    nt = (out / "exomirkg.nt").read_bytes().splitlines(keepends=True)
    assert kept.union == nt
    assert sorted({line for lines in kept.lines.values() for line in lines}) == nt
    for name, text in state.graphs.items():
        if b"_:" not in text:
            assert kept.lines[name] == sorted(set(text.splitlines(keepends=True))), name
    # A state that is not the build's (one triple less in graph/inferred): none.
    lowest = out / STATE_DIR / "lowest.nt"
    lines = lowest.read_bytes().splitlines(keepends=True)
    lowest.write_bytes(b"".join(lines[1:]))
    assert rebuild_module._prefetch_kept(out, state.graphs, rebuild_module._parts(out)) is None


def test_a_watcher_waits_out_a_file_it_cannot_read(data_copy: Path, tmp_path: Path) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    said: list[str] = []
    watcher = Watcher(out, data_root=data_copy, progress=said.append)
    watcher.step()
    built = _files(out)
    section = data_copy / "triples" / "sections" / "s2-3-tam-mirnas.ttl"
    text = section.read_text(encoding="utf-8")
    section.write_text(text + "\nekg:a ekg:b\n", encoding="utf-8")
    assert watcher.step() is None
    assert said[-1].startswith("not built: ") and "s2-3-tam-mirnas.ttl" in said[-1]
    assert _files(out) == built
    said.clear()
    assert watcher.step() is None and not said  # not read again until it changes
    lines = text.splitlines(True)
    quote = next(i for i, line in enumerate(lines) if "ekg:quote" in line)
    section.write_text("".join(lines[:quote] + lines[quote + 1:]), encoding="utf-8")
    result = watcher.step()
    assert result is not None and result.incremental and not result.report.conforms
    _assert_same_files(out, _full_build(data_copy, full))
    # Back to the review: the first build's files again.
    section.write_text(text, encoding="utf-8")
    assert watcher.step().incremental
    assert _files(out) == built


def _assert_same_files(out: Path, full: Path) -> None:
    assert _files(out) == _files(full)
    assert _info(out) == _info(full)


def test_a_watcher_builds_what_its_state_cannot_take_in_full(data_copy: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    rebuild(out, data_root=data_copy)
    watcher = Watcher(out, data_root=data_copy)
    assert watcher.step() is None  # the build folder holds this build: its state is read
    edit = data_copy / "ontology" / "exomirkg-edit.ttl"
    edit.write_text(edit.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert not watcher.step().incremental
    monkeypatch.setattr(rebuild_module, "_restore", _no_restore)
    rng = random.Random(8)
    _edit(rng, data_copy)
    assert watcher.step().incremental
    _assert_same_files(out, _full_build(data_copy, full))
    # The TriG edited by hand: its blocks cannot be copied, the next build is a full one.
    monkeypatch.undo()
    (out / TRIG_FILE).write_bytes((out / TRIG_FILE).read_bytes() + b"\n")
    _edit(rng, data_copy)
    assert not watcher.step().incremental
    _assert_same_files(out, _full_build(data_copy, full))
    monkeypatch.setattr(rebuild_module, "_restore", _no_restore)
    _edit(rng, data_copy)
    assert watcher.step().incremental
    # The code it runs is the code it started with: a change of it stops the watcher.
    digests = rebuild_module.input_digests
    monkeypatch.setattr(rebuild_module, "input_digests",
                        lambda root: {**digests(root), "(code)": "changed"})
    os.utime(edit)
    with pytest.raises(CodeChanged):
        watcher.step()


def _lines_of(process: subprocess.Popen) -> tuple[Queue, threading.Thread]:
    """The process's output lines as they come, and the thread reading them (it ends with
    the process)."""
    lines: Queue = Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def _wait_for(lines: Queue, text: str, seconds: float = 120.0) -> list[str]:
    """The lines up to the first holding ``text``."""
    seen, end = [], time.monotonic() + seconds
    while True:
        try:
            line = lines.get(timeout=max(0.0, end - time.monotonic()))
        except Empty:
            raise AssertionError(f"no {text!r} within {seconds} s: {seen}") from None
        seen.append(line)
        if text in line:
            return seen


def test_build_watch_builds_each_edit_until_sigterm(data_copy: Path, tmp_path: Path) -> None:
    out, full = tmp_path / "out", tmp_path / "full"
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "exomirkg", "--data-root", str(data_copy), "build", "--out",
         str(out), "--watch", "--interval", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, reader = _lines_of(process)
    try:
        assert any("(full: load" in line for line in _wait_for(lines, "watching\n"))
        section = data_copy / "triples" / "sections" / "s2-3-tam-mirnas.ttl"
        section.write_text(section.read_text(encoding="utf-8").replace(
            "ekg:quote", "ekg:quote", 1) + "\n# an edit\n", encoding="utf-8")
        _edit(random.Random(2), data_copy)
        assert any("(incremental: load" in line
                   for line in _wait_for(lines, "watching\n"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        assert "kept the state in" in "".join(_wait_for(lines, "kept the state", 10))
    finally:
        process.kill()
        process.wait()
        reader.join(10)
        process.stdout.close()
    _assert_same_build(out, _full_build(data_copy, full))


@pytest.mark.parametrize("args", [["--watch", "--no-validate"], ["--interval", "2"]])
def test_build_watch_options_that_do_not_go_together(data_copy: Path, tmp_path: Path, runner,
                                                     args: list[str]) -> None:
    done = runner.invoke(main, ["--data-root", str(data_copy), "build", "--out",
                                str(tmp_path / "out"), *args])
    assert done.exit_code == 2 and ("--no-validate" in done.output or "--watch" in done.output)
    assert not (tmp_path / "out").exists()


def test_a_watcher_keeps_a_statement_another_file_still_makes(data_copy: Path,
                                                              tmp_path: Path) -> None:
    """The shapes' store holds each statement once, whichever files make it: one file
    dropping it leaves it there while another still makes it."""
    out, full = tmp_path / "out", tmp_path / "full"
    watcher = Watcher(out, data_root=data_copy)
    assert watcher.step().report.conforms
    sections = data_copy / "triples" / "sections"
    caf, tam = sections / "s2-2-caf-mirnas.ttl", sections / "s2-3-tam-mirnas.ttl"
    caf_lines = read_ntriples(caf).decode().splitlines(True)
    quote = next(line for line in caf_lines if "/quote>" in line
                 and "most abundant stromal" in line)
    tam_text = read_ntriples(tam).decode()
    tam.write_text(tam_text + quote, encoding="utf-8")  # N-Triples: Turtle too
    assert watcher.step().report.conforms  # a second file makes the statement
    caf.write_text("".join(line for line in caf_lines if line != quote), encoding="utf-8")
    kept = watcher.step()
    assert kept.incremental and kept.report.conforms, kept.report.text
    _assert_same_files(out, _full_build(data_copy, full))
    tam.write_text(tam_text, encoding="utf-8")
    gone = watcher.step()
    assert gone.incremental and not gone.report.conforms
    statement = quote.split()[0].strip("<>").replace("https://w3id.org/exomirkg/", "ekg:")
    assert ("ekg:ReviewAssertionShape", statement) in {
        (result.rule, result.focus) for result in gone.report.violations}
    _assert_same_files(out, _full_build(data_copy, full))
