"""Run the app under gunicorn (the production WSGI server)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["run_server"]


def run_server(
    *, host: str, port: int, workers: int = 2, threads: int = 4, build_dir: Path | None = None
) -> None:
    """Serve :func:`exomirkg.web.create_app` with gunicorn until interrupted."""
    from gunicorn.app.base import BaseApplication

    from exomirkg import paths
    from exomirkg.build import TRIG_FILE, build
    from exomirkg.web import create_app

    target = Path(build_dir or paths.BUILD_DIR)
    # create_app() reads EXOMIRKG_* settings; each gunicorn worker builds its own app.
    os.environ["EXOMIRKG_BUILD_DIR"] = str(target)
    if not (target / TRIG_FILE).is_file():
        build(target)

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)

        def load(self):
            return create_app()

    _Server().run()
