"""Build: load, reason, validate, and write build/exomirkg.trig, build/exomirkg.nt and the
ontology release files (:mod:`exomirkg.release`)."""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph

from exomirkg import __version__, paths
from exomirkg.canonical import Kept, write_canonical_dataset
from exomirkg.load import Sources, parse_sources
from exomirkg.namespaces import GRAPH_INFERRED
from exomirkg.reason import Inference, infer_into
from exomirkg.release import RELEASE_FILES, release_bytes, write_release
from exomirkg.store import file_sha256, graph_to_rdflib, return_freed_memory
from exomirkg.validate import (
    ShapesRun,
    ValidationReport,
    drop_statements,
    load_statements,
    validate_sources,
)

__all__ = [
    "BUILD_INFO",
    "NT_FILE",
    "TRIG_FILE",
    "BuildResult",
    "build",
    "build_dataset",
    "build_inputs",
    "code_files",
    "input_digests",
    "kept_of",
    "outputs_intact",
    "process_sources",
    "step",
    "up_to_date",
    "write_build",
]

#: File names inside the build folder.
TRIG_FILE = "exomirkg.trig"
NT_FILE = "exomirkg.nt"
BUILD_INFO = "build-info.json"


@dataclass
class BuildResult:
    """What a build produced.

    The build itself never makes rdflib objects (at 10^6 triples they cost more time and
    memory than every step together); :attr:`dataset` and :attr:`inferred` are made from
    the statements when a caller asks for them.
    """

    #: The asserted graphs as the files state them.
    sources: Sources
    #: The dataset with graph/inferred in pyoxigraph, as reasoned and checked.
    store: pyoxigraph.Store
    report: ValidationReport | None
    timings: dict[str, float]
    files: list[Path] = field(default_factory=list)
    #: The SHA-256 of the files and code it was built from (:func:`input_digests`).
    inputs: dict[str, str] = field(default_factory=dict)
    #: The ontology release's files, when made during reasoning (:func:`process_sources`).
    release: dict[str, bytes] | None = None
    #: What the reasoner did (with the lowest stratum's triples when asked for: the
    #: incremental build's state, :mod:`exomirkg.rebuild`); None if it did not run here.
    inference: Inference | None = None
    #: TriG blocks to write as they are, by graph (:func:`write_canonical_dataset`'s
    #: ``blocks``: the incremental build's unchanged graphs).
    blocks: dict[str, bytes] | None = None
    #: Where each graph's block lies in the TriG file written (:func:`write_build`).
    trig_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Graphs' lines as written (sorted, each once; no blank node), given by name in place
    #: of their text (graph/inferred's: not dumped from the store), and what the write
    #: keeps for the next (:class:`exomirkg.canonical.Kept`): the incremental build in one
    #: process (:class:`exomirkg.rebuild.Watcher`).
    lines: dict[str, list[bytes]] | None = None
    kept: Kept | None = None
    #: Triples per graph known already, not counted again (the incremental build's
    #: unchanged graphs: counting every graph took ~1 s of the write step at 10^6 triples).
    sizes: dict[str, int] | None = None
    #: Whether it was built from the last build's state (:mod:`exomirkg.rebuild`).
    incremental: bool = False

    @cached_property
    def inferred(self) -> Graph:
        """The reasoner's triples (graph/inferred) as an rdflib graph."""
        return graph_to_rdflib(self.store, pyoxigraph.NamedNode(str(GRAPH_INFERRED)))

    @cached_property
    def dataset(self) -> Dataset:
        """The asserted graphs and graph/inferred as an rdflib Dataset (union default graph)."""
        dataset = self.sources.to_rdflib()
        target = dataset.graph(GRAPH_INFERRED)
        target.addN((*triple, target) for triple in self.inferred)
        return dataset


def step(name: str, progress: Callable[[str], None] | None, timings: dict[str, float]):
    """A context that times a build step into ``timings[name]`` and reports it."""
    class _Timer:
        def __enter__(self):
            self.start = time.perf_counter()
            return self

        def __exit__(self, *exc):
            timings[name] = time.perf_counter() - self.start
            if progress and exc[0] is None:
                progress(f"{name:<9} {timings[name]:6.2f} s")

    return _Timer()


