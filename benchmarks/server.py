"""Benchmark: our endpoint (pyoxigraph behind gunicorn) vs rdflib-endpoint, same data, same run.

Starts, on 127.0.0.1 and free ports: ``exomirkg serve`` over the data, the baseline
``rdflib-endpoint serve`` (rdflib's own SPARQL engine, from PyPI) over the same triples, and
an empty Flask app under gunicorn (the floor for one HTTP round trip). Then, for the review
graph and a synthetic graph of about 10^5 triples (``benchmarks/synthetic.py``), runs five
queries at concurrency 1, 8 and 32 and prints p50/p95 latency, throughput and the ratios.
Each cell is bounded by a request count and a time budget; requests still running at the
budget are counted as timeouts; the two servers are measured in alternating rounds and a
ratio is the median of the rounds'. Not a test: it prints figures, it asserts nothing.

    python benchmarks/server.py [--requests 200] [--budget 20] [--rounds 3]
                                [--sizes review,100000] [--queries "label lookup,3-hop join"]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask

#: The empty reference app (``gunicorn --pythonpath benchmarks server:empty_app``).
empty_app = Flask("empty")


@empty_app.route("/ping")
def _ping() -> str:
    return ""


PREFIXES = """PREFIX ekg: <https://w3id.org/exomirkg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
#: name -> (query, kind): "lookup" is the cheap one the ≥1x target applies to.
QUERIES: dict[str, str] = {
    "label lookup": PREFIXES + 'SELECT ?s WHERE { ?s rdfs:label "drug efflux"@en }',
    "3-hop join": PREFIXES + """SELECT ?drugLabel ?mirnaLabel ?geneLabel WHERE {
  ?f ekg:concernsDrug ?drug ; ekg:hasMiRNA ?mirna ; ekg:downregulatesGene ?gene .
  ?drug rdfs:label ?drugLabel . ?mirna rdfs:label ?mirnaLabel . ?gene rdfs:label ?geneLabel }""",
    "group-by count": PREFIXES + """SELECT ?drug (COUNT(?f) AS ?n) WHERE {
  ?f a ekg:Finding ; ekg:concernsDrug ?drug } GROUP BY ?drug ORDER BY DESC(?n) ?drug""",
    "optional": PREFIXES + """SELECT ?f ?drug ?gene WHERE { ?f a ekg:Finding
  OPTIONAL { ?f ekg:concernsDrug ?drug } OPTIONAL { ?f ekg:downregulatesGene ?gene } }""",
    "subClassOf* path": PREFIXES + """SELECT ?d ?c WHERE {
  ?c rdfs:subClassOf* ekg:Drug . ?d a ?c }""",
}
CONCURRENCY = (1, 8, 32)
#: Back-to-back rounds of empty request and lookup behind the lookup/empty p50 ratio.
FLOOR_ROUNDS = 9


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(cmd: list[str], port: int, path: str, env: dict | None = None,
           limit: float = 180) -> subprocess.Popen:
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return process
        except OSError:
            time.sleep(0.3)
    _stop(process)
    raise RuntimeError(f"{' '.join(cmd)} did not answer within {limit} s")


def _stop(process: subprocess.Popen) -> None:
    """Stop a server this script started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _measure(port: int, path: str, count: int, concurrency: int, budget: float) -> dict:
    """Send up to ``count`` GETs with ``concurrency`` keep-alive clients, within ``budget`` s."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + budget

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
        while True:
            with lock:
                if issued[0] >= count or time.monotonic() > deadline:
                    return
                issued[0] += 1
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures[0] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {**_pool([{"latencies": latencies, "wall": wall, "failed": failures[0]}]),
            "latencies": latencies, "wall": wall}


def _ms(value: float | None) -> str:
    return "    -" if value is None else f"{value * 1000:8.1f}"


