"""Benchmark: SHACL validation at scale, pyshacl (the reference) against rudof (pyrudof), one run.

For each size, the review-shaped synthetic graph (benchmarks/synthetic.py) is validated
against validation/shapes/ on the same asserted graph three ways: rudof alone (parse +
validate, its own result objects), rudof with the mapping to the build's report
(``run_shapes_rudof``: serialising the graphs, rudof, reading its results back into
ValidationResults with RDF terms) and pyshacl (``run_shapes``, the reference). Prints the
seconds of each, pyshacl / mapped, and whether the two ValidationResult lists are identical:
every field (severity, rule, focus, file, message, path, value, kind, component, details) and
the RDF description of each result. Issue 17 asks for 10^5 triples in under 10 s with
pyshacl's results; tests/test_validation_engines.py holds the mapped path to pyshacl's report
on every fixture and on the review graph. pyshacl is skipped above --pyshacl-max (it takes
minutes there). Not a test: it prints, it asserts nothing.

    python benchmarks/validation.py [--sizes 10000 20000 100000] [--pyshacl-max 20000]
"""

from __future__ import annotations

import argparse
import time

import pyrudof
from rdflib import Graph
from synthetic import generate

from exomirkg.report import ValidationResult, sort_key
from exomirkg.validate import asserted_graph, load_shapes, run_shapes, run_shapes_rudof


def _rudof_alone(shapes_nt: str, data_nt: str) -> tuple[float, int]:
    start = time.perf_counter()
    engine = pyrudof.Rudof(pyrudof.RudofConfig())
    engine.read_shacl(shapes_nt, format=pyrudof.ShaclFormat.NTriples,
                      reader_mode=pyrudof.ReaderMode.Strict)
    engine.read_data(data_nt, format=pyrudof.RDFFormat.NTriples,
                     reader_mode=pyrudof.ReaderMode.Strict)
    report = engine.validate_shacl()
    return time.perf_counter() - start, len(report.violations)


def _timed(run, data: Graph, shapes: Graph) -> tuple[float, list[ValidationResult]]:
    start = time.perf_counter()
    results = run(data, shapes)
    seconds = time.perf_counter() - start
    # The order the build reports them in (the engines return them in their own orders).
    return seconds, sorted(results, key=sort_key)


def _same(a: list[ValidationResult], b: list[ValidationResult]) -> bool:
    """Every field equal, and the RDF description of each result (compare=False in ==)."""
    return a == b and [set(r.rdf) for r in a] == [set(r.rdf) for r in b]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 20000, 100000])
    parser.add_argument("--pyshacl-max", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    shapes = load_shapes()
    shapes_nt = shapes.serialize(format="nt")
    print(f"{'triples':>9} {'rudof s':>8} {'mapped s':>9} {'pyshacl s':>10} {'ratio':>6}"
          "  identical ValidationResult lists (results)")
    for size in args.sizes:
        data = asserted_graph(generate(size, seed=args.seed))
        rudof_s, raw = _rudof_alone(shapes_nt, data.serialize(format="nt"))
        mapped_s, mapped = _timed(run_shapes_rudof, data, shapes)
        line = f"{len(data):>9} {rudof_s:>8.1f} {mapped_s:>9.1f}"
        if size <= args.pyshacl_max:
            pyshacl_s, reference = _timed(run_shapes, data, shapes)
            print(f"{line} {pyshacl_s:>10.1f} {pyshacl_s / mapped_s:>6.1f}"
                  f"  {_same(mapped, reference)} ({len(mapped)} / {len(reference)};"
                  f" rudof's own: {raw})")
        else:
            print(f"{line} {'-':>10} {'-':>6}  - ({len(mapped)}; rudof's own: {raw})")


if __name__ == "__main__":
    main()
