"""SPARQL ``.rq`` files: the grlc ``#+`` header parser, and a runner over pyoxigraph."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph
import yaml

__all__ = [
    "NamedQuery",
    "format_solutions",
    "load_queries",
    "parse_query_file",
    "read_header",
    "run_query",
]


@dataclass(frozen=True)
class NamedQuery:
    """A query file and its grlc header."""

    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: list[str] = field(default_factory=list)


def read_header(text: str) -> dict[str, Any]:
    """Read the grlc ``#+ key: value`` header of a ``.rq`` text (YAML, as grlc does).

    Shared by the example queries, the rules (``#+ stratum:``) and the checks (``#+ scope:``).

    :raises ValueError: when the header is not ``key: value`` YAML.
    """
    lines = [line[3:] for line in text.splitlines() if line.startswith("#+ ")]
    try:
        header = yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as error:
        # One line (YAML's message spans lines and draws a caret): the CLI prints one line.
        mark = getattr(error, "problem_mark", None)
        where = f" at header line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        raise ValueError(f"bad #+ header (YAML; quote values holding ': '): {problem}{where}"
                         ) from None
    if not isinstance(header, dict):
        raise ValueError("the #+ header must be 'key: value' lines")
    return header


def parse_query_file(path: Path) -> NamedQuery:
    """Read a ``.rq`` file and its ``#+ key: value`` header (YAML, as grlc does).

    :raises ValueError: when the header is not valid YAML.
    """
    text = path.read_text(encoding="utf-8")
    try:
        header = read_header(text)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return NamedQuery(
        name=path.stem,
        path=path,
        text=text,
        summary=str(header.get("summary") or "").strip(),
        description=str(header.get("description") or "").strip(),
        tags=[str(t) for t in header.get("tags") or []],
    )


def load_queries(directory: Path) -> dict[str, NamedQuery]:
    """Load every ``.rq`` file of a folder, keyed by file name without extension."""
    return {path.stem: parse_query_file(path) for path in sorted(directory.glob("*.rq"))}


def _term_text(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, (pyoxigraph.NamedNode, pyoxigraph.BlankNode, pyoxigraph.Literal)):
        return term.value
    return str(term)


def run_query(store: pyoxigraph.Store, text: str) -> tuple[list[str], list[list[str]]]:
    """Run a SELECT or ASK query over the union of the store's graphs.

    :returns: column names and rows of plain values (IRIs, literal lexical forms).
    :raises ValueError: for a syntax error or a query form without solutions.
    """
    try:
        result = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise ValueError(f"SPARQL syntax error: {error}") from None
    if isinstance(result, pyoxigraph.QueryBoolean):
        return ["boolean"], [["true" if bool(result) else "false"]]
    if not isinstance(result, pyoxigraph.QuerySolutions):
        raise ValueError("only SELECT and ASK queries print as a table")
    columns = [variable.value for variable in result.variables]
    rows = [[_term_text(solution[c]) for c in columns] for solution in result]
    return columns, rows


def format_solutions(columns: list[str], rows: list[list[str]], fmt: str) -> str:
    """Render a result as an aligned table, CSV, TSV or JSON (a list of objects)."""
    if fmt == "json":
        return json.dumps([dict(zip(columns, row, strict=False)) for row in rows], indent=2)
    if fmt in {"csv", "tsv"}:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
