"""Benchmark: what this checkout's safety costs a lookup, against an earlier commit, same run.

Serves one build with ``exomirkg serve`` twice on 127.0.0.1, once from this checkout and
once from ``--ref`` (checked out with ``git worktree`` into a temporary folder and run with
its own ``src`` first on ``PYTHONPATH``), then sends label lookups at concurrency 1 and 8 in
alternating rounds (which server goes first alternates too) and prints each round's
throughput and the median ratio new/old. Not a test: it prints, it asserts nothing.

    python benchmarks/safety_cost.py [--ref 14cfadd] [--requests 1500] [--rounds 9]
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

ROOT = Path(__file__).resolve().parents[1]
LOOKUP = ('PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> '
          'SELECT ?s WHERE { ?s rdfs:label "drug efflux"@en }')


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(build: Path, src: Path | None) -> tuple[int, subprocess.Popen]:
    port = _port()
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    process = subprocess.Popen(
        [sys.executable, "-m", "exomirkg", "serve", "--port", str(port), "--out", str(build),
         "--workers", "2", "--no-access-log"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                time.sleep(3)  # let the query processes come up
                return port, process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("a server did not start")


def _throughput(port: int, clients: int, requests: int) -> float:
    path = "/sparql?" + urlencode({"query": LOOKUP})
    done: list[int] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while len(done) < requests:
            connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            response = connection.getresponse()
            response.read()
            done.append(response.status)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="14cfadd", help="the commit to compare against")
    parser.add_argument("--requests", type=int, default=1500, help="per round and server")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree, build = Path(tmp) / "old", Path(tmp) / "build"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach",
                        str(old_tree), args.ref], check=True)
        try:
            subprocess.run([sys.executable, "-m", "exomirkg", "build", "--out", str(build)],
                           check=True, stdout=subprocess.DEVNULL)
            servers = {"old": _serve(build, old_tree / "src"), "new": _serve(build, None)}
            try:
                for clients in (1, 8):
                    ratios = []
                    for round_ in range(args.rounds):
                        order = ("new", "old") if round_ % 2 else ("old", "new")
                        rate = {name: _throughput(servers[name][0], clients, args.requests)
                                for name in order}
                        ratios.append(rate["new"] / rate["old"])
                        print(f"concurrency {clients}, round {round_}: old {rate['old']:.0f}, "
                              f"new {rate['new']:.0f} req/s, new/old {ratios[-1]:.2f}",
                              flush=True)
                    print(f"concurrency {clients}: median new/old "
                          f"{statistics.median(ratios):.2f}", flush=True)
            finally:
                for _, process in servers.values():
                    os.killpg(process.pid, signal.SIGTERM)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(old_tree)], check=False)


if __name__ == "__main__":
    main()
