"""Helpers shared by test modules that talk to a real listening server on 127.0.0.1 (and the
browser tests' wait), and the benchmarks' modules the tests use."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import requests
from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def fresh_app(build_dir: Path | None = None, **settings: object) -> Iterator[Flask]:
    """A new app with these settings (over ``build_dir`` when given); its query processes are
    closed on exit, whatever the test did. The one way the tests make an app: conftest's
    ``app`` and ``make_app`` fixtures and every module-scoped app use it."""
    from exomirkg.web import create_app

    config: dict[str, object] = {"TESTING": True, **settings}
    if build_dir is not None:
        config["BUILD_DIR"] = str(build_dir)
    app = create_app(config)
    try:
        yield app
    finally:
        engine = app.extensions["exomirkg"].engine
        if engine is not None:
            engine.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve the app on a real socket (127.0.0.1, a free port); yield its base URL.

    On exit the server stops (whoever made the app closes it: :func:`fresh_app`).
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def cli_server(*args: str, stdout: int = subprocess.DEVNULL
               ) -> Iterator[tuple[str, subprocess.Popen]]:
    """`exomirkg serve` with ``args``, on a free port of 127.0.0.1, in its own session;
    yields its base URL and process (stderr piped, as text), and stops it on exit
    (:func:`stop_server`). Not waited for: :func:`wait_healthy` when the test needs it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "exomirkg", "serve", "--host", "127.0.0.1", "--port", str(port),
         *args],
        stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop_server(process)


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server started in its own session: its whole process group (gunicorn and its
    query processes), SIGTERM first, SIGKILL after 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def session_processes(session: int) -> dict[int, str]:
    """pid -> command line of every process in a session (a server's, started in its own)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) != session:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                found[int(entry)] = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
    return found


def query_processes(session: int) -> list[int]:
    """The query processes (``python -m exomirkg.sparql.engine``) of a server's session."""
    return [pid for pid, line in session_processes(session).items()
            if "exomirkg.sparql.engine" in line]


def wait_healthy(base: str, process: subprocess.Popen, limit: float = 90) -> requests.Response:
    """Wait until ``base``/health answers 200; fail if the server exits or takes too long."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"server exited early: {stderr}")
        try:
            response = requests.get(f"{base}/health", timeout=5)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base}/health did not answer within {limit} s")


class _CanaryHandler(BaseHTTPRequestHandler):
    """Answers any request like an empty SPARQL endpoint, so a leaked query 'succeeds'."""

    requests: list[str]

    def _answer(self) -> None:
        self.requests.append(f"{self.command} {self.path}")
        body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = _answer

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class _RecordingServer(ThreadingHTTPServer):
    """Counts every accepted TCP connection, not just well-formed HTTP requests.

    An https:// SERVICE IRI opens a connection that never becomes an HTTP request the
    handler can read (a TLS ClientHello); it is still an outbound request and must count.
    """

    daemon_threads = True
    connections: list[tuple[str, int]]

    def verify_request(self, request, client_address) -> bool:
        self.connections.append(client_address)
        return True

    def handle_error(self, request, client_address) -> None:
        pass  # a TLS hello or a dropped connection is counted above; no stack trace on stderr


class Canary:
    """A loopback HTTP server on 127.0.0.1 that records whoever connects to it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        handler = type("Handler", (_CanaryHandler,), {"requests": self.requests})
        self._server = _RecordingServer(("127.0.0.1", 0), handler)
        self._server.connections = []
        self.port: int = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        # A short poll interval: stop() then returns at once, not after serve_forever's 0.5 s.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    @property
    def hits(self) -> int:
        """Connections accepted so far (each leaked SERVICE call opens at least one)."""
        return len(self._server.connections)

    def describe(self) -> str:
        return f"{self.hits} connection(s), requests: {self.requests[-5:]}"

    def start(self) -> Canary:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def self_check(self) -> None:
        """Prove the canary counts a connection (else a 0-hit assertion could not fail)."""
        before = self.hits
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"GET /self-check HTTP/1.0\r\n\r\n")
            sock.recv(100)
        assert self.hits == before + 1, "the canary did not record a test connection"
        del self._server.connections[before:]
        del self.requests[-1:]


def wait_until(driver: object, timeout: float, condition: object) -> object:
    """Poll ``condition(driver)`` until it is truthy, for up to ``timeout`` s (a Selenium
    wait). A page that re-renders while it is polled (a results table filling in) makes an
    element found a moment ago stale: that poll counts as not yet, not as a failure; the
    condition itself is unchanged."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(
        StaleElementReferenceException,)).until(condition)


@cache  # one module object per benchmark, whichever test asks first
def benchmark(name: str) -> ModuleType:
    """A module of benchmarks/ (``synthetic``, ``incremental``): benchmark code, kept out of
    the package."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
