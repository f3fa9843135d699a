"""Every setting of the endpoint, defined once (no Flask here).

:data:`SETTINGS` is the one table. From it come the app's defaults (:data:`DEFAULTS`), the
flags of ``exomirkg serve`` (:func:`click_options`), the ``EXOMIRKG_<NAME>`` environment
variables, and the table in server/README.md (:func:`markdown_table`, kept equal by a test).
An app reads its settings once, in ``create_app``: defaults, then ``server/instance/config.py``,
then the environment, then what the command line was given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from exomirkg import paths

__all__ = ["DEFAULTS", "SETTINGS", "Setting", "click_options", "default_query_memory_mb",
           "markdown_table", "setting"]

F = TypeVar("F", bound=Callable[..., Any])


def default_query_memory_mb() -> int:
    """MB one query may allocate by default: an eighth of the machine's memory.

    Two web processes with two query processes each then stay within half the machine.
    """
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(256, total // 8 // 2**20)


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default, meaning, and how it is given on the command line."""

    name: str
    default: Any
    help: str
    #: The ``exomirkg serve`` flag; a bool setting also gets ``--no-...``.
    flag: str
    #: ``int``, ``float``, ``bool``, ``str``, ``"dir"`` or ``"file"`` (an existing file).
    kind: Any = str
    #: Read by the app (``create_app``); False: by the web server (gunicorn) only.
    app: bool = True
    #: How --help and the docs show the default, when the value itself would mislead.
    shown: str | None = None

    @property
    def env(self) -> str:
        return f"EXOMIRKG_{self.name}"

    @property
    def parameter(self) -> str:
        return self.name.lower()

    def shown_default(self) -> str:
        if self.shown is not None:
            return self.shown
        if isinstance(self.default, bool):
            return "on" if self.default else "off"
        return f"`{self.default}`"

    def click_option(self) -> Callable[[F], F]:
        import click

        declaration = (f"{self.flag}/--no-{self.flag[2:]}" if self.kind is bool
                       else self.flag)
        kinds: dict[Any, Any] = {
            "dir": click.Path(file_okay=False, path_type=Path),
            "file": click.Path(dir_okay=False, exists=True, path_type=Path),
        }
        return click.option(declaration, self.parameter, default=self.default,
                            type=kinds.get(self.kind, None if self.kind is bool else self.kind),
                            envvar=self.env, help=self.help,
                            show_default=self.shown or (self.default is not None))


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", "address to bind", "--host", app=False),
    Setting("PORT", 8000, "port", "--port", int, app=False),
    Setting("WORKERS", 2, "gunicorn worker processes", "--workers", int, app=False),
    Setting("THREADS", 8, "threads per gunicorn worker; long queries hold at most "
            "query-workers + query-queue of them", "--threads", int, app=False),
    Setting("QUERY_WORKERS", 2, "query processes per gunicorn worker (queries evaluated at "
            "once)", "--query-workers", int),
    Setting("QUERY_QUEUE", None, "queries that may wait for a busy query process; more get "
            "503 with `Retry-After` at once", "--query-queue", int,
            shown="threads - query-workers - 2, at least query-workers"),
    Setting("QUERY_MEMORY", default_query_memory_mb(), "MB one query may allocate (503 "
            "above; the process is replaced); 0: no limit", "--query-memory", int,
            shown="1/8 of the machine"),
    Setting("QUERY_TIMEOUT", 30.0, "seconds a query may wait for a process and run, counted "
            "from its arrival (503 after)", "--timeout", float, shown="`30`"),
    Setting("READ_TIMEOUT", 10.0, "seconds a client has to send a whole request (408 after), "
            "and for each later read or write", "--read-timeout", float, app=False,
            shown="`10`"),
    Setting("INPROCESS_LOOKUPS", True, "answer one-pattern lookups in the web process (see "
            "Safety)", "--inprocess-lookups", bool),
    Setting("QUERY_SPIN", True, "poll briefly instead of sleeping around each query, only "
            "while a CPU would otherwise idle: `subClassOf*` at 1 client 0.80 -> 0.89-0.96x the "
            "bare app, for ~0.4 ms of CPU per query (see Benchmark)", "--query-spin", bool),
    Setting("ANSWER_CACHE", 64, "MB of complete answers each gunicorn worker keeps and "
            "gives again for the same query, media type and dataset (the data is read-only); "
            "0: none", "--answer-cache", int),
    Setting("ACCESS_LOG", True, "gunicorn's access log on stdout", "--access-log", bool,
            app=False),
    Setting("ROW_CAP", 0, "most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) per response, "
            "flagged when cut; 0: complete answers, bounded by the time and memory limits",
            "--row-cap", int),
    Setting("BODY_CAP", 1_000_000, "largest request body in bytes (413)", "--body-cap", int),
    Setting("CORS_ORIGINS", "*", "`*`, a comma-separated list of origins, or empty for no "
            "CORS", "--cors-origins"),
    Setting("STORE_PATH", None, "on-disk pyoxigraph store folder, filled from the build at "
            "start unless it already holds that build (replicas share one)", "--store-path",
            "dir", shown="(memory)"),
    Setting("DATA_FILE", None, "serve this TriG file instead of `build/exomirkg.trig`",
            "--data", "file", shown="(the build)"),
    Setting("BUILD_DIR", str(paths.BUILD_DIR), "build folder to serve (built first when "
            "empty)", "--out", "dir", shown="`build/`"),
    Setting("ALLOW_INVALID", False, "serve data that failed or skipped validation",
            "--allow-invalid", bool),
    Setting("BACKEND", "embedded", "query engine: `embedded`, or an external "
            "`sparql+http://HOST:PORT/PATH` ([docs/scale.md](../docs/scale.md))", "--backend"),
)

#: The app's settings and their defaults (what ``create_app`` starts from).
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS if s.app}


def setting(name: str) -> Setting:
    """The setting called ``name``."""
    return next(s for s in SETTINGS if s.name == name)


def click_options(settings: Iterable[Setting] = SETTINGS) -> Callable[[F], F]:
    """A decorator adding one click option per setting (flag, environment variable, help)."""
    chosen = list(settings)

    def decorate(function: F) -> F:
        for item in reversed(chosen):
            function = item.click_option()(function)
        return function

    return decorate


def markdown_table() -> str:
    """The settings as the Markdown table of server/README.md."""
    lines = ["| flag | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for item in SETTINGS:
        flag = (f"`{item.flag}` / `--no-{item.flag[2:]}`" if item.kind is bool
                else f"`{item.flag}`")
        lines.append(f"| {flag} | `{item.env}` | {item.shown_default()} | {item.help} |")
    return "\n".join(lines) + "\n"
