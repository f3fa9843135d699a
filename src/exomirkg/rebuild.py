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

``exomirkg build --watch`` (:class:`Watcher`) keeps the state in memory between builds: it
builds when an input changes, without restoring the state (10-14 s at 10^6 triples) or
saving it (~3 s) each time; the state is saved when it stops.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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
    build_inputs,
    code_files,
    input_digests,
    kept_of,
    outputs_intact,
    step,
    write_build,
)
from exomirkg.canonical import Kept, canonical_lines, moved_lines
from exomirkg.incremental import INFERRED, Change, Levels, higher_part
from exomirkg.load import DataFileError, Sources, read_ntriples, source_files
from exomirkg.namespaces import GRAPH_INFERRED
from exomirkg.owl_rules import DataRule
from exomirkg.reason import load_rules
from exomirkg.report import ValidationReport
from exomirkg.validate import (
    asserted_checks,
    drop_statements,
    shapes_change,
    validate_change,
)

__all__ = ["STATE_DIR", "CodeChanged", "Watcher", "build"]

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


@dataclass
class _Live:
    """The state of the last build, held in memory (:class:`Watcher`): its store as
    :class:`Levels` left it, the graphs' N-Triples, its report and ``state.json``'s record."""

    levels: Levels
    graphs: dict[str, bytes]
    report: ValidationReport
    record: dict
    inputs: dict[str, str]
    files: list[str]
    #: The shapes engine's store of the graphs (:func:`shacl_sparql.shapes_store`).
    shapes: pyoxigraph.Store
    #: The last build's result, for :func:`_save`; None while it is the state on disk.
    result: BuildResult | None = None
    #: The graphs changed since the state on disk.
    unsaved: set[str] = field(default_factory=set)
    #: What the last write kept for the next (:class:`exomirkg.canonical.Kept`).
    kept: Kept | None = None
    #: What the build on disk would keep, while it is made (:func:`_prefetch_kept`).
    prefetched: Future[Kept | None] | None = None
    #: The build folder's files as the last write left them (mtime and size, by path):
    #: read back unhashed while they still are so (:func:`_read_back_intact`).
    written: dict[Path, tuple[int, int]] = field(default_factory=dict)


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


def _usable(out: Path, data_root: Path | None,
            inputs: dict[str, str] | None = None) -> _State | None:
    """The state of ``out`` if it can take what changed since: only data files changed, the
    build folder holds the build the state belongs to.

    :param inputs: the inputs' digests now, if taken already (:func:`input_digests`).
    """
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
    inputs = inputs or input_digests(data_root)
    changed = _changed(record.get("inputs", {}), inputs,
                       [name for name, _file in record["graphs"]], data_root)
    if changed is None:
        return None
    graphs = {name: (state_dir / "graphs" / file).read_bytes()
              for name, file in record["graphs"]}
    return _State(record, graphs, changed, inputs, info["files"])


def _changed(before: dict[str, str], inputs: dict[str, str], graphs: list[str],
             data_root: Path | None) -> dict[str, Path] | None:
    """The files whose digest differs from ``before`` by graph, if they are data files of
    the state's ``graphs`` (else None: a full build)."""
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
    if any(str(graph_of[name].graph) not in graphs for name in changed):
        return None
    return {str(graph_of[name].graph): graph_of[name].path for name in changed}


