"""The findings of the app's store, assembled once (:mod:`exomirkg.evidence`)."""

from __future__ import annotations

from exomirkg.evidence import FindingView, assemble_findings
from exomirkg.web.graphdata import select
from exomirkg.web.helpers import cached

__all__ = ["all_findings"]


def all_findings() -> list[FindingView]:
    """Every finding, assembled once per app (the store is read-only): the one list behind
    /findings, the network view and the findings downloads."""
    return cached("findings", lambda: assemble_findings(select("all-findings")))
