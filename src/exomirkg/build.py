"""Build: load, reason, validate, and write build/exomirkg.trig, build/exomirkg.nt and the
ontology release files (:mod:`exomirkg.release`)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph
from rdflib import Dataset, Graph

from exomirkg import __version__, paths
from exomirkg.canonical import canonical_dataset_files
from exomirkg.load import load_dataset
from exomirkg.namespaces import GRAPH_INFERRED
from exomirkg.reason import infer_into
from exomirkg.release import RELEASE_FILES, write_release
from exomirkg.store import dataset_nquads, dataset_to_store, graph_to_rdflib
from exomirkg.validate import ValidationReport, validate_dataset

__all__ = [
    "BUILD_INFO",
    "NT_FILE",
    "TRIG_FILE",
    "BuildResult",
    "build",
    "build_dataset",
    "build_inputs",
    "process_dataset",
    "write_build",
]

#: File names inside the build folder.
TRIG_FILE = "exomirkg.trig"
NT_FILE = "exomirkg.nt"
BUILD_INFO = "build-info.json"


@dataclass
class BuildResult:
    """What a build produced."""

    dataset: Dataset
    inferred: Graph
    report: ValidationReport | None
    timings: dict[str, float]
    files: list[Path]
    #: The dataset with graph/inferred in pyoxigraph, as reasoned and checked.
    store: pyoxigraph.Store


def _step(name: str, progress: Callable[[str], None] | None, timings: dict[str, float]):
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
) -> BuildResult:
    """Load, reason and validate in memory; the inferred triples go into graph/inferred.

    :param data_root: folder holding ontology/ and triples/.
    :param validate: run the shapes and checks.
    :param progress: called with one line per step.
    :returns: the dataset (asserted graphs plus graph/inferred) and the report.
    """
    timings: dict[str, float] = {}
    with _step("load", progress, timings):
        dataset = load_dataset(data_root)
    return process_dataset(dataset, data_root=data_root, validate=validate, progress=progress,
                           timings=timings)


def process_dataset(
    dataset: Dataset,
    *,
    data_root: Path | None = None,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
) -> BuildResult:
    """The build's reason and validate steps on a loaded dataset (the growth benchmark's
    synthetic graphs go through these very steps).

    :param data_root: where the rules, shapes and checks are, and the files results name.
    :param timings: step times so far, to which these steps' are added.
    """
    timings = {} if timings is None else timings
    # One layout for every folder the build reads: rules, shapes and checks come from the
    # same root as the data (the shapes and checks once came from the checkout's).
    layout = paths.layout(data_root)
    with _step("reason", progress, timings):
        # One pyoxigraph copy of the dataset serves reasoning, the checks and the release.
        store = dataset_to_store(dataset)
        infer_into(store, str(GRAPH_INFERRED), rules_dir=layout.rules_dir)
        inferred = graph_to_rdflib(store, pyoxigraph.NamedNode(str(GRAPH_INFERRED)))
    report = None
    if validate:
        with _step("validate", progress, timings):
            report = validate_dataset(dataset, inferred, shapes_dir=layout.shapes_dir,
                                      checks_dir=layout.checks_dir, data_root=data_root,
                                      store=store)
    # Only now: the checks name an inferred node's file from the asserted graphs.
    target = dataset.graph(GRAPH_INFERRED)
    target.addN((*triple, target) for triple in inferred)
    return BuildResult(dataset, inferred, report, timings, [], store)


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
                progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the build's files into ``out`` (the write step); also kept in ``result.files``."""
    timings = result.timings
    with _step("write", progress, timings):
        out.mkdir(parents=True, exist_ok=True)
        # Canonical blank-node labels (RDFC-1.0) and sorted statements: a rebuild of the same
        # data writes the same bytes (rdflib's labels were new on every run). The quads come
        # from rdflib's terms, not the store, which keeps a number's value, not its datatype
        # ("2019"^^xsd:long would be written "2019"^^xsd:integer).
        trig_bytes, nt_bytes = canonical_dataset_files(dataset_nquads(result.dataset))
        trig = out / TRIG_FILE
        trig.write_bytes(trig_bytes)
        nt = out / NT_FILE
        nt.write_bytes(nt_bytes)
        graphs = {
            str(g.identifier): len(g)
            for g in result.dataset.graphs()
            if len(g) and str(g.identifier) != "urn:x-rdflib:default"
        }
        info = {
            "version": __version__,
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "triples": sum(graphs.values()),
            "graphs": graphs,
            "conforms": None if result.report is None else result.report.conforms,
            "sha256": {TRIG_FILE: _sha256(trig), NT_FILE: _sha256(nt)},
            "timings": {k: round(v, 3) for k, v in timings.items()},
        }
        # The ontology release (exomirkg.owl, -full.owl, .ttl, -full.ttl), from the same
        # statements the server loads, so its files and the server's are the same bytes.
        released = write_release(result.store, __version__, out)
        info["sha256"].update({path.name: _sha256(path) for path in released
                               if path.name in RELEASE_FILES})
        (out / BUILD_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    result.files = [trig, nt, *(p for p in released if p.parent == out), out / BUILD_INFO]
    return result.files
