"""Benchmark: how long every kind of page takes, against /health measured in the same run.

Builds the review graph once, makes the Flask app over it and asks each page ``--rounds``
times through the test client after one warm-up request (the first request of an app builds
the per-app tables once). Prints the median milliseconds per page and its ratio to /health,
the cheapest route, so a noisy machine shows up in both. Issue 16 asks for every page under
200 ms on the review graph. Not a test: it prints, it asserts nothing.

    python benchmarks/pages.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from exomirkg.build import build
from exomirkg.web import create_app

#: One page of every kind, with the Accept header a browser sends.
PAGES = ["/health", "/", "/findings", "/findings?drug=cisplatin",
         "/findings?page=3&sort=-mechanisms", "/findings.csv?exclude_retracted=1",
         "/statements", "/cisplatin", "/mir_21",
         "/finding_2_2_caf_mir_21_paclitaxel",
         "/statement_cancer_stem_cell_has_high_marker_cd44",
         "/link_cisplatin_drug_efflux", "/review", "/section_2_4", "/editor", "/network",
         "/search?q=cisplatin", "/search?q=exosome", "/download", "/ontology",
         "/queries/mirnas-of-the-review"]
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        build(Path(folder))
        app = create_app({"TESTING": True, "BUILD_DIR": folder})
        client = app.test_client()
        medians: dict[str, float] = {}
        for path in PAGES:
            client.get(path, headers=HTML).close()
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                response = client.get(path, headers=HTML)
                response.get_data()
                times.append(time.perf_counter() - start)
                status = response.status_code
                response.close()
            medians[path] = statistics.median(times)
            if status != 200:
                print(f"{path}: HTTP {status}")
        base = medians["/health"]
        print(f"{'page':<56} {'median ms':>10} {'x /health':>10}")
        for path, median in medians.items():
            print(f"{path:<56} {median * 1000:>10.1f} {median / base:>10.1f}")
        slowest = max(medians, key=medians.get)
        print(f"slowest: {slowest} {medians[slowest] * 1000:.1f} ms "
              f"({sum(m < 0.2 for m in medians.values())} of {len(medians)} under 200 ms)")


if __name__ == "__main__":
    main()
