"""The Flask application: SPARQL endpoint, competency queries and pages for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from exomirkg import paths
from exomirkg.settings import DEFAULTS

__all__ = ["DEFAULTS", "create_app"]

def create_app(test_config: Mapping[str, Any] | None = None, *,
               overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; the graph is loaded once into ``app.extensions["exomirkg"]``.

    Settings (``exomirkg.settings``) are read once, here: defaults, then
    ``server/instance/config.py`` and ``EXOMIRKG_*`` variables, then ``overrides``.

    :param test_config: settings that replace the instance config and environment.
    :param overrides: settings given on the command line; they win over everything.
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
    if overrides:
        app.config.from_mapping(overrides)
    # Werkzeug stops reading a body one byte past the cap; protocol.read_request answers 413
    # for it (a chunked body has no length to check first, and must not be cut silently).
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["BODY_CAP"]) + 1

    from exomirkg.web.state import init_state

    init_state(app)

    from exomirkg.web import graphstore, helpers, pages, queries, security, sparql

    security.install(app)
    helpers.install(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(graphstore.bp)
    app.register_blueprint(queries.bp)
    app.register_blueprint(pages.bp)
    from exomirkg.web.hotpath import SparqlHotPath

    # Queries (GET, and POST with a body within the cap) skip Flask's request machinery:
    # the same checks, limits and headers (web/hotpath.py).
    app.wsgi_app = SparqlHotPath(app, app.wsgi_app)  # type: ignore[method-assign]
    return app
