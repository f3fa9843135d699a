"""Query backends other than the embedded pyoxigraph store (external SPARQL 1.1 engines)."""

from __future__ import annotations

__all__ = ["is_external"]


def is_external(backend: str | None) -> bool:
    """Whether a ``BACKEND`` setting names an external engine (``sparql+http(s)://...``).

    >>> is_external("sparql+http://127.0.0.1:8890/sparql"), is_external("embedded")
    (True, False)
    """
    return bool(backend) and str(backend).startswith(("sparql+http://", "sparql+https://"))