def _prepare(size: str, folder: Path) -> tuple[Path, Path, int]:
    """Write the dataset as TriG (ours) and N-Triples (baseline); return paths and size."""
    import pyoxigraph

    if size == "review":
        from exomirkg.build import build

        out = folder / "review"
        build(out)
        trig, nt = out / "exomirkg.trig", out / "exomirkg.nt"
    else:
        from synthetic import generate

        dataset = generate(int(size), seed=1)
        trig, nt = folder / f"synthetic-{size}.trig", folder / f"synthetic-{size}.nt"
        dataset.serialize(trig, format="trig")
        store = pyoxigraph.Store()
        store.bulk_load(path=str(trig), format=pyoxigraph.RdfFormat.TRIG)
        triples = {(q.subject, q.predicate, q.object) for q in store}
        pyoxigraph.serialize([pyoxigraph.Triple(*t) for t in triples], str(nt),
                             format=pyoxigraph.RdfFormat.N_TRIPLES)
    count = sum(1 for line in nt.open(encoding="utf-8") if line.strip())
    return trig, nt, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per cell, at most")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds per cell and server, at most")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds per cell (the ratio is their median)")
    parser.add_argument("--sizes", default="review,100000")
    parser.add_argument("--queries", default=",".join(QUERIES),
                        help="comma-separated names of the queries to run (default: all)")
    args = parser.parse_args()
    unknown = [name for name in args.queries.split(",") if name not in QUERIES]
    if unknown:
        parser.error(f"unknown queries {unknown}; choose from {', '.join(QUERIES)}")
    bin_dir = Path(sys.executable).parent
    here = Path(__file__).resolve().parent

    with tempfile.TemporaryDirectory(prefix="exomirkg-bench-") as tmp:
        folder = Path(tmp)
        empty_port = _free_port()
        empty = _start([str(bin_dir / "gunicorn"), "--pythonpath", str(here), "-b",
                        f"127.0.0.1:{empty_port}", "-w", "2", "--threads", "8",
                        "--no-control-socket",
                        # Same server settings as `exomirkg serve`, access log included.
                        "--access-logfile", "-", "server:empty_app"], empty_port, "/ping")
        try:
            floor = _measure(empty_port, "/ping", args.requests * 3, 1, args.budget)
            print(f"empty Flask round trip (gunicorn, c=1): p50 {_ms(floor['p50'])} ms, "
                  f"{floor['rps']:.0f} req/s")
            _run_sizes(args, folder, bin_dir, empty_port)
        finally:
            _stop(empty)


def _lookup_vs_floor(ours_port: int, path: str, empty_port: int, args) -> float:
    """Median over rounds of (lookup p50 / empty p50), measured back to back (shared CPU)."""
    ratios = []
    for _ in range(FLOOR_ROUNDS):
        floor = _measure(empty_port, "/ping", args.requests, 1, args.budget)
        lookup = _measure(ours_port, path, args.requests, 1, args.budget)
        if floor["p50"] and lookup["p50"]:
            ratios.append(lookup["p50"] / floor["p50"])
    return statistics.median(ratios) if ratios else float("nan")


