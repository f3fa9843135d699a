"""Benchmark: SHACL validation at scale: pyshacl (the reference), rudof and the SPARQL engine.

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

With ``--peak``, each engine the build can use (``sparql``, the build's, and ``rudof``)
validates the same asserted statements as the build hands them over (N-Triples text, as
``ShapesRun`` does) in a process of its own, so that its time and peak resident memory
(VmHWM, less the process's before it starts) are its own; the two result lists are compared.

    python benchmarks/validation.py [--sizes 10000 20000 100000] [--pyshacl-max 20000]
    python benchmarks/validation.py --peak --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(engine: str, data_file: str) -> None:
    """One engine on the statements of ``data_file``, as the build's ShapesRun runs it."""
    from exomirkg import shacl_sparql
    from exomirkg.validate import _rudof_report, _rudof_results, _sparql_results, _Statements

    text = Path(data_file).read_bytes()
    shapes = load_shapes()
    before = _peak_mb()
    start = time.perf_counter()
    if engine == "sparql":
        store = shacl_sparql.shapes_store(text)
        loaded = time.perf_counter() - start
        results = _sparql_results(shacl_sparql.validate_store(store, shapes), shapes, None)
    else:
        statements = _Statements(text=text)
        report = _rudof_report(statements, shapes)
        loaded = float("nan")
        results = _rudof_results(report, statements, shapes, None)
    seconds = time.perf_counter() - start
    # Blank nodes of the shapes graph differ between processes: compare the rendered fields.
    digest = hashlib.sha256(json.dumps(
        [r.as_dict() for r in sorted(results, key=sort_key)]).encode()).hexdigest()[:12]
    print(json.dumps({"engine": engine, "seconds": seconds, "load": loaded,
                      "peak_mb": _peak_mb() - before, "results": len(results),
                      "digest": digest}))


def peak(sizes: list[int], seed: int) -> None:
    """Each engine in its own process on the same asserted statements, per size."""
    print(f"{'triples':>9} {'engine':>7} {'seconds':>8} {'(load)':>7} {'peak +MB':>9} "
          f"{'results':>8}  same results")
    for size in sizes:
        data = asserted_graph(generate(size, seed=seed))
        with tempfile.TemporaryDirectory(prefix="exomirkg-shapes-") as folder:
            data_file = Path(folder) / "asserted.nt"
            data_file.write_bytes(data.serialize(format="nt", encoding="utf-8"))
            triples = len(data)
            del data
            rows = []
            for engine in ("sparql", "rudof"):
                out = subprocess.run([sys.executable, __file__, "--child", engine,
                                      str(data_file)], capture_output=True, text=True,
                                     check=True).stdout
                rows.append(json.loads(out.splitlines()[-1]))
            same = len({row["digest"] for row in rows}) == 1
            for row in rows:
                print(f"{triples:>9} {row['engine']:>7} {row['seconds']:>8.1f} "
                      f"{row['load']:>7.1f} {row['peak_mb']:>9.0f} {row['results']:>8}  {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 20000, 100000])
    parser.add_argument("--pyshacl-max", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peak", action="store_true",
                        help="the build's engines, each in its own process: time and memory")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.peak:
        peak(args.sizes, args.seed)
        return
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