def build_dataset(
    data_root: Path | None = None,
    *,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
    keep_lowest: bool = False,
) -> BuildResult:
    """Read, reason and validate in memory; the inferred triples go into graph/inferred.

    :param data_root: folder holding ontology/ and triples/.
    :param validate: run the shapes and checks.
    :param progress: called with one line per step.
    :param keep_lowest: keep the lowest stratum's triples apart (:attr:`BuildResult.inference`).
    :returns: the statements, the store (asserted graphs plus graph/inferred) and the report.
    """
    timings: dict[str, float] = {}
    with step("load", progress, timings):
        # Digests first: a file edited while the build reads it makes the next build run.
        inputs = input_digests(data_root)
        sources = parse_sources(data_root)
    result = process_sources(sources, data_root=data_root, validate=validate,
                             progress=progress, timings=timings, keep_lowest=keep_lowest)
    result.inputs = inputs
    return result


def process_sources(
    sources: Sources,
    *,
    data_root: Path | None = None,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
    keep_lowest: bool = False,
) -> BuildResult:
    """The build's reason and validate steps on the statements read.

    :param data_root: where the rules, shapes and checks are, and the files results name.
    :param timings: step times so far, to which these steps' are added.
    :param keep_lowest: see :func:`build_dataset`.
    """
    timings = {} if timings is None else timings
    # One layout for every folder the build reads: rules, shapes and checks come from the
    # same root as the data (the shapes and checks once came from the checkout's).
    layout = paths.layout(data_root)
    with step("reason", progress, timings):
        # What reads only the files' statements runs in a thread while the reasoner works on
        # the other core: the shapes (in a store of their own, literals as written: started
        # first, while this thread loads the build's), then the checks of scope asserted on
        # the build's store. At 10^6 triples the build took 133 s with the shapes so, 160 s
        # with them after reasoning (same peak, the write step's); the asserted checks so
        # took another ~16 s off the validate step.
        # The ontology release reads only the asserted ontology and import graphs: it is
        # made in the same thread after them (4.4 s of the write step at 10^6 triples).
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-shapes")
        shapes = ShapesRun(sources, shapes_dir=layout.shapes_dir,
                           executor=worker) if validate else None
        # One pyoxigraph store serves reasoning, the checks and the release; the asserted
        # graphs' union, which the reasoner and the checks read, is loaded once.
        store = sources.load_into(pyoxigraph.Store())
        load_statements(store, [sources.ntriples()])
        if shapes is not None:
            shapes.start_checks(store, layout.checks_dir)
        release = worker.submit(release_bytes, store, __version__)
        worker.shutdown(wait=False)  # the thread ends with its tasks
        inference = infer_into(store, rules_dir=layout.rules_dir, loaded=True,
                               keep_lowest=keep_lowest)
    report = None
    if shapes is not None:
        # The time from the end of reasoning: what is left of the shapes, and the checks.
        with step("validate", progress, timings):
            report = validate_sources(sources, store, checks_dir=layout.checks_dir,
                                      data_root=data_root, shapes=shapes)
            drop_statements(store)
        del shapes
        return_freed_memory()
    else:
        drop_statements(store)
    return BuildResult(sources, store, report, timings, release=release.result(),
                       inference=inference)


def input_digests(data_root: Path | None = None) -> dict[str, str]:
    """The SHA-256 of every file a build reads (:func:`build_inputs`, by path relative to the
    data folder) and of the code that builds (``exomirkg/**/*.py``, as ``"(code)"``)."""
    root = (data_root or paths.DATA_ROOT).resolve()
    digests = {}
    for path in build_inputs(data_root):
        try:
            name = path.resolve().relative_to(root).as_posix()
        except ValueError:
            name = str(path)
        digests[name] = file_sha256(path)
    code = hashlib.sha256()
    for path in code_files():
        code.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    digests["(code)"] = code.hexdigest()
    return digests


_PACKAGE = Path(__file__).parent


def code_files() -> list[Path]:
    """The code that builds (``exomirkg/**/*.py``): a build's input as much as its data."""
    return sorted(_PACKAGE.rglob("*.py"))


def up_to_date(out: Path, data_root: Path | None = None, *, validate: bool = True) -> dict | None:
    """The build info of ``out`` when a build now would write what it holds, else None.

    That is when it was built from files and code with the same SHA-256 as now, every file
    it wrote is there (the data files with their SHA-256), and it passed validation (when
    ``validate``; a build that failed or skipped it is made again, to report). A build is
    deterministic (the same inputs give the same bytes: tests/test_cli.py), so nothing needs
    doing.
    """
    try:
        info = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or (validate and info.get("conforms") is not True):
        return None
    if info.get("inputs") != input_digests(data_root) or not outputs_intact(out, info):
        return None
    return info