def _update(state: _State, out: Path, data_root: Path | None,
            progress: Callable[[str], None] | None, live: _Live | None = None,
            new: dict[str, bytes] | None = None) -> BuildResult | None:
    """The incremental build; None where a full build must run (a blank node in a changed
    graph: its labels are each parse's own).

    :param live: the state in memory (:class:`Watcher`), which the build then moves on:
        nothing is restored or saved (else the state is read from ``out`` and saved there).
    :param new: the changed graphs' N-Triples, if read already.
    """
    timings: dict[str, float] = {}
    layout = paths.layout(data_root)
    with step("load", progress, timings):
        if progress:
            progress(f"incremental: {len(state.changed)} changed file(s)")
        if new is None:
            new = {name: read_ntriples(path) for name, path in state.changed.items()}
        if any(b"_:" in text for text in [*new.values(),
                                          *(state.graphs[name] for name in new)]):
            if progress:
                progress("incremental: a blank node in a changed graph; building in full")
            return None
        if live is not None and not _read_back_intact(out, live.written):
            if progress:
                progress("incremental: the build folder's files changed; building in full")
            return None
        graphs = {name: new.get(name, text) for name, text in state.graphs.items()}
        written_added, written_removed = _written(state.graphs, new)
        # The shapes run on the other core while the reasoner works: they read their own
        # store of the statements after the change (the one in memory changed, or one made
        # there first: 4-5 s at 10^6 triples), and nothing the reasoner writes.
        written = (written_added, written_removed)
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-shapes")
        if live is not None:
            shacl_sparql.change_shapes_store(
                live.shapes, written_added,
                _unstated(live.levels.store, written_removed, graphs, new))
            shapes = worker.submit(shapes_change, live.shapes, written, layout.shapes_dir)
            levels, previous = live.levels, live.report
        else:
            # Their store is made there from the texts, and let go once they ran.
            shapes = worker.submit(shapes_change, list(graphs.values()), written,
                                   layout.shapes_dir)
            levels, previous = _restore(state, out, data_root)
    store = levels.store
    # After the shapes, on the same core: the checks of the asserted triples, once the
    # reasoner's view of them is final (duplicate-label on an edit's classes, 0.7-1.0 s at
    # 10^6 triples, the others 0.1-0.5 s). Not after a restore: there the shapes' store is
    # made first (4-5 s), longer than the update, and they run beside the others as before.
    ran: list[Future[dict]] = []

    def asserted(statements: list[pyoxigraph.NamedNode], added: frozenset[str],
                 removed: frozenset[str]) -> None:
        ran.append(worker.submit(asserted_checks, store, statements,
                                 (_text(added), _text(removed)), layout.checks_dir))

    with step("reason", progress, timings):
        try:
            change = levels.update(new, on_asserted=asserted if live is not None else None)
        finally:
            worker.shutdown(wait=False)
        if live is None:
            lowest, higher = levels.settle()
    sources = Sources({URIRef(name): text for name, text in graphs.items()})

    def validated() -> ValidationReport:
        with step("validate", progress, timings):
            report = validate_change(
                previous, sources, store, written=written,
                asserted=(_text(change.asserted_added), _text(change.asserted_removed)),
                inferred=(_text(change.inferred_added), _text(change.inferred_removed)),
                shapes_dir=layout.shapes_dir, checks_dir=layout.checks_dir,
                data_root=data_root, shapes=shapes.result(),
                ran=None if change.full or not ran else ran[0].result())
            if live is None:
                drop_statements(store)  # a graph the write does not read
        return report

    # The checks run beside the write, which reads the store and never changes it: at 10^6
    # triples the checks take ~0.8 s on two threads (more after a restore, where the asserted
    # ones did not run during the update), the write ~1.2 s.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-validate") as worker:
        report = worker.submit(validated)
        # The ontology and its imports did not change: nor did the release's files, nor the
        # TriG blocks of the graphs that did not change and hold no blank node, nor their
        # sizes.
        release = {name: (out / name).read_bytes() for name in state.files
                   if name not in (TRIG_FILE, NT_FILE)}
        trig = (out / TRIG_FILE).read_bytes()
        blocks = {name: trig[start:end] for name, (start, end) in state.record["blocks"].items()
                  if name in graphs and name not in new and b"_:" not in graphs[name]}
        del trig
        sizes = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))["graphs"]
        result = BuildResult(sources, store, None, timings, inputs=state.inputs,
                             release=release, blocks=blocks, incremental=True,
                             sizes={name: size for name, size in sizes.items()
                                    if name in graphs and name not in new})
        if live is not None:
            if live.kept is None and live.prefetched is not None:
                live.kept, live.prefetched = live.prefetched.result(), None
            result.kept = live.kept or Kept()
            if live.kept is not None:
                result.lines = _kept_lines(live.kept, graphs, new, change)
        write_build(result, out, progress=progress, report=report)
        report = result.report
    if live is None:
        _save(out, result, graphs, lowest, higher, levels.data_rules, changed=set(new))
    else:
        live.graphs, live.report, live.inputs, live.result = graphs, report, state.inputs, result
        live.record = {**live.record, "blocks": result.trig_blocks}
        live.unsaved |= set(new)
        live.kept = result.kept
        live.written = _stats(result.files)
    return result


