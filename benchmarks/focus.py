"""Benchmark: the SPARQL SHACL engine on a few focus nodes against every focus node.

For a data folder (a synthetic one, e.g. built by ``exomirkg build --data-root``), the asserted
statements as the build validates them are loaded into the engine's store once, then timed:
the full run (``validate_store``), a focus run on 50 findings (fixed seed), and the change an
incremental build would see when those 50 findings' own statements but their types are
deleted (each then fails its shapes):
``affected_focus`` on the deleted triples and the focus run on the nodes it returns, over the
edited store. Each focus run's results are compared with the full run's, filtered to its
nodes. Then the same for the ``*-violation.rq`` checks (:mod:`exomirkg.check_focus`), check by
check, over a store of the asserted graphs (no graph/inferred: the synthetic graph is not
reasoned here, so the checks of scope ``union`` read the asserted graphs only); a check with
``#+ partition:`` (duplicate-label) runs on the findings' classes. Not a test: it prints, it
asserts nothing.

    python benchmarks/focus.py /tmp/csyn100000 [--findings 50] [--repeat 3] [--checks-only]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path

import pyoxigraph
from rdflib import URIRef
from rdflib.namespace import RDF

from exomirkg import check_focus
from exomirkg.load import Sources, parse_sources
from exomirkg.namespaces import EKG, GRAPH_INFERRED
from exomirkg.shacl_sparql import affected_focus, node_key, shapes_store, validate_store
from exomirkg.validate import Check, _check_rows, load_checks, load_shapes


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
    parser.add_argument("--checks-only", action="store_true")
    args = parser.parse_args()

    sources = parse_sources(args.data_root)
    if not args.checks_only:
        shapes(sources, args)
    checks(sources, args)


def _chosen(store: pyoxigraph.Store, args: argparse.Namespace) -> list[URIRef]:
    """``args.findings`` findings of the store, fixed by the seed."""
    findings = sorted(row["f"].value for row in store.query(
        f"SELECT ?f WHERE {{ ?f a <{EKG.Finding}> }}", use_default_graph_as_union=True))
    return [URIRef(f) for f in random.Random(args.seed).sample(findings, args.findings)]


def _own_statements(text: bytes, chosen: list[URIRef]) -> tuple[list[bytes], list[bytes]]:
    """The lines of N-Triples text kept and removed when the chosen nodes' statements but
    their rdf:type are deleted."""
    subjects = {f"<{f}>".encode() for f in chosen}
    kept, removed = [], []
    for line in text.splitlines(keepends=True):
        subject, predicate, _ = line.split(b" ", 2)
        drop = subject in subjects and predicate != f"<{RDF.type}>".encode()
        (removed if drop else kept).append(line)
    return kept, removed


def shapes(sources: Sources, args: argparse.Namespace) -> None:
    """The shapes: full run, focus run, and the edit."""
    text = sources.ntriples(exclude=frozenset({GRAPH_INFERRED}))
    shapes = load_shapes(args.data_root / "validation" / "shapes")
    start = time.perf_counter()
    store = shapes_store(text)
    print(f"{len(store)} triples; store loaded in {time.perf_counter() - start:.2f} s")

    full_s, full = _best(args.repeat, lambda: validate_store(store, shapes))
    print(f"full run: {full_s:.3f} s, {len(full)} results")

    chosen = _chosen(store, args)
    focus_s, part = _best(args.repeat, lambda: validate_store(store, shapes, chosen))
    same = Counter(part) == Counter(r for r in full if r.focus in set(chosen))
    print(f"focus run on {len(chosen)} findings: {focus_s:.3f} s, {len(part)} results, "
          f"same as the full run's: {same}")

    # An edit: the chosen findings' own statements deleted, but their rdf:type.
    kept, removed = _own_statements(text, chosen)
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



def checks(sources: Sources, args: argparse.Namespace) -> None:
    """The checks, one by one: full run, focus run on the chosen findings, and the edit
    (affected nodes, their focus run, the full run after; kept + re-run = full after?)."""
    store = sources.load_into(pyoxigraph.Store())
    chosen = _chosen(store, args)
    graphs, removed = {}, []
    for name, text in sources.graphs.items():
        kept, gone = _own_statements(text, chosen)
        graphs[name], removed = b"".join(kept), removed + gone
    edited = Sources(graphs).load_into(pyoxigraph.Store())
    removed_text = b"".join(removed)
    print(f"checks: {len(store)} quads; edit: {len(removed)} statements of {len(chosen)} "
          "findings deleted")
    print(f"{'check':40} {'full':>7} {'focus':>7} {'affected':>9} {'nodes':>6} {'re-run':>7} "
          f"{'after':>7}  same")
    totals = [0.0] * 5

    # The findings' classes: what a check with a partition (duplicate-label's ?class) runs on.
    classes = {URIRef(q.object.value) for node in chosen for q in store.quads_for_pattern(
        pyoxigraph.NamedNode(str(node)), pyoxigraph.NamedNode(str(RDF.type)), None)}

    for check in load_checks(args.data_root / "validation" / "checks"):
        def rows(answer: tuple, c: Check = check) -> Counter:
            """The rows, the column the check runs on first."""
            columns, found = answer
            on = c.partition or columns[0]
            order = [on] + [n for n in columns if n != on]
            return Counter(tuple(row[n] for n in order) for row in found)

        picked = classes if check.partition else chosen
        full_s, full = _best(args.repeat, lambda c=check: rows(_check_rows(store, c)))
        focus_s, part = _best(args.repeat,
                              lambda c=check, p=picked: rows(_check_rows(store, c, p)))
        keys = {node_key(f) for f in picked}
        same = part == Counter({r: n for r, n in full.items() if node_key(r[0]) in keys})
        affected_s, nodes = _best(args.repeat, lambda c=check: check_focus.affected(
            edited, c, removed=removed_text))
        after_s, after = _best(1, lambda c=check: rows(_check_rows(edited, c)))
        if nodes is None:  # runs in full
            rerun_s, merged = after_s, after
        else:
            rerun_s, rerun = _best(args.repeat,
                                   lambda c=check, n=nodes: rows(_check_rows(edited, c, n)))
            drop = {node_key(n) for n in nodes}
            merged = Counter({r: n for r, n in full.items() if node_key(r[0]) not in drop}) + rerun
        same = same and merged == after
        for index, seconds in enumerate((full_s, focus_s, affected_s, rerun_s, after_s)):
            totals[index] += seconds
        print(f"{check.name:40} {full_s:7.3f} {focus_s:7.3f} {affected_s:9.3f} "
              f"{'full' if nodes is None else len(nodes):>6} {rerun_s:7.3f} {after_s:7.3f}  "
              f"{same}")
    print(f"{'all':40} {totals[0]:7.3f} {totals[1]:7.3f} {totals[2]:9.3f} {'':>6} "
          f"{totals[3]:7.3f} {totals[4]:7.3f}")


if __name__ == "__main__":
    main()
