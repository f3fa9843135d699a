"""The endpoint's settings and their defaults, in one place (no Flask here).

Each can be overridden in ``server/instance/config.py``, by an ``EXOMIRKG_<NAME>``
environment variable, or by the matching ``exomirkg serve`` flag (server/README.md).
"""

from __future__ import annotations

import os
from typing import Any

from exomirkg import paths

__all__ = ["DEFAULTS", "default_query_memory"]


def default_query_memory() -> int:
    """Bytes one query may allocate by default: an eighth of the machine's memory.

    Two web processes with two query processes each then stay within half the machine.
    """
    return max(256 * 2**20, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 8)


#: Settings and their defaults; each can be overridden in ``server/instance/config.py`` or
#: by an ``EXOMIRKG_<NAME>`` environment variable (see server/README.md).
DEFAULTS: dict[str, Any] = {
    "BUILD_DIR": str(paths.BUILD_DIR),
    #: A TriG file to serve instead of BUILD_DIR/exomirkg.trig (tests, other datasets).
    "DATA_FILE": None,
    #: An on-disk pyoxigraph store folder (filled from the TriG when empty); in memory if unset.
    "STORE_PATH": None,
    #: Seconds a query may wait for a query process and run before it is stopped (503).
    "QUERY_TIMEOUT": 30.0,
    #: Worker processes evaluating queries at once, per web server process.
    "QUERY_WORKERS": 2,
    #: Queries that may wait for a busy query process, per web server process; more are
    #: refused at once (503 + Retry-After). None: as many as QUERY_WORKERS.
    "QUERY_QUEUE": None,
    #: Bytes one query may allocate in its query process (503 above; the process is
    #: replaced). Default: an eighth of the machine's memory. 0 turns the limit off.
    "QUERY_MEMORY": default_query_memory(),
    #: Poll briefly instead of sleeping around each query (faster short queries, at most
    #: ~2 ms of CPU per query; web/engine.py). Set false to save that CPU.
    "QUERY_SPIN": True,
    #: Answer one-pattern lookups (web/guard.py ``is_lookup``) in the web process, skipping
    #: the hop to a query process; they are one index scan and cannot run away.
    "INPROCESS_LOOKUPS": True,
    #: Most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned; more is cut, and flagged.
    #: 0: complete answers (as Oxigraph and Fuseki give), bounded by time and memory limits.
    "ROW_CAP": 0,
    #: Largest request body in bytes (413 above).
    "BODY_CAP": 1_000_000,
    #: Origins allowed by CORS: "*" or a comma-separated list; "" turns CORS off.
    "CORS_ORIGINS": "*",
    #: Serve data not shown to pass validation (build-info.json "conforms" false or missing).
    "ALLOW_INVALID": False,
    #: Where queries run: "embedded" (pyoxigraph in this process's workers) or an external
    #: SPARQL 1.1 engine, "sparql+http://HOST:PORT/sparql" (docs/scale.md).
    "BACKEND": "embedded",
}
