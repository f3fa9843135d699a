"""Benchmark: SHACL validation at scale, pyshacl (the reference) against rudof (pyrudof), one run.

For each size, the review-shaped synthetic graph (benchmarks/synthetic.py) is validated
against validation/shapes/ by both engines on the same asserted graph; prints each engine's
seconds (rudof: parse + validate), the ratio pyshacl/rudof, and whether both found the same
(focus node, constraint component, severity) results. Issue 17 asks for 10^5 triples in under
10 s with pyshacl's results; tests/test_shapes_second_engine.py shows rudof gives pyshacl's
verdicts on every fixture and on the review graph. pyshacl is skipped above --pyshacl-max
(it takes minutes there). Not a test: it prints, it asserts nothing.

    python benchmarks/validation.py [--sizes 10000 20000 100000] [--pyshacl-max 20000]
"""

from __future__ import annotations

import argparse
import time

import pyrudof
from synthetic import generate

from exomirkg.namespaces import SH
from exomirkg.validate import asserted_graph, load_shapes, run_shapes


def _rudof(shapes_nt: str, data_nt: str) -> tuple[float, set[tuple[str, str, str]]]:
    start = time.perf_counter()
    engine = pyrudof.Rudof(pyrudof.RudofConfig())
    engine.read_shacl(shapes_nt, format=pyrudof.ShaclFormat.NTriples,
                      reader_mode=pyrudof.ReaderMode.Strict)
    engine.read_data(data_nt, format=pyrudof.RDFFormat.NTriples,
                     reader_mode=pyrudof.ReaderMode.Strict)
    report = engine.validate_shacl()
    seconds = time.perf_counter() - start
    return seconds, {(r.focus_node, r.constraint_component, r.severity) for r in report.violations}


def _pyshacl(data, shapes) -> tuple[float, set[tuple[str, str, str]]]:
    start = time.perf_counter()
    results = run_shapes(data, shapes)
    seconds = time.perf_counter() - start
    found = set()
    for result in results:
        described = dict(result.rdf)
        found.add((str(described[SH.focusNode]), str(described[SH.sourceConstraintComponent]),
                   result.severity))
    return seconds, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 20000, 100000])
    parser.add_argument("--pyshacl-max", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    shapes = load_shapes()
    shapes_nt = shapes.serialize(format="nt")
    print(f"{'triples':>9} {'rudof s':>8} {'pyshacl s':>10} {'ratio':>6}  same results")
    for size in args.sizes:
        data = asserted_graph(generate(size, seed=args.seed))
        rudof_s, by_rudof = _rudof(shapes_nt, data.serialize(format="nt"))
        if size <= args.pyshacl_max:
            pyshacl_s, by_pyshacl = _pyshacl(data, shapes)
            print(f"{len(data):>9} {rudof_s:>8.1f} {pyshacl_s:>10.1f} {pyshacl_s / rudof_s:>6.1f}"
                  f"  {by_rudof == by_pyshacl} ({len(by_rudof)} / {len(by_pyshacl)})")
        else:
            print(f"{len(data):>9} {rudof_s:>8.1f} {'-':>10} {'-':>6}  ({len(by_rudof)} results)")


if __name__ == "__main__":
    main()
