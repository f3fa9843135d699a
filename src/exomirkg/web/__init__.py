"""The Flask application: SPARQL endpoint, competency queries and pages for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from exomirkg import paths
from exomirkg.web.engine import default_query_memory

__all__ = ["DEFAULTS", "create_app"]

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
    #: Serve a build whose validation failed (build-info.json "conforms": false).
    "ALLOW_INVALID": False,
    #: Where queries run: "embedded" (pyoxigraph in this process's workers) or an external
    #: SPARQL 1.1 engine, "sparql+http://HOST:PORT/sparql" (docs/scale.md).
    "BACKEND": "embedded",
}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; the graph is loaded once into ``app.extensions["exomirkg"]``.

    :param test_config: settings that replace the instance config and environment.
    :raises exomirkg.web.state.InvalidBuildError: the build failed validation and
        ALLOW_INVALID is not set.
    """
    app = Flask(__name__, instance_path=str(paths.SERVER_DIR / "instance"),
                instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("EXOMIRKG")
    else:
        app.config.from_mapping(test_config)
    # Werkzeug refuses larger bodies with 413 while reading them.
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["BODY_CAP"])

    from exomirkg.web.state import init_state

    init_state(app)

    from exomirkg.web import graphstore, pages, queries, security, sparql

    security.install(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(graphstore.bp)
    app.register_blueprint(queries.bp)
    app.register_blueprint(pages.bp)
    return app
