"""The findings browser: /findings (HTML table with facets), /findings.csv, /findings.tsv and
/statements. The table logic lives in :mod:`exomirkg.web.facets`; these are the views.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for

from exomirkg.web.facets import (
    COLUMNS,
    PAGE_SIZE,
    BadParameter,
    findings_table,
    read_state,
    sparql_for,
    statements,
    table_bytes,
)
from exomirkg.web.helpers import error_page

__all__ = ["bp"]

bp = Blueprint("browse", __name__)

#: Export format -> (media type, delimiter).
EXPORTS = {"csv": ("text/csv", ","), "tsv": ("text/tab-separated-values", "\t")}


def _bad_request(message: str) -> Response:
    """400 saying which parameter is wrong: an HTML page for browsers, plain text otherwise."""
    return error_page(400, message)


def _query_string(pairs: list[tuple[str, str]]) -> str:
    return ("?" + urlencode(pairs)) if pairs else ""


def _export(rows: list, fmt: str) -> Response:
    media, delimiter = EXPORTS[fmt]
    response = Response(table_bytes(rows, delimiter), mimetype=media)
    response.headers["Content-Type"] = f"{media}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="findings.{fmt}"'
    return response


def _findings(fmt: str | None) -> Response:
    table = findings_table()
    args = request.args
    if fmt is not None and "format" in args:
        return _bad_request(f"/findings.{fmt} takes no format parameter; use /findings?format=")
    try:
        state = read_state(args, table, fmt)
        view = table.view(state)
    except BadParameter as error:
        return _bad_request(str(error))
    if state.format in EXPORTS:
        return _export(view.rows, state.format)
    here = url_for(".findings")

    def link(pairs: list[tuple[str, str]]) -> str:
        return here + _query_string(pairs)

    def sort_link(key: str) -> str:
        descending = state.sort == key and not state.descending
        return link(state.params(sort=("-" if descending else "") + key))

    sparql = sparql_for(table, state)
    return Response(render_template(
        "findings.html", title="Findings", view=view, state=state, columns=COLUMNS,
        page_size=PAGE_SIZE, link=link, sort_link=sort_link,
        csv_url=url_for(".export", fmt="csv") + _query_string(state.params()),
        tsv_url=url_for(".export", fmt="tsv") + _query_string(state.params()),
        sparql=sparql, sparql_url=url_for("pages.editor") + "?" + urlencode({"query": sparql}),
        statement_count=len(statements())))


@bp.route("/findings")
def findings() -> Response:
    """Every finding as a table: facet filters with counts (AND across filters, OR within
    one), ``sort``, ``page``, ``exclude_retracted``; ``format=csv|tsv`` exports the view."""
    return _findings(None)


@bp.route("/findings.<any(csv, tsv):fmt>")
def export(fmt: str) -> Response:
    """The filtered view (every page) as CSV or TSV: the same filters as /findings."""
    return _findings(fmt)


@bp.route("/statements")
def statements_page() -> Response:
    """The statements (``ekg:Statement``): plain triples the review states, with evidence;
    ``exclude_retracted`` drops those citing a retracted reference."""
    flag = request.args.get("exclude_retracted", "")
    unknown = sorted(set(request.args) - {"exclude_retracted"})
    if unknown:
        return _bad_request(f"unknown parameter {unknown[0]!r} for /statements; "
                            "the only one is exclude_retracted")
    if flag.lower() not in {"", "0", "1", "true", "false", "on", "off", "yes", "no"}:
        return _bad_request("exclude_retracted: use 1 or 0")
    exclude = flag.lower() in {"1", "true", "on", "yes"}
    everything = statements()
    shown = [s for s in everything if not (exclude and s.retracted)]
    return Response(render_template(
        "statements.html", title="Statements", statements=shown, total=len(everything),
        exclude_retracted=exclude, finding_count=len(findings_table().rows)))
