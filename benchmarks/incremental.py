"""Benchmark: incremental reasoning (:mod:`exomirkg.incremental`) against a full reasoning.

On the synthetic graph (``benchmarks/synthetic.py``, findings spread over section graphs),
the full reasoning (:meth:`Levels.reason`) is timed, then one section is edited as a curator
would (some findings' statements dropped, others given another value) and
:meth:`Levels.update` is timed; a full reasoning over the edited graph is the reference,
compared triple for triple. Ratios are of times measured in the same run. Not a test: it
prints, and exits non-zero only when the update and the reference differ.

With ``--build``, the same for the whole build (:func:`exomirkg.rebuild.build`, what
``exomirkg build`` runs) over the synthetic graph written as a data folder: the edited
section's file is rewritten, the incremental build timed step by step, then a full build of
the edited data into another folder (the reference: every file the same bytes, the same
report). With ``--watch`` too, the incremental builds are a :class:`exomirkg.rebuild.Watcher`'s
(``exomirkg build --watch``: the state held in memory from build to build; its time includes
looking at and hashing the inputs).

    python benchmarks/incremental.py --size 1e5 --sections 50 [--edits 3] [--findings 10]
    python benchmarks/incremental.py --build [--watch] --size 1e6 --sections 100 --findings 2
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph

from exomirkg.incremental import HIGHER, INFERRED, LOWEST, Levels
from exomirkg.reason import load_rules

_NT = pyoxigraph.RdfFormat.N_TRIPLES
_EFFECT = "<https://w3id.org/exomirkg/hasEffect>"


def _store(graphs: dict[str, bytes]) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    for name, text in graphs.items():
        store.bulk_load(input=text, format=_NT, to_graph=pyoxigraph.NamedNode(name))
    return store


def _lines(store: pyoxigraph.Store, graph: pyoxigraph.NamedNode) -> set[str]:
    return set((store.dump(format=_NT, from_graph=graph) or b"").decode().splitlines(True))


def edit_section(rng: random.Random, text: bytes, findings: int) -> bytes:
    """A section with ``findings`` findings' statements dropped and as many others' drug
    or mechanism swapped for another of the section's (never a second effect: hasEffect is
    functional)."""
    lines = text.decode().splitlines(True)
    subjects = sorted({subject for subject in (line.split(" ", 1)[0] for line in lines)
                       if "finding" in subject})
    chosen = rng.sample(subjects, min(len(subjects), 2 * findings))
    dropped, changed = set(chosen[:findings]), set(chosen[findings:])
    objects: dict[str, list[str]] = {}
    for line in lines:
        _s, predicate, rest = line.split(" ", 2)
        objects.setdefault(predicate, []).append(rest)
    kept = []
    for line in lines:
        subject, predicate, rest = line.split(" ", 2)
        if subject in dropped:
            continue
        if subject in changed and predicate != _EFFECT and not rest.startswith('"'):
            rest = rng.choice(objects[predicate])
        kept.append(f"{subject} {predicate} {rest}")
    return "".join(sorted(set(kept))).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1e5)
    parser.add_argument("--sections", type=int, default=50)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--findings", type=int, default=10,
                        help="findings dropped, and as many changed, per edit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--build", action="store_true",
                        help="time the whole build (exomirkg build), not the reasoning alone")
    parser.add_argument("--watch", action="store_true",
                        help="with --build: incremental builds by exomirkg build --watch")
    args = parser.parse_args()
    if args.build:
        sys.exit(build(args))
    from synthetic import generate_ntriples

    started = time.perf_counter()
    data = generate_ntriples(int(args.size), seed=1, sections=args.sections)
    graphs = {str(name): b"".join(lines) for name, lines in data.graphs.items()}
    del data
    print(f"{int(args.size):,} triples in {len(graphs)} graphs, generated in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    rules = load_rules()
    store = _store(graphs)
    started = time.perf_counter()
    levels = Levels.reason(store, graphs, rules)
    full = time.perf_counter() - started
    inferred = len(_lines(store, INFERRED))
    print(f"full reasoning {full:.2f} s ({inferred:,} inferred triples; incremental: "
          f"{levels.incremental})", flush=True)
    rng = random.Random(args.seed)
    sections = sorted(name for name in graphs if "/section/" in name)
    failed = False
    for edit in range(args.edits):
        name = rng.choice(sections)
        text = edit_section(rng, graphs[name], args.findings)
        started = time.perf_counter()
        change = levels.update({name: text})
        took = time.perf_counter() - started
        graphs[name] = text
        reference = _store(graphs)
        started = time.perf_counter()
        Levels.reason(reference, graphs, rules)
        again = time.perf_counter() - started
        same = all(_lines(store, graph) == _lines(reference, graph)
                   for graph in (LOWEST, HIGHER, INFERRED))
        failed |= not same
        print(f"edit {edit + 1} ({name.rsplit('/', 1)[1]}: {len(change.asserted_added)} "
              f"asserted added, {len(change.asserted_removed)} removed; inferred "
              f"+{len(change.inferred_added)} -{len(change.inferred_removed)}"
              f"{', in full' if change.full else ''}): update {took:.2f} s, full {again:.2f} s, "
              f"ratio {took / again:.3f}; {'same' if same else 'DIFFERENT'}", flush=True)
    sys.exit(1 if failed else 0)


def _outputs(out: Path, record: dict | None = None) -> tuple[dict[str, bytes], list[str]]:
    """A build's files (build-info.json and the state aside) and its report's results (a
    blank node's label aside: the shapes' are each read's own).

    :param record: the report (else the state's, in the build folder).
    """
    from exomirkg.build import BUILD_INFO
    from exomirkg.rebuild import STATE_DIR

    files = {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*")
             if path.is_file() and STATE_DIR not in path.parts and path.name != BUILD_INFO}
    if record is None:
        record = json.loads((out / STATE_DIR / "report.json").read_text(encoding="utf-8"))
    return files, sorted(re.sub(r"_:\w+", "_:b", json.dumps(result, sort_keys=True))
                         for result in record["results"])


def build(args: argparse.Namespace) -> int:
    """The ``--build`` benchmark; 1 when an incremental build and the full one differ."""
    from synthetic import generate_ntriples, write_data_root

    from exomirkg.load import read_ntriples
    from exomirkg.rebuild import Watcher
    from exomirkg.rebuild import build as rebuild

    work = Path(tempfile.mkdtemp(prefix="exomirkg-incremental-"))
    try:
        started = time.perf_counter()
        data = generate_ntriples(int(args.size), seed=1, sections=args.sections)
        root = write_data_root(data, work / "data")
        del data
        print(f"{int(args.size):,} triples, findings in {args.sections} section files, "
              f"written in {time.perf_counter() - started:.1f} s", flush=True)
        out, full = work / "out", work / "full"
        watcher = Watcher(out, data_root=root) if args.watch else None
        started = time.perf_counter()
        watcher.step() if watcher else rebuild(out, data_root=root)
        print(f"first build (full, keeps the state{', then read into memory' if watcher else ''})"
              f" {time.perf_counter() - started:.1f} s", flush=True)
        rng = random.Random(args.seed)
        sections = sorted((root / "triples" / "sections").glob("*.ttl"))
        failed = False
        for edit in range(args.edits):
            path = rng.choice(sections)
            path.write_bytes(edit_section(rng, read_ntriples(path), args.findings))
            started = time.perf_counter()
            result = watcher.step() if watcher else rebuild(out, data_root=root)
            took = time.perf_counter() - started
            shutil.rmtree(full, ignore_errors=True)
            started = time.perf_counter()
            rebuild(full, data_root=root, full=True)
            again = time.perf_counter() - started
            same = _outputs(out, result.report.as_record() if watcher else None) == _outputs(full)
            failed |= not same or not result.incremental
            steps = ", ".join(f"{name} {seconds:.2f}" for name, seconds in result.timings.items())
            print(f"edit {edit + 1} ({path.name}): incremental build {took:.2f} s ({steps}), "
                  f"full build {again:.2f} s, ratio {took / again:.3f}; "
                  f"{'same files and report' if same else 'DIFFERENT'}", flush=True)
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
