"""The incremental build (issue 17, point 3): what ``exomirkg build`` runs.

After a full build the build folder keeps a state (:data:`STATE_DIR`). When only data files
changed since (sections, entity files, the review: not the ontology, its imports, the rules,
shapes, checks or code, and no file added or removed), the next build reads just those files,
updates the inferred triples (:meth:`exomirkg.incremental.Levels.update`), validates the focus
nodes the change can reach (:func:`exomirkg.validate.validate_change`, the other results kept
from the last report) and writes the build's files. Anything else is a full build, which is
also the reference: the incremental build writes the same bytes (tests/test_rebuild.py).

The state, in ``<build>/.incremental/``:

- ``graphs/<n>.nt``: each asserted graph's N-Triples as its file states them, in load order;
- ``lowest.nt``, ``higher.nt``: graph/inferred, the lowest stratum's triples and the higher
  strata's (:class:`exomirkg.incremental.Levels`);
- ``report.json``: the last validation report (:meth:`ValidationReport.as_record`);
- ``state.json``: the inputs' SHA-256 it stands for (build-info.json's), the TriG's SHA-256
  (the build it belongs to), the graphs, and the OWL 2 RL data rules compiled from the schema.

``state.json`` is removed before a build writes anything and written last, so a build that
stops half-way leaves no state, and the next build is a full one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from rdflib import URIRef

from exomirkg import paths, shacl_sparql
from exomirkg.build import (
    BUILD_INFO,
    NT_FILE,
    TRIG_FILE,
    BuildResult,
    build_dataset,
    input_digests,
    outputs_intact,
    step,
    write_build,
)
from exomirkg.canonical import canonical_lines
from exomirkg.incremental import INFERRED, Levels, higher_part
from exomirkg.load import Sources, read_ntriples, source_files
from exomirkg.owl_rules import DataRule
from exomirkg.reason import load_rules
from exomirkg.report import ValidationReport
from exomirkg.validate import drop_statements, validate_change

__all__ = ["STATE_DIR", "build"]

#: The state's folder inside the build folder.
STATE_DIR = ".incremental"
_STATE = "state.json"
_FORMAT = 2  # of state.json; another is not read


@dataclass
class _State:
    """A state that can take the change: the graphs' N-Triples (load order) and the files
    that changed, by graph."""

    record: dict
    graphs: dict[str, bytes]
    changed: dict[str, Path]
    inputs: dict[str, str]
    files: list[str]


def build(out: Path | None = None, *, data_root: Path | None = None, validate: bool = True,
          full: bool = False, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build into ``out``: incrementally when its state allows (see the module docstring),
    else in full; keep the state for the next build (validated builds only).

    :param full: build in full whatever the state.
    :returns: the build result (:attr:`BuildResult.incremental` says which build it was).
    """
    out = out or paths.BUILD_DIR
    state_dir = out / STATE_DIR
    state = None if full or not validate else _usable(out, data_root)
    (state_dir / _STATE).unlink(missing_ok=True)
    result = None
    if state is not None:
        result = _update(state, out, data_root, progress)
    if result is None:
        if progress and state is not None:
            progress("incremental: a blank node in a changed graph; building in full")
        result = build_dataset(data_root, validate=validate, progress=progress,
                               keep_lowest=validate)
        write_build(result, out, progress=progress)
        inference = result.inference
        if not validate or inference is None or inference.lowest is None \
                or inference.data_rules is None:
            shutil.rmtree(state_dir, ignore_errors=True)
            return result
        higher = higher_part(result.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                                               from_graph=INFERRED) or b"", inference.lowest)
        shutil.rmtree(state_dir, ignore_errors=True)
        _save(out, result, result.sources.by_name(), inference.lowest, higher,
              inference.data_rules)
    return result


def _usable(out: Path, data_root: Path | None) -> _State | None:
    """The state of ``out`` if it can take what changed since: only data files changed, the
    build folder holds the build the state belongs to."""
    state_dir = out / STATE_DIR
    try:
        record = json.loads((state_dir / _STATE).read_text(encoding="utf-8"))
        info = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != _FORMAT \
            or not isinstance(info, dict) or info.get("conforms") is None \
            or record.get("trig") != info.get("sha256", {}).get(TRIG_FILE) \
            or not outputs_intact(out, info):
        return None
    inputs = input_digests(data_root)
    before = record.get("inputs", {})
    if set(inputs) != set(before):
        return None  # a file added or removed: its graph would be new or gone
    changed = {name for name, digest in inputs.items() if before[name] != digest}
    root = (data_root or paths.DATA_ROOT).resolve()
    graph_of = {}
    for source in source_files(data_root):
        try:
            graph_of[source.path.resolve().relative_to(root).as_posix()] = source
        except ValueError:
            graph_of[str(source.path)] = source
    # Data files only: a change of the ontology or its imports changes the data rules, one
    # of the rules, shapes, checks or code what a full build gives.
    if any(name not in graph_of or name.startswith("ontology/") for name in changed):
        return None
    names = [name for name, _file in record["graphs"]]
    if any(str(graph_of[name].graph) not in names for name in changed):
        return None
    graphs = {name: (state_dir / "graphs" / file).read_bytes()
              for name, file in record["graphs"]}
    return _State(record, graphs,
                  {str(graph_of[name].graph): graph_of[name].path for name in changed},
                  inputs, info["files"])


