"""Plain helpers for the reliability suite (fixtures live in conftest.py)."""

from __future__ import annotations

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from flask import Flask

#: The endpoint's answers must never show Python internals, whatever the client sent.
_INTERNALS = re.compile(rb"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


def make_app(build_dir: Path, **settings) -> Flask:
    """An app over the session's build; the caller closes its engine."""
    from exomirkg.web import create_app

    return create_app({"TESTING": True, "BUILD_DIR": str(build_dir), **settings})


def close_app(app: Flask) -> None:
    engine = app.extensions["exomirkg"].engine
    if engine is not None:
        engine.close()


def internals_shown(body: bytes) -> bool:
    """Whether a response body leaks a Python traceback."""
    return _INTERNALS.search(body) is not None


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
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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
