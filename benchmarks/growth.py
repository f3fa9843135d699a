"""How cost grows with the graph: load, memory, build and query latency per engine, one command.

    python benchmarks/growth.py                      # 10^4, 10^5, 10^6 triples
    python benchmarks/growth.py --sizes 1e4,1e5      # a quicker run
    python benchmarks/growth.py --with-1e7           # also 10^7 (hours; needs ~20 GB free)
    python benchmarks/growth.py --sizes 1e7 --build-only --sections 8  # findings in 8 files
    python benchmarks/growth.py --read-scaling-only  # gunicorn 1/2/4 workers, read-only store

Per size, on the synthetic graph of ``benchmarks/synthetic.py`` (review-shaped: findings,
miRNAs, drugs with class hierarchy, genes, pathways, references), each engine runs in its own
process so memory is its own: pyoxigraph (embedded), Virtuoso (external, via
scripts/virtuoso.sh, skipped with a note when not installed) and rdflib (baseline). Reported:
load time, resident memory added by the data, the example queries' (server/queries/*.rq)
total latency (median of 3 runs each), and build time (reason + validate) with each OWL 2 RL
engine. Every step has a time budget; a step over budget is reported as "> budget", not waited
for. Figures are printed as ratios measured in the same run, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "virtuoso.sh"
QUERY_REPEATS = 3
#: Findings in the "one section changed" step (a review section holds 10-60).
CHANGED_FINDINGS = 50
#: The build's steps, as child_build reports them.
BUILD_STEPS = ("load", "reason", "validate", "write")


# -- helpers run inside child processes ---------------------------------------------------------

def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def _examples() -> dict[str, str]:
    """The example queries, read once by the parent so every engine runs the same set."""
    snapshot = os.environ.get("GROWTH_QUERIES")
    if snapshot:
        return json.loads(Path(snapshot).read_text())
    from exomirkg import paths

    return {path.stem: path.read_text(encoding="utf-8")
            for path in sorted(paths.QUERIES_DIR.glob("*.rq"))}


def _time_queries(run, repeats: int) -> None:
    for name, text in _examples().items():
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(text)
            samples.append(time.perf_counter() - start)
        _emit(query=name, seconds=statistics.median(samples))


def child_oxigraph(nq: str) -> None:
    import pyoxigraph

    base = _rss_mb()
    start = time.perf_counter()
    store = pyoxigraph.Store()
    store.bulk_load(path=nq, format=pyoxigraph.RdfFormat.N_QUADS)
    _emit(load=time.perf_counter() - start, rss_mb=_rss_mb() - base, triples=len(store))
    _time_queries(lambda q: list(store.query(q, use_default_graph_as_union=True)),
                  QUERY_REPEATS)


def child_rdflib(nq: str) -> None:
    from rdflib import Dataset

    base = _rss_mb()
    start = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(nq, format="nquads")
    _emit(load=time.perf_counter() - start, rss_mb=_rss_mb() - base, triples=len(dataset))
    _time_queries(lambda q: list(dataset.query(q)), 1)


def _reset_peak() -> None:
    """Start a new peak-memory window (Linux: VmHWM := VmRSS); Rust's memory counts too."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build(root: str, engine: str) -> None:
    """The build as ``exomirkg build --data-root`` runs it (exomirkg.build.build_dataset, then
    write_build) on the synthetic data folder, Turtle files read included; each step with its
    time and peak resident memory (the whole process, so the data already held counts: what
    the machine must have)."""
    from exomirkg import reason
    from exomirkg.build import build_dataset, write_build
    from exomirkg.namespaces import GRAPH_INFERRED

    # The build takes the default OWL 2 RL engine; this row measures ``engine``.
    reason.default_engine = lambda: engine

    def progress(line: str) -> None:
        # Called as each step ends ("name   1.23 s"), with the peak since the previous step.
        name, seconds, _unit = line.split()
        _emit(step=name, seconds=float(seconds), peak_mb=_peak_mb())
        _reset_peak()

    _reset_peak()
    result = build_dataset(Path(root), progress=progress)
    with tempfile.TemporaryDirectory(prefix="exomirkg-write-") as folder:
        write_build(result, Path(folder), progress=progress)
    assert result.report is not None
    inferred = next(iter(result.store.query(
        f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{GRAPH_INFERRED}> {{ ?s ?p ?o }} }}")))[0].value
    _emit(conforms=result.report.conforms, results=len(result.report.results),
          inferred=int(inferred))


def child_changed(nq: str, findings: int) -> None:
    """Cost of a change to one section: reason and validate only that section's findings.

    Reasoning runs over the TBox graphs plus the changed findings and the entities they
    link to (per-named-graph incremental reasoning); SHACL runs over the whole asserted
    graph but only for the changed focus nodes (pyshacl ``focus_nodes``).
    """
    import pyshacl
    from rdflib import Dataset
    from rdflib.namespace import RDF

    from exomirkg.namespaces import EKG, GRAPH_ONTOLOGY
    from exomirkg.reason import infer
    from exomirkg.validate import asserted_graph, load_shapes

    dataset = Dataset(default_union=True)
    dataset.parse(nq, format="nquads")
    changed = sorted(dataset.subjects(RDF.type, EKG.Finding))[:findings]
    slice_ = Dataset(default_union=True)
    for graph in dataset.graphs():
        name = str(graph.identifier)
        if graph.identifier == GRAPH_ONTOLOGY or "/imports/" in name:
            target = slice_.graph(graph.identifier)
            for triple in graph:
                target.add(triple)
    section = slice_.graph(EKG["graph/section/changed"])
    linked = set()
    for finding in changed:
        for triple in dataset.triples((finding, None, None)):
            section.add(triple)
            linked.add(triple[2])
    for node in linked:
        for triple in dataset.triples((node, None, None)):
            section.add(triple)
    start = time.perf_counter()
    inferred = infer(slice_)
    _emit(step="reason-changed", seconds=time.perf_counter() - start, triples=len(slice_),
          inferred=len(inferred))
    data = asserted_graph(dataset)
    shapes = load_shapes()
    start = time.perf_counter()
    conforms, _report, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        inplace=True, focus_nodes=list(changed))
    _emit(step="validate-changed", seconds=time.perf_counter() - start, conforms=conforms,
          focus_nodes=len(changed), graph=len(data))


