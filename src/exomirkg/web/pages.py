"""Pages for people: landing page, editor, entity pages, search, network, downloads."""

from __future__ import annotations

from flask import Blueprint

__all__ = ["bp"]

bp = Blueprint("pages", __name__)
