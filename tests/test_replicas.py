"""Replicas: app servers over one read-only on-disk store answer alike (issue 17, point 5).

The read-only service scales out by replication (docs/scale.md): app servers behind a load
balancer, each over a copy of the store, or over one folder they share. Here two
``python -m exomirkg serve`` processes share one store folder prepared once from the
session's build: they serve it as it is (no refill under each other), give byte-identical
answers, also while both are queried at once, and one keeps answering when another is
killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from helpers import free_port, stop_server, wait_healthy

from exomirkg import paths
from exomirkg.build import TRIG_FILE, BuildResult
from exomirkg.queries import load_queries
from exomirkg.store import prepare_store_dir

pytestmark = pytest.mark.slow

#: An example query and its answer pinned from the review (tests/test_queries.py).
PINNED_QUERY = "mirnas-acting-through-pi3k-akt"
PINNED_ANSWER = {"miR-21", "miR-32-5p"}
JSON = "application/sparql-results+json"
#: Requests whose answers must be the same, byte for byte, from every replica.
REQUESTS: list[tuple[str, dict[str, str]]] = [
    (f"/queries/{PINNED_QUERY}", {"Accept": JSON}),
    ("/health", {}),
    ("/paclitaxel", {"Accept": "text/html"}),
    ("/paclitaxel", {"Accept": "text/turtle"}),
    ("/sparql?query=" + quote("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), {"Accept": JSON}),
]
#: Requests per thread while both replicas are queried at once (bounded: ~10 s).
CONCURRENT_ROUNDS = 15
CONCURRENT_THREADS = 6


#: A server: its base URL, its process (the leader of its own process group), its log.
Replica = tuple[str, subprocess.Popen, Path]


def _start(build_dir: Path, store: Path, log: Path) -> Replica:
    """``python -m exomirkg serve`` over ``store`` on a free port; its stderr goes to ``log``."""
    port = free_port()
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "exomirkg", "serve", "--out", str(build_dir), "--store-path",
             str(store), "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--threads", "4", "--query-workers", "1", "--no-access-log",
             # Room for every concurrent client to wait: this test is about equal answers,
             # not admission control (a full queue's 503 is tested in tests/reliability).
             "--query-queue", "16"],
            stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True)
    return f"http://127.0.0.1:{port}", process, log


def _wait_serving_as_is(replica: Replica) -> None:
    base, process, log = replica
    wait_healthy(base, process)
    assert "as it is" in log.read_text(), (
        f"{base} refilled the shared store instead of serving it as it is: "
        f"{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def store_dir(built: BuildResult, build_dir: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One on-disk store folder, filled once from the session's build."""
    folder = tmp_path_factory.mktemp("replicas") / "store"
    prepare_store_dir(build_dir / TRIG_FILE, folder, in_child=True)
    return folder


@pytest.fixture(scope="module")
def replicas(build_dir: Path, store_dir: Path) -> Iterator[list[Replica]]:
    """Two servers over the same store folder; both stopped (process groups) at the end."""
    started: list[Replica] = []
    try:
        for index in range(2):
            started.append(_start(build_dir, store_dir, store_dir.parent / f"{index}.log"))
        for replica in started:
            _wait_serving_as_is(replica)
        yield started
    finally:
        for _, process, _ in started:
            stop_server(process)


def _get(base: str, path: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(base + path, headers=headers, timeout=30)


def _reads_folder(process: subprocess.Popen, folder: Path) -> bool:
    """Whether a process of this server's session has a file of ``folder`` open."""
    session = os.getsid(process.pid)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) != session:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(folder)):
                    return True
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return False


def _mirnas(response: requests.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {row["mirnaLabel"]["value"] for row in response.json()["results"]["bindings"]}


def test_the_pinned_query_is_the_one_asked() -> None:
    assert PINNED_QUERY in load_queries(paths.QUERIES_DIR), (
        f"{PINNED_QUERY}.rq is gone from server/queries/: pin another example query here")


def test_replicas_over_one_store_give_the_same_answers(replicas: list[Replica]) -> None:
    first, second = (base for base, _, _ in replicas)
    for base in (first, second):
        assert _mirnas(_get(base, *REQUESTS[0])) == PINNED_ANSWER, base
    for path, headers in REQUESTS:
        one, other = _get(first, path, headers), _get(second, path, headers)
        assert one.status_code == 200, f"{first}{path}: {one.status_code} {one.text[:300]}"
        assert (other.status_code, other.content) == (one.status_code, one.content), (
            f"{path} ({headers}): the replicas answer differently")


def test_replicas_read_the_one_folder(replicas: list[Replica], store_dir: Path) -> None:
    """Both servers really read the shared folder (files in it open), not a store of their
    own in memory (the default without --store-path)."""
    for base, process, _ in replicas:
        _get(base, *REQUESTS[-1])  # a query process has the store open by now
        assert _reads_folder(process, store_dir), f"{base} has no file of {store_dir} open"


def _key(path: str, headers: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return path, tuple(sorted(headers.items()))


def test_replicas_answer_alike_while_queried_at_once(replicas: list[Replica]) -> None:
    bases = [base for base, _, _ in replicas]
    reference = {_key(path, headers): _get(bases[0], path, headers).content
                 for path, headers in REQUESTS}
    problems: list[str] = []
    answered = [0]
    lock = threading.Lock()

    def client(offset: int) -> None:
        for round_ in range(CONCURRENT_ROUNDS):
            base = bases[(offset + round_) % 2]
            path, headers = REQUESTS[(offset + round_) % len(REQUESTS)]
            try:
                response = _get(base, path, headers)
            except requests.RequestException as error:
                with lock:
                    problems.append(f"{base}{path}: {error}")
                continue
            with lock:
                answered[0] += 1
                if response.status_code != 200 or \
                        response.content != reference[_key(path, headers)]:
                    problems.append(f"{base}{path}: {response.status_code}, "
                                    f"{len(response.content)} bytes unlike the reference")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "clients still waiting after 120 s"
    assert not problems, problems[:5]
    assert answered[0] == CONCURRENT_ROUNDS * CONCURRENT_THREADS


def test_killing_one_replica_leaves_the_others_answering(
        replicas: list[Replica], build_dir: Path, store_dir: Path) -> None:
    """A third replica over the same folder answers alike; SIGKILL its whole process group
    (gunicorn, its worker, its query process): it is gone, and the two others answer on."""
    doomed = _start(build_dir, store_dir, store_dir.parent / "killed.log")
    base, process, _ = doomed
    try:
        _wait_serving_as_is(doomed)
        assert _mirnas(_get(base, *REQUESTS[0])) == PINNED_ANSWER
        before = {_key(path, headers): _get(base, path, headers).content
                  for path, headers in REQUESTS}
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/health", timeout=2)
            except requests.ConnectionError:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"{base} still answers 10 s after its process group was killed")
        for survivor, _, _ in replicas:
            assert _mirnas(_get(survivor, *REQUESTS[0])) == PINNED_ANSWER, survivor
            for path, headers in REQUESTS:
                response = _get(survivor, path, headers)
                assert (response.status_code, response.content) == (
                    200, before[_key(path, headers)]), (
                    f"{survivor}{path} does not answer as the killed replica did")
    finally:
        stop_server(process)