def child_generate(n: int, out: str, sections: int = 1) -> None:
    """The synthetic graph as N-Quads (``out``), for the engines, and as a data folder beside
    it (:func:`data_folder`), for the build; the findings in ``sections`` section files.
    Written from N-Triples lines, never an rdflib Dataset, so that 10^7 triples fit."""
    from synthetic import generate_ntriples, write_data_root, write_nquads

    start = time.perf_counter()
    data = generate_ntriples(n, seed=1, sections=sections)
    write_nquads(data, Path(out))
    write_data_root(data, data_folder(Path(out)))
    _emit(generate=time.perf_counter() - start, triples=data.size, peak_mb=_peak_mb())


def data_folder(nq: Path) -> Path:
    """Where the data folder of the synthetic graph in ``nq`` is written."""
    return nq.with_suffix("")


CHILDREN = {"oxigraph": child_oxigraph, "rdflib": child_rdflib, "build": child_build,
            "generate": child_generate, "changed": child_changed}


# -- the parent: runs children under budgets and prints the tables -----------------------------

def run_child(args: list[str], budget: float) -> tuple[list[dict], bool]:
    """Run a child step; return the JSON lines it printed and whether it finished in budget."""
    process = subprocess.Popen([sys.executable, __file__, "_child", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []

    def reader() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("{"):
                lines.append(json.loads(line))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        process.wait(budget)
        finished = process.returncode == 0
        if not finished:
            sys.stderr.write(process.stderr.read() if process.stderr else "")
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        finished = False
    thread.join(5)
    return lines, finished


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Virtuoso:
    """One private instance for the whole run (started and stopped by scripts/virtuoso.sh)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.env = dict(os.environ, ISQL_PORT=str(free_port()), PYTHON=sys.executable,
                        VIRTUOSO_BUFFERS="170000", VIRTUOSO_MAX_ROWS="1000000")

    def start(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "start", str(self.folder), str(self.port)],
                       env=self.env, check=True, capture_output=True, timeout=180)

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.folder)], env=self.env,
                       capture_output=True, timeout=120)

    def rss_mb(self) -> float:
        pid = (self.folder / "virtuoso.pid").read_text().strip()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def measure(self, trig: Path, graphs: list[str], budget: float) -> dict:
        from exomirkg.backends.sparql_http import SparqlHttpStore

        before = self.rss_mb()
        start = time.perf_counter()
        subprocess.run(["bash", str(SCRIPT), "load", str(self.folder), str(trig)],
                       env=self.env, check=True, capture_output=True, timeout=budget)
        result: dict = {"load": time.perf_counter() - start}
        result["rss_mb"] = self.rss_mb() - before
        store = SparqlHttpStore(f"sparql+http://127.0.0.1:{self.port}/sparql", graphs=graphs,
                                timeout=budget)
        queries = {}
        deadline = time.monotonic() + budget
        for name, text in _examples().items():
            samples = []
            for _ in range(QUERY_REPEATS):
                began = time.perf_counter()
                list(store.query(text, use_default_graph_as_union=True))
                samples.append(time.perf_counter() - began)
            queries[name] = statistics.median(samples)
            if time.monotonic() > deadline:
                break
        result["queries"] = queries
        return result


def nq_to_trig(nq: Path, trig: Path) -> list[str]:
    import pyoxigraph

    store = pyoxigraph.Store()
    store.bulk_load(path=str(nq), format=pyoxigraph.RdfFormat.N_QUADS)
    store.dump(output=str(trig), format=pyoxigraph.RdfFormat.TRIG)
    return sorted(g.value for g in store.named_graphs())


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "> budget"
    if unit == "s":
        return f"{value:8.3f} s" if value < 100 else f"{value:8.0f} s"
    return f"{value:8.0f} MB"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "    -"
    return f"{value / base:6.1f}x"


def measure_size(n: int, work: Path, budget: float, virtuoso: Virtuoso | None,
                 engines: list[str], build_only: bool = False, sections: int = 1) -> dict:
    nq = work / f"synthetic-{n}.nq"
    out: dict = {"size": n, "sections": sections}
    lines, ok = run_child(["generate", str(n), str(nq), str(sections)], budget * 4)
    if not ok:
        out["error"] = "generation over budget"
        return out
    out["triples"] = lines[-1]["triples"]
    out["generate"] = lines[-1]["generate"]
    out["generate_peak_mb"] = lines[-1]["peak_mb"]
    for kind in () if build_only else ("oxigraph", "rdflib"):
        lines, ok = run_child([kind, str(nq)], budget)
        head = next((line for line in lines if "load" in line), None)
        queries = {line["query"]: line["seconds"] for line in lines if "query" in line}
        complete = ok and len(queries) == len(_examples())
        out[kind] = {"load": head and head["load"], "rss_mb": head and head["rss_mb"],
                     "queries": sum(queries.values()) if complete else None,
                     "per_query": queries}
    if virtuoso is not None:
        trig = work / f"synthetic-{n}.trig"
        graphs = nq_to_trig(nq, trig)
        try:
            got = virtuoso.measure(trig, graphs, budget)
            complete = len(got["queries"]) == len(_examples())
            out["virtuoso"] = {"load": got["load"], "rss_mb": got["rss_mb"],
                               "queries": sum(got["queries"].values()) if complete else None,
                               "per_query": got["queries"]}
        except subprocess.CalledProcessError as error:
            out["virtuoso"] = {"error": f"{error.stderr or error}".strip()}
        except (subprocess.SubprocessError, OSError, TimeoutError) as error:
            out["virtuoso"] = {"error": str(error)}
        trig.unlink(missing_ok=True)
    for engine in engines:
        lines, ok = run_child(["build", str(data_folder(nq)), engine], budget)
        steps = {line["step"]: line for line in lines if "step" in line}
        row: dict = {name: steps.get(name, {}).get("seconds") for name in BUILD_STEPS}
        row["peak_mb"] = {name: steps.get(name, {}).get("peak_mb") for name in BUILD_STEPS}
        row["total"] = sum(row[n] for n in BUILD_STEPS) if ok and all(
            row[n] is not None for n in BUILD_STEPS) else None
        end = next((line for line in lines if "conforms" in line), {})
        row["inferred"] = end.get("inferred")
        row["results"] = end.get("results")
        out[f"build-{engine}"] = row
    shutil.rmtree(data_folder(nq), ignore_errors=True)
    if build_only:
        nq.unlink(missing_ok=True)
        return out
    lines, ok = run_child(["changed", str(nq), str(CHANGED_FINDINGS)], budget)
    steps = {line["step"]: line for line in lines if "step" in line}
    out["changed"] = {"findings": CHANGED_FINDINGS,
                      "reason": steps.get("reason-changed", {}).get("seconds"),
                      "validate": steps.get("validate-changed", {}).get("seconds")}
    nq.unlink(missing_ok=True)
    return out


def print_size(result: dict, budget: float) -> None:
    sections = result.get("sections", 1)
    print(f"\n== {result['size']:.0e} target: {result.get('triples', '?')} triples "
          f"(generated in {result.get('generate', 0):.1f} s, peak "
          f"{result.get('generate_peak_mb', 0):.0f} MB"
          f"{f', findings in {sections} section files' if sections > 1 else ''}; "
          f"budget {budget:g} s per step)")
    if "error" in result:
        print("  ", result["error"])
        return
    base = result.get("oxigraph")
    if base:
        print(f"  {'engine':<10} {'load':>10} {'ratio':>7} {'memory':>11} {'ratio':>7} "
              f"{'examples':>10} {'ratio':>7}")
    for kind in ("oxigraph", "virtuoso", "rdflib"):
        row = result.get(kind)
        if row is None or base is None:
            continue
        if "error" in row:
            print(f"  {kind:<10} error: {row['error'][:100]}")
            continue
        print(f"  {kind:<10} {fmt(row['load'])} {ratio(row['load'], base['load'])} "
              f"{fmt(row['rss_mb'], 'mb')} {ratio(row['rss_mb'], base['rss_mb'])} "
              f"{fmt(row['queries'])} {ratio(row['queries'], base['queries'])}")
    for key, row in result.items():
        if key.startswith("build-"):
            print(f"  {key:<14} total {fmt(row['total'])}  (inferred {row['inferred']}, "
                  f"{row['results']} validation results); per step, time and peak resident "
                  "memory of the process:")
            for name in BUILD_STEPS:
                peak = row["peak_mb"][name]
                print(f"    {name:<9} {fmt(row[name])}  {fmt(peak, 'mb') if peak else '       -'}")
    if "changed" in result:
        row = result["changed"]
        print(f"  one section changed ({row['findings']} findings): reason {fmt(row['reason'])}  "
              f"validate {fmt(row['validate'])}")


# -- read scaling ------------------------------------------------------------------------------

def read_scaling(work: Path, requests_per_run: int = 1200, concurrency: int = 8) -> dict:
    """Throughput of ``exomirkg serve`` at 1/2/4 gunicorn workers over one read-only store.

    1,200 requests a setting (~3 s): 240 (under a second) gave figures that moved by 40%
    from run to run, enough to read a regression into them that was not there.
    """
    from exomirkg.build import TRIG_FILE, build
    from exomirkg.store import prepare_store_dir

    build_dir = work / "build"
    if not (build_dir / TRIG_FILE).is_file():
        build(build_dir)
    store_dir = work / "store"
    prepare_store_dir(build_dir / TRIG_FILE, store_dir)
    queries = list(_examples().values())
    results = {}
    for workers in (1, 2, 4):
        port = free_port()
        env = dict(os.environ, EXOMIRKG_STORE_PATH=str(store_dir),
                   EXOMIRKG_BUILD_DIR=str(build_dir))
        server = subprocess.Popen(
            [sys.executable, "-m", "exomirkg", "serve", "--port", str(port), "--workers",
             str(workers), "--threads", "2", "--out", str(build_dir)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/sparql"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.5)
            # Warm every worker's query pool before timing.
            for text in queries * workers:
                _post(url, text)
            start = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                outcomes = list(pool.map(partial(_post_nth, url, queries),
                                         range(requests_per_run)))
            elapsed = time.perf_counter() - start
            errors = [o for o in outcomes if not o]
            results[workers] = {"rps": requests_per_run / elapsed, "errors": len(errors)}
        finally:
            server.terminate()
            server.wait(30)
    return results


def _post_nth(url: str, queries: list[str], index: int) -> bool:
    try:
        _post(url, queries[index % len(queries)])
    except OSError:
        return False
    return True


def _post(url: str, query: str) -> bytes:
    data = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(url, data=data, headers={"Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        return response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6")
    parser.add_argument("--with-1e7", action="store_true", help="add 10^7 triples")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per step")
    parser.add_argument("--engines", default="reasonable,owlrl",
                        help="OWL 2 RL engines for the build step")
    parser.add_argument("--no-virtuoso", action="store_true")
    parser.add_argument("--build-only", action="store_true",
                        help="only the build steps (load, reason, validate, write) per size")
    parser.add_argument("--sections", type=int, default=1,
                        help="section files the synthetic findings are spread over")
    parser.add_argument("--no-read-scaling", action="store_true")
    parser.add_argument("--read-scaling-only", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO / "build" / "growth.json")
    args = parser.parse_args()
    # A plain kill must still stop the Virtuoso instance this run started (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    if args.with_1e7:
        sizes.append(10**7)
    work = Path(tempfile.mkdtemp(prefix="exomirkg-growth-"))
    snapshot = work / "queries.json"
    snapshot.write_text(json.dumps(_examples()))
    os.environ["GROWTH_QUERIES"] = str(snapshot)
    report: dict = {"sizes": []}
    try:
        if not args.read_scaling_only:
            virtuoso = None
            if not args.no_virtuoso and not args.build_only:
                if shutil.which("virtuoso-t"):
                    virtuoso = Virtuoso(work / "virtuoso")
                    virtuoso.start()
                else:
                    print("note: Virtuoso not installed (scripts/virtuoso.sh install): skipped")
            try:
                for n in sizes:
                    result = measure_size(n, work, args.budget, virtuoso,
                                          [e for e in args.engines.split(",") if e],
                                          build_only=args.build_only,
                                          sections=args.sections)
                    report["sizes"].append(result)
                    print_size(result, args.budget)
            finally:
                if virtuoso is not None:
                    virtuoso.stop()
        if not args.no_read_scaling:
            scaling = read_scaling(work)
            report["read_scaling"] = scaling
            base = scaling[1]["rps"]
            print("\n== read scaling: exomirkg serve over one read-only on-disk pyoxigraph store")
            for workers, row in scaling.items():
                print(f"  {workers} gunicorn worker(s): {row['rps']:7.1f} requests/s "
                      f"({row['rps'] / base:4.2f}x of 1 worker; {row['errors']} errors)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        CHILDREN[sys.argv[2]](*[int(a) if a.isdigit() else a for a in sys.argv[3:]])
    else:
        main()