def outputs_intact(out: Path, info: dict) -> bool:
    """Whether every file build info ``info`` lists is in ``out``, the data files with their
    SHA-256."""
    digests, files = info.get("sha256"), info.get("files")
    if not isinstance(digests, dict) or not isinstance(files, list):
        return False
    if not all((out / name).is_file() for name in files):
        return False
    return all(file_sha256(out / name) == digest for name, digest in digests.items())


def build_inputs(data_root: Path | None = None) -> list[Path]:
    """Every file a build reads: Turtle sources, rules, explanation queries, shapes, checks.

    A build output older than any of these is stale.
    """
    from exomirkg.load import source_files

    root = data_root or paths.DATA_ROOT
    inputs = [source.path for source in source_files(root)]
    for folder, pattern in (("ontology", "**/*.rq"), ("validation", "**/*.ttl"),
                            ("validation", "**/*.rq")):
        inputs += sorted((root / folder).glob(pattern))
    return inputs


def build(
    out_dir: Path | None = None,
    *,
    data_root: Path | None = None,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build and write ``exomirkg.trig`` (named graphs), ``exomirkg.nt`` (merged), the ontology
    release (``exomirkg.owl``, ``exomirkg-full.owl``, ``exomirkg.ttl``, ``exomirkg-full.ttl``,
    ``imports/*.owl``, ``catalog-v001.xml``) and build info.

    :param out_dir: output folder (default :data:`paths.BUILD_DIR`).
    :returns: the build result; files are written even when validation fails, so a curator
        can inspect them, and the caller decides the exit code.
    """
    result = build_dataset(data_root, validate=validate, progress=progress)
    write_build(result, out_dir or paths.BUILD_DIR, progress=progress)
    return result


def write_build(result: BuildResult, out: Path,
                progress: Callable[[str], None] | None = None,
                report: Future[ValidationReport] | None = None) -> list[Path]:
    """Write the build's files into ``out`` (the write step); also kept in ``result.files``.

    :param report: the report while it is being made (the incremental build validates
        beside the write): ``result.report`` once made, waited for before the build info.
    """
    timings = result.timings
    with step("write", progress, timings):
        out.mkdir(parents=True, exist_ok=True)
        # Canonical blank-node labels (RDFC-1.0) and sorted statements: a rebuild of the same
        # data writes the same bytes (the parser's labels are new on every run). The asserted
        # quads are the files' statements, not the store's, which keeps a number's value, not
        # its datatype ("2019"^^xsd:long would be written "2019"^^xsd:integer).
        trig, nt = out / TRIG_FILE, out / NT_FILE
        # What only pyoxigraph does (it releases the GIL) runs on the other core while the
        # files' lines are split and sorted: graph/inferred's N-Triples, then the counts
        # (1.3 s and 0.7 s of the write step at 10^6 triples).
        given = result.lines or {}
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-write") as worker:
            inferred = (None if str(GRAPH_INFERRED) in given
                        else worker.submit(_dump_graph, result.store, str(GRAPH_INFERRED)))
            names = [*map(str, result.sources.graphs), str(GRAPH_INFERRED)]
            known = dict(result.sizes or {})
            if str(GRAPH_INFERRED) in given:  # the store's triples, one line each
                known[str(GRAPH_INFERRED)] = len(given[str(GRAPH_INFERRED)])
            counted = worker.submit(_graph_sizes, result.store,
                                    [name for name in names if name not in known])
            graphs = ((name, given.get(name, text))
                      for name, text in result.sources.by_name().items())
            with _HashedFile(trig) as trig_file, _HashedFile(nt) as nt_file:
                result.trig_blocks = write_canonical_dataset(
                    _with_graph(graphs, str(GRAPH_INFERRED),
                                inferred or given[str(GRAPH_INFERRED)]),
                    trig_file, nt_file, blocks=result.blocks, kept=result.kept)
            counts = {**known, **counted.result()}
        if report is not None:
            result.report = report.result()
        # In load order, then graph/inferred, as the build always listed them.
        graphs = {name: counts[name] for name in names if counts.get(name)}
        info = {
            "version": __version__,
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "triples": sum(graphs.values()),
            "graphs": graphs,
            "conforms": None if result.report is None else result.report.conforms,
            "incremental": result.incremental,
            "sha256": {TRIG_FILE: trig_file.sha256, NT_FILE: nt_file.sha256},
            "timings": {k: round(v, 3) for k, v in timings.items()},
            # What it was built from: `exomirkg build` does nothing while these are unchanged.
            "inputs": result.inputs,
        }
        # The ontology release (exomirkg.owl, -full.owl, .ttl, -full.ttl), from the same
        # statements the server loads, so its files and the server's are the same bytes.
        released = write_release(result.store, __version__, out, result.release)
        info["sha256"].update({path.name: file_sha256(path) for path in released
                               if path.name in RELEASE_FILES})
        info["files"] = sorted(path.relative_to(out).as_posix() for path in [trig, nt, *released])
        (out / BUILD_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    result.files = [trig, nt, *(p for p in released if p.parent == out), out / BUILD_INFO]
    return result.files


def _dump_graph(store: pyoxigraph.Store, name: str) -> list[bytes]:
    """A named graph's N-Triples, in a list the reader empties (:func:`_with_graph`)."""
    return [store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                       from_graph=pyoxigraph.NamedNode(name)) or b""]


class _HashSink:
    """A file that keeps only the SHA-256 of what is written to it."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> int:
        self._hash.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def kept_of(graphs: Iterable[tuple[str, bytes]], inferred: bytes,
            sha256: dict[str, str]) -> Kept | None:
    """What a write of these graphs and graph/inferred keeps for the next write
    (:attr:`BuildResult.kept`), made without writing a file; None unless it would write the
    files whose SHA-256 ``sha256`` gives by name (build-info.json's: the build folder's).

    ``exomirkg build --watch`` makes it while it reads a build's state from disk, so that
    its first incremental write need not make its lines again in full (~3.5 s of that write
    at 10^6 triples).
    """
    kept = Kept()
    trig, union = _HashSink(), _HashSink()
    write_canonical_dataset([*graphs, (str(GRAPH_INFERRED), inferred)], trig, union, kept=kept)
    if (trig.sha256, union.sha256) != (sha256.get(TRIG_FILE), sha256.get(NT_FILE)):
        return None
    return kept


def _graph_sizes(store: pyoxigraph.Store, names: Iterable[str]) -> dict[str, int]:
    """Named graph IRI -> its number of triples, for the graphs named (the store may hold
    others: an incremental build's state)."""
    values = " ".join(f"<{name}>" for name in names)
    return {row["g"].value: int(row["n"].value) for row in store.query(
        f"SELECT ?g (COUNT(*) AS ?n) {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?g")}


def _with_graph(graphs: Iterable[tuple[str, bytes | list[bytes]]], name: str,
                text: Future[list[bytes]] | list[bytes]
                ) -> Iterator[tuple[str, bytes | list[bytes]]]:
    """``graphs``, then the graph ``name`` once its text is made; the text is taken out of the
    future's list, so that the reader holds the only reference (graph/inferred's 0.12 GB
    at 10^6 triples is dropped once split, not at the end of the step). Or its lines, given
    (:attr:`BuildResult.lines`)."""
    yield from graphs
    yield name, text if isinstance(text, list) else text.result().pop()


class _HashedFile:
    """A file written from a thread of its own, its SHA-256 taken as it is written: the
    copies into the page cache and the hashing (the GIL released for both) overlap the
    serialisation, where they cost ~1.2 s of the write step at 10^6 triples, and the file
    is not read back to hash it."""

    #: Writes queued at most; beyond it the caller waits for the oldest.
    _PENDING = 64

    def __init__(self, path: Path) -> None:
        # An existing file is written over and cut to size at the end, not emptied first:
        # writing into its pages took 0.05 s for 267 MB, emptying and writing it 0.22 s.
        self._file = path.open("r+b" if path.is_file() else "wb")
        self._hash = hashlib.sha256()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exomirkg-file")
        self._pending: deque[Future[None]] = deque()
        self.sha256 = ""

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)

    def write(self, data: bytes | memoryview) -> int:
        # A copy: the caller may reuse its buffer (pyoxigraph's writer does).
        self._pending.append(self._thread.submit(self._write, bytes(data)))
        if len(self._pending) > self._PENDING:
            self._pending.popleft().result()
        return len(data)

    def flush(self) -> None:
        pass

    def __enter__(self) -> _HashedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.shutdown(wait=True)
        self._file.truncate()
        self._file.close()
        for written in self._pending:
            written.result()  # an error writing is raised here
        self.sha256 = self._hash.hexdigest()