def _kept_lines(kept: Kept, graphs: dict[str, bytes], new: dict[str, bytes],
                change: Change) -> dict[str, list[bytes]]:
    """The graphs' lines as the last write wrote them where they did not change, and
    graph/inferred's as the change moves them (graphs without a blank node: another
    graph's may move their labels): at 10^6 triples dumping graph/inferred from the store
    and sorting it took ~1.5 s of the write step.

    Where graph/inferred is moved so, no statement with a blank node changed (a changed
    graph holding one is built in full): the graphs holding one keep their lines too, as
    their labels follow those statements alone (labelling them again took ~0.3 s)."""
    inferred = str(GRAPH_INFERRED)
    moved = [*change.inferred_added, *change.inferred_removed]
    if inferred in kept.lines and inferred not in kept.blank \
            and not any(line.startswith("_:") or " _:" in line for line in moved):
        lines = {name: kept.lines[name] for name in graphs
                 if name in kept.lines and name not in new}
        gone = [line.encode() for line in change.inferred_removed]
        added = [line.encode() for line in change.inferred_added]
        lines[inferred] = moved_lines(kept.lines[inferred], gone, added)
        kept.moved[inferred] = (added, gone)
        return lines
    return {name: kept.lines[name] for name in graphs
            if name in kept.lines and name not in new and name not in kept.blank}


def _stats(files: list[Path]) -> dict[Path, tuple[int, int]]:
    """The files' modification times (ns) and sizes."""
    return {path: (info.st_mtime_ns, info.st_size)
            for path, info in ((path, path.stat()) for path in files)}


def _read_back_intact(out: Path, written: dict[Path, tuple[int, int]] | None = None
                      ) -> bool:
    """Whether the files an incremental build reads back from ``out`` (the TriG's unchanged
    blocks, the release files) are those the last build wrote: build info's SHA-256 (the
    merged N-Triples file, rewritten whole, aside: 0.26 s of 0.3 s at 10^6 triples), unless
    every file is as this process's last write left it (``written``; hashing the TriG took
    0.065 s at 10^6 triples)."""
    try:
        if written and _stats(list(written)) == written:
            return True
        info = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))
        return outputs_intact(out, {
            "sha256": {name: digest for name, digest in info["sha256"].items()
                       if name != NT_FILE},
            "files": [name for name in info["files"] if name != NT_FILE]})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _written(graphs: dict[str, bytes], new: dict[str, bytes]) -> tuple[bytes, bytes]:
    """The N-Triples lines the changed graphs' files state and did not, and those they no
    longer state (sorted, each graph's in turn)."""
    added, removed = b"", b""
    for name, text in new.items():
        before = set(graphs[name].splitlines(keepends=True))
        after = set(text.splitlines(keepends=True))
        added += b"".join(sorted(after - before))
        removed += b"".join(sorted(before - after))
    return added, removed


