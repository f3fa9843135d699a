"""Benchmark: /search on the review graph and on a synthetic graph of about 10^5 triples.

For each graph: builds the app, times building the search index once (what the first /search
of an app pays), then asks /health and a set of queries ``--rounds`` times each through the
test client after a warm-up, and prints the median milliseconds per request, its ratio to
/health measured in the same run (so a noisy machine shows in both), and the total found.
The synthetic graph is ``benchmarks/synthetic.py``'s ``generate(100000)``, served as TriG
without a build (``ALLOW_INVALID``). Not a test: it prints figures, it asserts nothing.

    python benchmarks/search.py [--rounds 15] [--sizes review,100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask

from exomirkg.build import build
from exomirkg.web import create_app
from exomirkg.web.graphdata import search_index

#: Queries people type on the review graph: names, words of findings, identifiers, a DOI, a typo.
REVIEW_QUERIES = ["miR-21", "cisplatin", "exosome", "cisplatin resistance", "CAF miR-21",
                  "MIMAT0000076", "CHEBI:27899", "GO:0006915", "10.1038/ncomms11150",
                  "cisplatn", "cisplatn resistance", "exosome&page=7"]
#: The same kinds of query on the synthetic graph (labels "synthetic drug 12", quotes
#: "Synthetic statement 7 of seed 1.").
SYNTHETIC_QUERIES = ["synthetic drug 12", "drug", "synthetic", "statement 42", "12-syn",
                     "mirna 7 synthetic", "synthetc", "synthetc drug 12", "synthetic&page=40"]
JSON = {"Accept": "application/json"}


def _median_ms(app: Flask, path: str, rounds: int) -> tuple[float, int | None]:
    client = app.test_client()
    client.get(path, headers=JSON).close()
    times = []
    total = None
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path, headers=JSON)
        body = response.get_json(silent=True)
        times.append(time.perf_counter() - start)
        if isinstance(body, dict):
            total = body.get("total")
        response.close()
    return statistics.median(times) * 1000, total


def _measure(name: str, app: Flask, queries: list[str], rounds: int) -> None:
    with app.app_context():
        start = time.perf_counter()
        index = search_index()
        built = (time.perf_counter() - start) * 1000
        items = len(index)
    triples = len(app.extensions["exomirkg"].store)
    print(f"\n{name}: {triples} quads, {items} searchable items, index built in {built:.0f} ms "
          "(once per app)")
    health, _ = _median_ms(app, "/health", rounds)
    print(f"{'request':<44} {'median ms':>10} {'x /health':>10} {'total':>7}")
    print(f"{'/health':<44} {health:>10.2f} {1.0:>10.1f} {'':>7}")
    medians = []
    for query in queries:
        path = f"/search?q={query}"
        median, total = _median_ms(app, path, rounds)
        medians.append(median)
        print(f"{path:<44} {median:>10.2f} {median / health:>10.1f} {total!s:>7}")
    print(f"slowest search {max(medians):.2f} ms, median {statistics.median(medians):.2f} ms "
          f"({statistics.median(medians) / health:.1f} x /health)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sizes", default="review,100000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes.split(","):
            if size == "review":
                build(Path(folder) / "review")
                app = create_app({"TESTING": True, "BUILD_DIR": str(Path(folder) / "review")})
                _measure("review graph", app, REVIEW_QUERIES, args.rounds)
                continue
            sys.path.insert(0, str(Path(__file__).parent))
            from synthetic import generate

            trig = Path(folder) / f"synthetic-{size}.trig"
            generate(int(float(size)), seed=1).serialize(trig, format="trig")
            app = create_app({"TESTING": True, "DATA_FILE": str(trig), "ALLOW_INVALID": True})
            _measure(f"synthetic graph, generate({int(float(size))})", app, SYNTHETIC_QUERIES,
                     args.rounds)


if __name__ == "__main__":
    main()
