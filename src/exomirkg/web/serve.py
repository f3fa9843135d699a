"""Run the app under gunicorn (the production WSGI server)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["default_queue", "prepare_data", "run_server"]


def prepare_data(build_dir: Path, data_file: Path | None = None,
                 progress: Any = None) -> tuple[Path, dict[str, Any]]:
    """Make sure there is data to serve: build it when the build folder has none.

    :returns: the TriG file and its build info (empty when there is none).
    """
    from exomirkg.build import BUILD_INFO, TRIG_FILE, build
    from exomirkg.web.state import read_build_info

    if data_file is not None:
        return data_file, read_build_info(data_file.with_name(BUILD_INFO))
    trig = build_dir / TRIG_FILE
    if not trig.is_file():
        build(build_dir, progress=progress)
    return trig, read_build_info(build_dir / BUILD_INFO)


def _start_query_workers(worker: Any) -> None:
    """gunicorn hook: start the query processes at boot, not on the first request."""
    state = worker.wsgi.extensions.get("exomirkg")
    if state is not None and state.engine is not None:
        state.engine.start()


def default_queue(threads: int, query_workers: int) -> int:
    """Queries that may wait for a query process in one gunicorn worker, when not set.

    A worker takes about its share of the connections (``BufferingWorker.accept_share``: its
    query processes and as many waiting), but that is a race: in one benchmark round of 8
    clients in 40 one worker took 5 connections, and its fifth client got 117 503s while the
    other worker's processes had room. Room to wait for the threads a worker can spare
    turns such a split into a short wait: all but two threads (for pages and /health;
    queries by GET, or POST with a length, wait in the event loop, holding none:
    web/front.py), and never less than one place per query process.

    >>> default_queue(8, 2), default_queue(4, 1), default_queue(4, 2)
    (4, 1, 2)
    """
    return max(query_workers, threads - query_workers - 2)


def run_server(*, host: str, port: int, workers: int = 2, threads: int = 8,
               access_log: bool = True, settings: Mapping[str, Any] | None = None,
               read_timeout: float = 10.0) -> None:
    """Serve :func:`exomirkg.web.create_app` with gunicorn until interrupted.

    :param threads: request threads per worker; long queries hold at most
        ``QUERY_WORKERS + QUERY_QUEUE`` of them, the rest serve lookups, pages and /health.
    :param read_timeout: seconds a client has to send a whole request (408 after), and to
        take each later read or write (:mod:`exomirkg.web.front`).
    :param access_log: log each request to stdout.
    :param settings: app settings (``QUERY_TIMEOUT``, ``ROW_CAP``, ...) given on the command
        line; each gunicorn worker's ``create_app`` applies them over its config file and
        environment (nothing is written to ``os.environ``).
    """
    from gunicorn.app.base import BaseApplication

    from exomirkg.settings import DEFAULTS
    from exomirkg.web import create_app
    from exomirkg.web.front import AccessLogger, BufferingWorker
    from exomirkg.web.hotpath import inline_target

    overrides = {key: value for key, value in (settings or {}).items() if value is not None}
    query_timeout = float(overrides.get("QUERY_TIMEOUT", DEFAULTS["QUERY_TIMEOUT"]))
    query_workers = int(overrides.get("QUERY_WORKERS", DEFAULTS["QUERY_WORKERS"]))
    queue = overrides.get("QUERY_QUEUE", DEFAULTS["QUERY_QUEUE"])
    if queue in (None, ""):
        overrides["QUERY_QUEUE"] = default_queue(threads, query_workers)
    # Class attributes set here reach the forked workers.
    worker_class = type("ExomirkgWorker", (BufferingWorker,), {
        "read_timeout": read_timeout, "io_timeout": read_timeout,
        "body_cap": int(overrides.get("BODY_CAP", DEFAULTS["BODY_CAP"])),
        # A worker's share of the connections: its query processes and as many waiting (the
        # default queue is longer, for the clients of a worker that wins more: default_queue).
        "accept_share": query_workers + (query_workers if queue in (None, "") else int(queue)),
        # Queries to /sparql answered by the event loop, without a thread's hop: lookups
        # and kept answers at once, the rest parked while a query process evaluates them
        # (web/front.py).
        "inline_target": staticmethod(inline_target)})

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", worker_class)
            # Queries are stopped by the app's own time limit; gunicorn only catches hangs.
            self.cfg.set("timeout", int(query_timeout) + 30)
            self.cfg.set("accesslog", "-" if access_log else None)
            self.cfg.set("logger_class", AccessLogger)  # the same lines, written faster
            # No control socket in ~/.gunicorn: several servers may run side by side.
            self.cfg.set("control_socket_disable", True)
            self.cfg.set("post_worker_init", _start_query_workers)

        def load(self):
            return create_app(overrides=overrides)

    _Server().run()
