"""Benchmark: the SPARQL SHACL engine on a few focus nodes against every focus node.

For a data folder (a synthetic one, e.g. built by ``exomirkg build --data-root``), the asserted
statements as the build validates them are loaded into the engine's store once, then timed:
the full run (``validate_store``), a focus run on 50 findings (fixed seed), and the change an
incremental build would see when those 50 findings' own statements but their types are
deleted (each then fails its shapes):
``affected_focus`` on the deleted triples and the focus run on the nodes it returns, over the
edited store. Each focus run's results are compared with the full run's, filtered to its
nodes. Not a test: it prints, it asserts nothing.

    python benchmarks/focus.py /tmp/csyn100000 [--findings 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path

from rdflib import URIRef
from rdflib.namespace import RDF

from exomirkg.load import parse_sources
from exomirkg.namespaces import EKG, GRAPH_INFERRED
from exomirkg.shacl_sparql import affected_focus, shapes_store, validate_store
from exomirkg.validate import load_shapes


def _best(repeat: int, run):  # noqa: ANN001, ANN202 - a benchmark's helper
    """The fastest of ``repeat`` runs (seconds) and its value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_root", type=Path)
    parser.add_argument("--findings", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    text = parse_sources(args.data_root).ntriples(exclude=frozenset({GRAPH_INFERRED}))
    shapes = load_shapes(args.data_root / "validation" / "shapes")
    start = time.perf_counter()
    store = shapes_store(text)
    print(f"{len(store)} triples; store loaded in {time.perf_counter() - start:.2f} s")

    full_s, full = _best(args.repeat, lambda: validate_store(store, shapes))
    print(f"full run: {full_s:.3f} s, {len(full)} results")

    findings = sorted(row["f"].value for row in store.query(
        f"SELECT ?f WHERE {{ ?f a <{EKG.Finding}> }}"))
    chosen = [URIRef(f) for f in random.Random(args.seed).sample(findings, args.findings)]
    focus_s, part = _best(args.repeat, lambda: validate_store(store, shapes, chosen))
    same = Counter(part) == Counter(r for r in full if r.focus in set(chosen))
    print(f"focus run on {len(chosen)} findings: {focus_s:.3f} s, {len(part)} results, "
          f"same as the full run's: {same}")

    # An edit: the chosen findings' own statements deleted, but their rdf:type.
    subjects = {f"<{f}>".encode() for f in chosen}
    kept, removed = [], []
    for line in text.splitlines(keepends=True):
        subject, predicate, _ = line.split(b" ", 2)
        drop = subject in subjects and predicate != f"<{RDF.type}>".encode()
        (removed if drop else kept).append(line)
    edited = shapes_store(b"".join(kept))
    removed_text = b"".join(removed)
    affected_s, nodes = _best(args.repeat,
                              lambda: affected_focus(edited, shapes, removed=removed_text))
    rerun_s, rerun = _best(args.repeat, lambda: validate_store(edited, shapes, nodes))
    after_s, after = _best(1, lambda: validate_store(edited, shapes))
    merged = (Counter({r: n for r, n in Counter(full).items() if r.focus not in nodes})
              + Counter(rerun))
    print(f"delete {len(removed)} of their statements: affected_focus {affected_s:.3f} s "
          f"({len(nodes)} nodes), focus run {rerun_s:.3f} s; full run after {after_s:.3f} s, "
          f"{len(after)} results; kept + re-validated = full: {merged == Counter(after)}")


if __name__ == "__main__":
    main()