def _compare(ours_port: int, path: str, base_port: int, base_path: str, count: int,
             concurrency: int, args) -> tuple[dict, dict, float]:
    """Measure both servers in alternating rounds (the CPU is shared and noisy).

    Each round gives both the same share of the request count and time budget; the ratio
    reported is the median of the rounds' throughput ratios, the latencies are pooled. When
    a server left requests unfinished in some round, the ratio is that of the pooled
    throughputs instead (a round where the baseline finished nothing has no ratio).
    """
    rounds = max(1, args.rounds)
    ours: list[dict] = []
    theirs: list[dict] = []
    for _ in range(rounds):
        ours.append(_measure(ours_port, path, max(1, count // rounds), concurrency,
                             args.budget / rounds))
        _settle(ours_port, "/sparql")
        theirs.append(_measure(base_port, base_path, max(1, count // rounds), concurrency,
                               args.budget / rounds))
        _settle(base_port, "/")
    mine, base = _pool(ours), _pool(theirs)
    if mine["failed"] or base["failed"]:
        return mine, base, mine["rps"] / base["rps"] if base["rps"] else float("inf")
    ratios = [a["rps"] / b["rps"] for a, b in zip(ours, theirs, strict=True)]
    return mine, base, statistics.median(ratios)


def _settle(port: int, path: str, limit: float = 300.0) -> None:
    """Wait until a server has worked off requests its clients gave up on.

    A request cut at the budget keeps the server busy after the client has gone; without
    this, that backlog would slow the other server's next round. ``ASK {}`` is answered only
    after the queries queued before it (rdflib-endpoint runs them one at a time; ours has
    to wait for a free query process).
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=limit)
    try:
        conn.request("GET", path + "?" + urlencode({"query": "ASK {}"}))
        conn.getresponse().read()
    except OSError:
        pass
    finally:
        conn.close()


def _pool(results: list[dict]) -> dict:
    """One cell's figures from its rounds: pooled latencies, total requests over total time."""
    latencies = sorted(x for result in results for x in result["latencies"])
    wall = sum(result["wall"] for result in results)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None
    return {"n": len(latencies), "failed": sum(result["failed"] for result in results),
            "p50": statistics.median(latencies) if latencies else None, "p95": p95,
            "rps": len(latencies) / wall if wall else 0.0}


def _run_sizes(args, folder: Path, bin_dir: Path, empty_port: int) -> None:
    for size in args.sizes.split(","):
        trig, nt, count = _prepare(size, folder)
        print(f"\n== {size} graph: {count} triples ==")
        ours_port, base_port = _free_port(), _free_port()
        ours = _start([str(bin_dir / "exomirkg"), "serve", "--data", str(trig),
                       "--host", "127.0.0.1", "--port", str(ours_port), "--workers", "2",
                       "--threads", "8", "--query-workers", "2", "--row-cap", "10000000",
                       "--timeout", "120"], ours_port, "/health")
        base = _start([str(bin_dir / "rdflib-endpoint"), "serve", str(nt), "--host",
                       "127.0.0.1", "--port", str(base_port)], base_port,
                      "/sparql?query=ASK%7B%7D", limit=600)
        try:
            print(f"{'query':<18}{'c':>3} | {'ours p50':>9}{'p95':>9}{'req/s':>8} | "
                  f"{'rdflib p50':>10}{'p95':>9}{'req/s':>8} | {'x rps':>6}  notes")
            for name in args.queries.split(","):
                query = QUERIES[name]
                path = "/sparql?" + urlencode({"query": query})
                # rdflib-endpoint serves SPARQL at its root.
                base_path = "/?" + urlencode({"query": query})
                # Warm-up, not counted: connections, worker processes, caches.
                _measure(ours_port, path, 16, 8, args.budget)
                _measure(base_port, base_path, 2, 1, args.budget)
                for concurrency in CONCURRENCY:
                    count_n = args.requests if concurrency == 1 else args.requests * 2
                    mine, theirs, ratio = _compare(ours_port, path, base_port, base_path,
                                                   count_n, concurrency, args)
                    notes = []
                    for label, result in (("ours", mine), ("rdflib", theirs)):
                        if result["failed"]:
                            notes.append(f"{label}: {result['failed']} failed/timed out")
                    print(f"{name:<18}{concurrency:>3} | {_ms(mine['p50'])} {_ms(mine['p95'])}"
                          f"{mine['rps']:8.1f} | {_ms(theirs['p50'])}  {_ms(theirs['p95'])}"
                          f"{theirs['rps']:8.1f} | {ratio:6.1f}  {'; '.join(notes)}",
                          flush=True)
                if name == "label lookup":
                    ratio = _lookup_vs_floor(ours_port, path, empty_port, args)
                    print(f"{'':<18}    lookup p50 / empty Flask p50 = {ratio:.2f} "
                          f"(median of {FLOOR_ROUNDS} back-to-back rounds)")
        finally:
            _stop(ours)
            _stop(base)


if __name__ == "__main__":
    main()