def _unstated(store: pyoxigraph.Store, removed: bytes, graphs: dict[str, bytes],
              new: dict[str, bytes]) -> bytes:
    """Of the lines some changed graphs no longer state, those no graph states (the
    shapes' store holds each line once, whichever graphs state it).

    The store (the graphs as loaded, with their literals' values) names the other graphs
    holding a triple of the line's subject and predicate; their lines are read for the
    line itself, as written. At 10^6 triples that is a query and a graph or two, not a
    search of 130 MB of lines.
    """
    lines = set(removed.splitlines(keepends=True))
    for text in new.values():
        lines -= set(text.splitlines(keepends=True))
    if not lines:
        return b""
    pairs = {tuple(line.split(b" ", 2)[:2]) for line in lines}
    values = " ".join(f"({s.decode()} {p.decode()})" for s, p in pairs)
    holders = {row[0].value for row in store.query(
        f"SELECT DISTINCT ?g {{ VALUES (?s ?p) {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")}
    for name in holders.intersection(graphs).difference(new):
        lines -= set(graphs[name].splitlines(keepends=True))
    return b"".join(sorted(lines))


def _parts(out: Path) -> tuple[bytes, bytes]:
    """The lowest stratum's triples and the higher strata's, as the state in ``out`` keeps
    them (:meth:`Levels.parts`)."""
    state_dir = out / STATE_DIR
    return (state_dir / "lowest.nt").read_bytes(), (state_dir / "higher.nt").read_bytes()


def _restore(state: _State, out: Path, data_root: Path | None, *, published: bool = False,
             parts: tuple[bytes, bytes] | None = None) -> tuple[Levels, ValidationReport]:
    """The state's store (:meth:`Levels.restore`: ``published`` for a state that stays in
    memory) and its report, from ``out`` (``parts``: :func:`_parts`, if read already)."""
    state_dir = out / STATE_DIR
    data_rules = [DataRule.from_record(rule) for rule in state.record["data_rules"]]
    lowest, higher = parts or _parts(out)
    levels = Levels.restore(pyoxigraph.Store(), state.graphs, lowest, higher,
                            load_rules(paths.layout(data_root).rules_dir), data_rules,
                            published=published)
    return levels, ValidationReport.from_record(
        json.loads((state_dir / "report.json").read_text(encoding="utf-8")))


#: Nanoseconds within which two writes of a file may get the same modification time (the
#: kernel stamps files from a clock that moves by a tick, 1-10 ms), with a margin.
_TICK = 50_000_000


class CodeChanged(Exception):
    """The code changed while a :class:`Watcher` ran: it runs the code it started with."""


def _stamp(data_root: Path | None) -> dict[str, tuple[int, int]]:
    """Each input's (and code file's) modification time and size: no file is read."""
    stamp = {}
    for path in [*build_inputs(data_root), *code_files()]:
        try:
            info = path.stat()
        except OSError:  # removed meanwhile: the next look sees it gone
            continue
        stamp[str(path)] = (info.st_mtime_ns, info.st_size)
    return stamp


