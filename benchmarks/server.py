"""Benchmark: our endpoint against a bare Flask + pyoxigraph app and rdflib-endpoint, same run.

Starts, on 127.0.0.1 and free ports: ``exomirkg serve`` over the data; the bare app
(:data:`bare_app`: the same data in a pyoxigraph store, queries answered in the request
thread with no guard, no time or memory limit, no query processes), under gunicorn with the
same worker and thread settings; the baseline ``rdflib-endpoint serve`` (rdflib's own SPARQL
engine, from PyPI) over the same triples; and an empty Flask app under gunicorn (the floor for
one HTTP round trip). Then, for the review graph and a synthetic graph of about 10^5 triples
(``benchmarks/synthetic.py``), runs five queries at concurrency 1, 8 and 32 and prints p50/p95
latency, throughput and the ratios ours/baseline, a lookup's p50 over an empty request's, and
whether the figures meet point 4 of issue 17 (ours/bare >= 0.9 at 1 and 8 clients, lookup
p50 <= 1.2x empty). Each cell is bounded by a request count and a time budget; requests
still running at the budget are counted as timeouts; the servers are measured in alternating
rounds (the order reversed every round) and a ratio is the median of the rounds'. Not a
test: it prints figures, it asserts nothing.

    python benchmarks/server.py [--requests 200] [--budget 20] [--rounds 3]
                                [--sizes review,100000] [--queries "label lookup,3-hop join"]
                                [--against bare,bare-again,rdflib] [--concurrency 1,8,32]
                                [--method GET|POST] [--unique] [--answer-cache 0]

``--against bare,bare-again`` adds a second copy of the bare app and prints, beside point 4's
test, the same test of the bare app against itself: the share of cells this machine's noise
alone puts below the target in that run.

``--unique`` sends every request as a new text (the query and a comment with a counter):
clients that do not repeat their queries, where no cache keyed by the text helps (our
guard's parse of a query in the query process is cached so).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, request

#: The empty reference app (``gunicorn --pythonpath benchmarks server:empty_app``).
empty_app = Flask("empty")


@empty_app.route("/ping")
def _ping() -> str:
    return ""


#: Environment variable naming the TriG file the bare app serves.
BARE_DATA = "EXOMIRKG_BENCH_BARE_TRIG"
#: The bare reference (``gunicorn --pythonpath benchmarks server:bare_app``): the same data in
#: a pyoxigraph store, each query answered in the request thread with pyoxigraph's own
#: writers. No guard, no time limit, no memory limit, no query processes, no sandbox: what
#: the safety walls are measured against.
bare_app = Flask("bare")
_bare_store = None


def _load_bare_store() -> None:
    # At import, in each gunicorn worker (no --preload): what `exomirkg serve` does too.
    global _bare_store
    trig = os.environ.get(BARE_DATA)
    if trig:
        import pyoxigraph

        _bare_store = pyoxigraph.Store()
        _bare_store.bulk_load(path=trig, format=pyoxigraph.RdfFormat.TRIG)


_load_bare_store()


@bare_app.route("/sparql", methods=["GET", "POST"])
def _bare_sparql() -> Response:
    import pyoxigraph

    query = request.values.get("query")
    if not query or _bare_store is None:
        return Response("no query (or no data)\n", status=400, mimetype="text/plain")
    answer = _bare_store.query(query, use_default_graph_as_union=True)
    if isinstance(answer, pyoxigraph.QueryTriples):
        return Response(answer.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES),
                        mimetype="application/n-triples")
    return Response(answer.serialize(format=pyoxigraph.QueryResultsFormat.JSON),
                    mimetype="application/sparql-results+json")


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
#: Client counts measured (comma-separated, as `--concurrency` takes them).
CONCURRENCY = "1,8,32"
#: Rounds of empty requests and lookups sent in turn behind the lookup/empty p50 ratio.
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


def _group_cpu_seconds(pgid: int) -> float:
    """CPU time used so far by every process of a process group (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process has gone
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _wait_idle(process: subprocess.Popen, limit: float = 300.0) -> None:
    """Wait until a started server has finished its start-up work: ours answers /health
    before its query processes have loaded the store, and measuring then would time those
    loads (on 2 cores, lookups at 1 client came out 0.4-0.55x bare while they ran, 0.6-0.75x
    after). Idle: under a tenth of a CPU over one second."""
    deadline = time.monotonic() + limit
    before = _group_cpu_seconds(process.pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _group_cpu_seconds(process.pid)
        if now - before < 0.1:
            return
        before = now


def _stop(process: subprocess.Popen) -> None:
    """Stop a server this script started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


#: Request headers of a GET, and of a POSTed form.
_GET_HEADERS = {"Accept": "application/sparql-results+json"}
_FORM_HEADERS = {**_GET_HEADERS, "Content-Type": "application/x-www-form-urlencoded"}


def _send(conn: http.client.HTTPConnection, target: str, body: bytes | None) -> int:
    """One request on a kept-alive connection, its answer read whole: a GET of ``target``,
    or a POST of the form ``body`` to it. Its status.

    :raises OSError: the connection failed.
    """
    conn.request("GET" if body is None else "POST", target, body=body,
                 headers=_GET_HEADERS if body is None else _FORM_HEADERS)
    response = conn.getresponse()
    response.read()
    return response.status


def _measure(port: int, path: str | Callable[[], str], count: int, concurrency: int,
             budget: float, form: bytes | Callable[[], bytes] | None = None) -> dict:
    """Send up to ``count`` GETs with ``concurrency`` keep-alive clients, within ``budget`` s;
    POSTs of ``form`` (URL-encoded) instead when it is given. A path or form given as a
    function is asked for each request (``--unique``: a new text every time)."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()  # by status code, or by the exception's name
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + budget

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
        while True:
            with lock:
                if issued[0] >= count or time.monotonic() > deadline:
                    conn.close()  # now, not when collected: the next round opens its own
                    return
                issued[0] += 1
            target = path() if callable(path) else path
            body = form() if callable(form) else form
            start = time.perf_counter()
            try:
                status = _send(conn, target, body)
                ok = status == 200
                why = str(status)
            except OSError as error:
                ok = False
                why = type(error).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures[why] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {**_pool([{"latencies": latencies, "wall": wall, "failed": sum(failures.values()),
                      "why": dict(failures)}]),
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
    parser.add_argument("--against", default="bare,rdflib",
                        help="baselines: bare (Flask + pyoxigraph), bare-again (a second bare "
                        "app: the run's noise floor, the bare app over itself), rdflib "
                        "(rdflib-endpoint)")
    parser.add_argument("--concurrency", default=CONCURRENCY,
                        help="comma-separated client counts")
    parser.add_argument("--method", choices=("GET", "POST"), default="GET",
                        help="send each query in the URL (GET) or as a URL-encoded form (POST)")
    parser.add_argument("--floor-rounds", type=int, default=FLOOR_ROUNDS,
                        help="rounds (empty request and lookup in turn) behind the "
                        "lookup/empty p50 ratio")
    parser.add_argument("--answer-cache", type=int, default=0, metavar="MB",
                        help="our server's answer cache (`exomirkg serve --answer-cache`); "
                        "0 (the default here): every request is evaluated, so the figures "
                        "measure the query processes' cost, as point 4 asks, not the cache")
    parser.add_argument("--unique", action="store_true",
                        help="send every request as a text never sent before (a comment "
                        "with a counter): what caches keyed by the text cannot help")
    args = parser.parse_args()
    unknown = [name for name in args.queries.split(",") if name not in QUERIES]
    if unknown:
        parser.error(f"unknown queries {unknown}; choose from {', '.join(QUERIES)}")
    args.against = [name for name in args.against.split(",") if name]
    if not set(args.against) <= set(BASELINES):
        parser.error(f"--against: choose from {', '.join(BASELINES)}")
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    bin_dir = Path(sys.executable).parent

    with tempfile.TemporaryDirectory(prefix="exomirkg-bench-") as tmp:
        folder = Path(tmp)
        empty_port = _free_port()
        empty = _start(_gunicorn(bin_dir, empty_port, "server:empty_app"), empty_port, "/ping")
        try:
            floor = _measure(empty_port, "/ping", args.requests * 3, 1, args.budget)
            print(f"empty Flask round trip (gunicorn, c=1): p50 {_ms(floor['p50'])} ms, "
                  f"{floor['rps']:.0f} req/s")
            _run_sizes(args, folder, bin_dir, empty_port)
        finally:
            _stop(empty)


#: The baselines ``--against`` can name, in the order their columns are printed.
#: ``bare-again`` is a second copy of the bare app: its throughput over the first's, measured
#: in the same rounds, is what this machine's noise alone does to a ratio of equal servers.
BASELINES = ("bare", "bare-again", "rdflib")
#: The targets of point 4 of issue 17 (ours against the bare app).
TARGET_RATIO, TARGET_FLOOR, TARGET_CONCURRENCY = 0.9, 1.2, (1, 8)


def _gunicorn(bin_dir: Path, port: int, app: str) -> list[str]:
    """gunicorn serving an app of this module with the settings of `exomirkg serve`."""
    return [str(bin_dir / "gunicorn"), "--pythonpath", str(Path(__file__).resolve().parent),
            "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "8", "--no-control-socket",
            # `exomirkg serve` logs each request too (to stdout, sent to /dev/null here).
            "--access-logfile", "-", app]


def _lookup_vs_floor(port: int, path: str | Callable[[], str],
                     form: bytes | Callable[[], bytes] | None, empty_port: int, args) -> float:
    """Median over rounds of (lookup p50 / empty p50). In each round one client sends the
    two in turn, request by request, so that both meet the same moments of a noisy machine
    (measured one after the other, the empty app's p50 moved by up to a third between
    rounds of the same run)."""
    ratios = []
    for _ in range(args.floor_rounds):
        floor, lookup = _alternate([(empty_port, "/ping", None), (port, path, form)],
                                   args.requests, args.budget)
        if floor and lookup:
            ratios.append(statistics.median(lookup) / statistics.median(floor))
    return statistics.median(ratios) if ratios else float("nan")


def _alternate(targets: list[tuple[int, str | Callable[[], str],
                                   bytes | Callable[[], bytes] | None]],
               count: int, budget: float) -> list[list[float]]:
    """Latencies of ``count`` requests to each (port, path, form) target, one client sending
    them in turn (the order reversed every turn), within ``budget`` s; failures left out."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
             for port, _, _ in targets]
    latencies: list[list[float]] = [[] for _ in targets]
    deadline = time.monotonic() + budget
    try:
        for turn in range(count):
            if time.monotonic() > deadline:
                break
            order = range(len(targets)) if turn % 2 == 0 else range(len(targets) - 1, -1, -1)
            for i in order:
                _, path, form = targets[i]
                target = path() if callable(path) else path
                body = form() if callable(form) else form
                start = time.perf_counter()
                try:
                    status = _send(conns[i], target, body)
                except OSError:
                    conns[i].close()
                    continue
                if status == 200:
                    latencies[i].append(time.perf_counter() - start)
    finally:
        for conn in conns:
            conn.close()
    return latencies


def _compare(targets: list[tuple[int, str, str, bytes | None]], count: int, concurrency: int,
             args) -> tuple[list[dict], list[float], list[list[dict]]]:
    """Measure the servers in alternating rounds (the CPU is shared and noisy).

    ``targets`` are (port, request path, settle path, form body or None), ours first. Each
    round gives every server the same share of the request count and time budget, in an order
    that reverses every round; the ratio ours/baseline reported is the median of the rounds'
    throughput ratios, the latencies are pooled. When a server left requests unfinished in some
    round, the ratio is that of the pooled throughputs instead. The rounds themselves come
    last (per server, in ``targets``' order).
    """
    rounds = max(1, args.rounds)
    runs: list[list[dict]] = [[] for _ in targets]
    for round_ in range(rounds):
        order = list(range(len(targets)))
        for i in (order if round_ % 2 == 0 else order[::-1]):
            port, path, settle, form = targets[i]
            runs[i].append(_measure(port, path, max(1, count // rounds), concurrency,
                                    args.budget / rounds, form))
            _settle(port, settle)
    pooled = [_pool(run) for run in runs]
    ratios = []
    for run, base in zip(runs[1:], pooled[1:], strict=True):
        if pooled[0]["failed"] or base["failed"]:
            ratios.append(pooled[0]["rps"] / base["rps"] if base["rps"] else float("inf"))
        else:
            ratios.append(statistics.median(a["rps"] / b["rps"]
                                            for a, b in zip(runs[0], run, strict=True)))
    return pooled, ratios, runs


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
    why: Counter[str] = Counter()
    for result in results:
        why.update(result["why"])
    return {"n": len(latencies), "failed": sum(result["failed"] for result in results),
            "why": dict(why),
            "p50": statistics.median(latencies) if latencies else None, "p95": p95,
            "rps": len(latencies) / wall if wall else 0.0}


def _start_servers(args, trig: Path, nt: Path, size: str,
                   bin_dir: Path) -> dict[str, tuple[subprocess.Popen, int, str, str]]:
    """Start ours and the baselines asked for: name -> (process, port, /sparql, settle path)."""
    servers: dict[str, tuple[subprocess.Popen, int, str, str]] = {}
    try:
        port = _free_port()
        # A synthetic graph has no build-info.json (it was never validated): allow it.
        # Defaults but the time limit (a query of the 10^5 graph must not be the one cut);
        # ROW_CAP's default is complete answers, as the baselines give.
        process = _start([str(bin_dir / "exomirkg"), "serve", "--data", str(trig), "--host",
                          "127.0.0.1", "--port", str(port), "--workers", "2", "--threads",
                          "8", "--query-workers", "2", "--timeout", "120",
                          "--answer-cache", str(args.answer_cache),
                          *([] if size == "review" else ["--allow-invalid"])],
                         port, "/health")
        _wait_idle(process)
        servers["ours"] = (process, port, "/sparql", "/sparql")
        for name in ("bare", "bare-again"):
            if name not in args.against:
                continue
            port = _free_port()
            process = _start(_gunicorn(bin_dir, port, "server:bare_app"), port,
                             "/sparql?query=ASK%7B%7D", env={BARE_DATA: str(trig)})
            _wait_idle(process)
            servers[name] = (process, port, "/sparql", "/sparql")
        if "rdflib" in args.against:
            port = _free_port()
            process = _start([str(bin_dir / "rdflib-endpoint"), "serve", str(nt), "--host",
                              "127.0.0.1", "--port", str(port)], port,
                             "/sparql?query=ASK%7B%7D", limit=600)
            # rdflib-endpoint serves SPARQL at its root.
            servers["rdflib"] = (process, port, "/", "/")
    except BaseException:
        for process, *_ in servers.values():
            _stop(process)
        raise
    return servers


def _run_sizes(args, folder: Path, bin_dir: Path, empty_port: int) -> None:
    for size in args.sizes.split(","):
        trig, nt, count = _prepare(size, folder)
        print(f"\n== {size} graph: {count} triples, queries by {args.method}, our answer "
              f"cache {args.answer_cache} MB ==")
        servers = _start_servers(args, trig, nt, size, bin_dir)
        names = [name for name in ("ours", *BASELINES) if name in servers]
        cells: list[tuple[float, str]] = []  # ours/bare at the concurrencies of point 4
        noise: list[tuple[float, str]] = []  # bare-again/bare at the same concurrencies
        floor: float | None = None
        try:
            print(f"{'query':<18}{'c':>3} | " + " | ".join(
                f"{name + ' p50':>10}{'p95':>9}{'req/s':>8}" for name in names)
                + " | " + " ".join(f"{'x ' + name:>8}" for name in names[1:]) + "  notes")
            for name in args.queries.split(","):
                targets = [_target(servers[s], QUERIES[name], args) for s in names]
                # Warm-up, not counted: connections, worker processes, caches.
                for (port, path, _, form), server in zip(targets, names, strict=True):
                    _measure(port, path, 2 if server == "rdflib" else 16,
                             1 if server == "rdflib" else 8, args.budget, form)
                for concurrency in args.concurrency:
                    count_n = args.requests if concurrency == 1 else args.requests * 2
                    results, ratios, runs = _compare(targets, count_n, concurrency, args)
                    notes = [f"{server}: {result['failed']} failed/timed out ("
                             + ", ".join(f"{why}: {n}" for why, n in sorted(result["why"].items()))
                             + ")"
                             for server, result in zip(names, results, strict=True)
                             if result["failed"]]
                    print(f"{name:<18}{concurrency:>3} | " + " | ".join(
                        f"{_ms(r['p50'])}  {_ms(r['p95'])}{r['rps']:8.1f}" for r in results)
                        + " | " + " ".join(f"{ratio:8.2f}" for ratio in ratios)
                        + f"  {'; '.join(notes)}", flush=True)
                    if "bare" in names and concurrency in TARGET_CONCURRENCY:
                        where = f"{name} c={concurrency}"
                        cells.append((ratios[names.index("bare") - 1], where))
                        if "bare-again" in names:
                            noise.append((statistics.median(
                                again["rps"] / bare["rps"] for again, bare in zip(
                                    runs[names.index("bare-again")], runs[names.index("bare")],
                                    strict=True)), where))
                if name == "label lookup":
                    for server in ("ours", "bare"):
                        if server in servers:
                            _, path, _, form = targets[names.index(server)]
                            ratio = _lookup_vs_floor(servers[server][1], path, form,
                                                     empty_port, args)
                            print(f"{'':<18}    {server} lookup p50 / empty Flask p50 = "
                                  f"{ratio:.2f} (median of {args.floor_rounds} rounds, the "
                                  "two sent in turn)", flush=True)
                            if server == "ours":
                                floor = ratio
        finally:
            for process, *_ in servers.values():
                _stop(process)
        _summarise(cells, floor, noise)


#: The counter ``--unique`` numbers requests with (across cells and servers: a text is never
#: sent twice).
_SENT = itertools.count()


def _target(server: tuple, query: str, args) -> tuple:
    """(port, request path, settle path, form body or None) of a query for a server; with
    ``--unique`` the path (GET) or the form (POST) is a function giving a new text each time."""
    _process, port, path, settle = server

    def encoded() -> str:
        return urlencode({"query": f"{query}\n# request {next(_SENT)}" if args.unique
                          else query})

    if args.method == "GET":
        return (port, (lambda: f"{path}?{encoded()}") if args.unique
                else f"{path}?{encoded()}", settle, None)
    return (port, path, settle, (lambda: encoded().encode()) if args.unique
            else encoded().encode())


def _summarise(cells: list[tuple[float, str]], floor: float | None,
               noise: list[tuple[float, str]] | None = None) -> None:
    """Say whether the figures meet point 4 of issue 17: ``cells`` are (ours/bare throughput,
    where), ``floor`` ours lookup p50 / empty p50, ``noise`` (bare-again/bare, where): the
    same test applied to the bare app against itself."""
    for label, ratios in (("ours/bare", cells), ("noise floor: bare-again/bare", noise or [])):
        if ratios:
            worst = min(ratios)
            print(f"point 4: {label} throughput >= {TARGET_RATIO} at c=1,8 in "
                  f"{sum(r >= TARGET_RATIO for r, _ in ratios)} of {len(ratios)} cells; "
                  f"lowest {worst[0]:.2f} ({worst[1]})")
    if floor is not None:
        print(f"point 4: lookup p50 / empty p50 = {floor:.2f} (target <= {TARGET_FLOOR})")


if __name__ == "__main__":
    main()
