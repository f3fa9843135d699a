"""The downloads of the app's store, made once per app (:mod:`exomirkg.downloads`).

The views that send them are in :mod:`exomirkg.web.downloads`.
"""

from __future__ import annotations

from exomirkg import paths
from exomirkg.downloads import Download, make_downloads
from exomirkg.web.findings import all_findings
from exomirkg.web.helpers import cached
from exomirkg.web.state import get_state

__all__ = ["downloads"]


def downloads() -> dict[str, Download]:
    """Every download, generated once per app from the loaded store."""
    def make_all() -> dict[str, Download]:
        state = get_state()
        return make_downloads(state.store, state.info, paths.layout(), all_findings())

    return cached("downloads", make_all)
