"""The Flask application: SPARQL endpoint, competency queries and pages for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from exomirkg import paths

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; the graph is loaded once into ``app.extensions["exomirkg"]``.

    :param test_config: settings that replace the instance config and environment.
    """
    app = Flask(__name__, instance_path=str(paths.SERVER_DIR / "instance"),
                instance_relative_config=True)
    app.config.from_mapping(BUILD_DIR=str(paths.BUILD_DIR))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("EXOMIRKG")
    else:
        app.config.from_mapping(test_config)

    from exomirkg.web.state import init_state

    init_state(app)

    from exomirkg.web import pages, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(pages.bp)
    return app