def _update(state: _State, out: Path, data_root: Path | None,
            progress: Callable[[str], None] | None) -> BuildResult | None:
    """The incremental build; None where a full build must run (a blank node in a changed
    graph: its labels are each parse's own)."""
    timings: dict[str, float] = {}
    layout = paths.layout(data_root)
    state_dir = out / STATE_DIR
    with step("load", progress, timings):
        if progress:
            progress(f"incremental: {len(state.changed)} changed file(s)")
        new = {name: read_ntriples(path) for name, path in state.changed.items()}
        if any(b"_:" in text for text in [*new.values(),
                                          *(state.graphs[name] for name in new)]):
            return None
        graphs = {name: new.get(name, text) for name, text in state.graphs.items()}
        # The shapes engine's store of the statements after the change, made meanwhile on
        # the other core (4 s at 10^6 triples).
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-shapes")
        shapes_store = worker.submit(shacl_sparql.shapes_store, list(graphs.values()))
        worker.shutdown(wait=False)
        data_rules = [DataRule.from_record(rule) for rule in state.record["data_rules"]]
        store = pyoxigraph.Store()
        levels = Levels.restore(store, state.graphs, (state_dir / "lowest.nt").read_bytes(),
                                (state_dir / "higher.nt").read_bytes(),
                                load_rules(layout.rules_dir), data_rules)
        previous = ValidationReport.from_record(
            json.loads((state_dir / "report.json").read_text(encoding="utf-8")))
    with step("reason", progress, timings):
        change = levels.update(new)
        lowest, higher = levels.settle()
    sources = Sources({URIRef(name): text for name, text in graphs.items()})
    with step("validate", progress, timings):
        written_added, written_removed = b"", b""
        for name, text in new.items():
            before = set(state.graphs[name].splitlines(keepends=True))
            after = set(text.splitlines(keepends=True))
            written_added += b"".join(sorted(after - before))
            written_removed += b"".join(sorted(before - after))
        report = validate_change(
            previous, sources, store, written=(written_added, written_removed),
            asserted=(_text(change.asserted_added), _text(change.asserted_removed)),
            inferred=(_text(change.inferred_added), _text(change.inferred_removed)),
            shapes_dir=layout.shapes_dir, checks_dir=layout.checks_dir, data_root=data_root,
            shapes_store=shapes_store.result())
        drop_statements(store)
    # The ontology and its imports did not change: nor did the release's files, nor the
    # TriG blocks of the graphs that did not change and hold no blank node.
    release = {name: (out / name).read_bytes() for name in state.files
               if name not in (TRIG_FILE, NT_FILE)}
    trig = (out / TRIG_FILE).read_bytes()
    blocks = {name: trig[start:end] for name, (start, end) in state.record["blocks"].items()
              if name in graphs and name not in new and b"_:" not in graphs[name]}
    del trig
    result = BuildResult(sources, store, report, timings, inputs=state.inputs,
                         release=release, blocks=blocks, incremental=True)
    write_build(result, out, progress=progress)
    _save(out, result, graphs, lowest, higher, levels.data_rules, changed=set(new))
    return result


def _text(lines: frozenset[str]) -> bytes:
    return "".join(sorted(lines)).encode("utf-8")


def _save(out: Path, result: BuildResult, graphs: dict[str, bytes], lowest: bytes,
          higher: bytes, data_rules: list[DataRule], changed: set[str] | None = None) -> None:
    """Write the state of the build in ``out`` (``changed``: only these graphs' files; None:
    all); state.json last."""
    state_dir = out / STATE_DIR
    folder = state_dir / "graphs"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index, (name, text) in enumerate(graphs.items()):
        file = f"{index:05d}.nt"
        names.append((name, file))
        if changed is None or name in changed:
            # A graph without blank nodes as the write step orders it (sorted, each line
            # once): the next write sorts it in one pass and may take its TriG block as it is.
            (folder / file).write_bytes(text if b"_:" in text
                                        else b"".join(canonical_lines(text.splitlines(True))))
    (state_dir / "lowest.nt").write_bytes(lowest)
    (state_dir / "higher.nt").write_bytes(higher)
    assert result.report is not None
    (state_dir / "report.json").write_text(json.dumps(result.report.as_record()),
                                           encoding="utf-8")
    info = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))
    record = {"format": _FORMAT, "inputs": result.inputs,
              "trig": info["sha256"][TRIG_FILE], "graphs": names,
              "blocks": {name: list(span) for name, span in result.trig_blocks.items()},
              "data_rules": [rule.as_record() for rule in data_rules]}
    (state_dir / _STATE).write_text(json.dumps(record), encoding="utf-8")