class Watcher:
    """``exomirkg build --watch``: build, then build again whenever an input changes, the
    state held in memory between builds (:func:`_update` with ``live``); :meth:`close`
    saves it into the build folder, for the next build.

    A change the state cannot take (the ontology, a rule, a file added or removed, a blank
    node in a changed graph) is built in full and the state restored from that build. A
    changed data file that cannot be read is reported and nothing is built or changed until
    an input changes again.
    """

    def __init__(self, out: Path, *, data_root: Path | None = None, full: bool = False,
                 progress: Callable[[str], None] | None = None) -> None:
        """:param full: make the first build a full one (``--force``)."""
        self.out = out
        self.data_root = data_root
        self.full = full
        self.progress = progress or (lambda _message: None)
        self._live: _Live | None = None
        self._stamp: dict[str, tuple[int, int]] | None = None
        self._racy = False
        #: The inputs' digests at the last step that looked at them.
        self._seen: dict[str, str] | None = None

    def step(self) -> BuildResult | None:
        """Build if an input changed since the last step (the first step builds unless the
        build folder holds the build of these inputs); the build's result, or None.

        :raises CodeChanged: the code changed since the first step.
        """
        stamp = _stamp(self.data_root)
        if stamp == self._stamp and not self._racy:
            return None
        # A file written within a clock tick of the look may be written again unseen (the
        # same time and size): the next step reads the files whatever their stamp says.
        racy_after = time.time_ns() - _TICK
        self._stamp, self._racy = stamp, any(when >= racy_after for when, _size in stamp.values())
        inputs = input_digests(self.data_root)
        if inputs == self._seen:
            return None  # touched, not changed
        if self._seen is not None and inputs["(code)"] != self._seen["(code)"]:
            raise CodeChanged
        self._seen = inputs
        try:
            return self._build(inputs)
        except DataFileError as error:
            self.progress(f"not built: {error}")
            return None

    def _build(self, inputs: dict[str, str]) -> BuildResult | None:
        if self._live is None and not self.full:
            self._live = self._restored(inputs)
        live = self._live
        if live is not None:
            changed = _changed(live.inputs, inputs, list(live.graphs), self.data_root)
            if changed == {}:
                return None  # the build folder holds the build of these inputs
            if changed is not None:
                # Read before anything changes: a file that does not parse leaves it all.
                new = {name: read_ntriples(path) for name, path in changed.items()}
                (self.out / STATE_DIR / _STATE).unlink(missing_ok=True)
                self._live = None  # until the build is done: one that fails leaves none
                result = _update(_State(live.record, live.graphs, changed, inputs, live.files),
                                 self.out, self.data_root, self.progress, live=live, new=new)
                if result is not None:
                    self._live = live
                    return result
        self._live = None
        result = build(self.out, data_root=self.data_root, full=True, progress=self.progress)
        self.full = False
        self._live = self._restored(inputs)
        return result

    def _restored(self, inputs: dict[str, str]) -> _Live | None:
        """The state the build folder holds, if usable, in memory."""
        state = _usable(self.out, self.data_root, inputs)
        if state is None:
            return None
        # The shapes' store on the other core meanwhile (4-5 s at 10^6 triples): the first
        # build after changes it, as the others do. Then what the build's write kept
        # (:func:`_prefetch_kept`), made from the files while the store loads and after.
        parts = _parts(self.out)  # read once, for both
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-restore")
        try:
            shapes = worker.submit(shacl_sparql.shapes_store, list(state.graphs.values()))
            kept = worker.submit(_prefetch_kept, self.out, state.graphs, parts)
            levels, report = _restore(state, self.out, self.data_root, published=True,
                                      parts=parts)
            live = _Live(levels, state.graphs, report, state.record, state.record["inputs"],
                         state.files, shapes=shapes.result(), prefetched=kept)
        except BaseException:
            worker.shutdown(wait=False, cancel_futures=True)
            raise
        # Not waiting for the kept lines: the first build waits for them if it comes first.
        worker.shutdown(wait=False)
        return live

    def close(self) -> bool:
        """Save the state held in memory into the build folder; whether it had changed."""
        live = self._live
        if live is None or live.result is None:
            return False
        lowest, higher = live.levels.parts()
        _save(self.out, live.result, live.graphs, lowest, higher, live.levels.data_rules,
              changed=live.unsaved)
        live.result, live.unsaved = None, set()
        return True


def _prefetch_kept(out: Path, graphs: dict[str, bytes], parts: tuple[bytes, bytes]
                   ) -> Kept | None:
    """What the write of the build in ``out`` kept for the next write, made again from its
    state (``parts``, :func:`_parts`: graph/inferred is the lowest stratum's triples and the
    higher strata's): the first write after a watcher reads the state from disk then takes
    its lines as the later writes do (at 10^6 triples that write took ~4.6 s, the later ones
    ~1.1 s). None when the state does not give the build's files (then that write makes them
    in full, as before)."""
    try:
        sha256 = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError):  # changed meanwhile: the write makes them
        return None
    inferred = b"".join(part if part.endswith(b"\n") or not part else part + b"\n"
                        for part in parts)
    return kept_of(graphs.items(), inferred, sha256)


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
