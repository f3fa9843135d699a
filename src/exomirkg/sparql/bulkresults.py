"""Large SELECT answers through pyoxigraph's own (Rust) writers, still cut at the row cap.

Writing each term from Python costs about a microsecond (a Python object per term), several
times pyoxigraph's own writers. Those write a whole answer, so the cap is kept by streaming
the answer as SPARQL TSV (one line per solution: the format escapes newlines and tabs) into
a sink that counts lines and stops the writer one solution past the cap. The TSV is then
re-read by pyoxigraph and written in the negotiated format, all in Rust. The first rows are
already taken in Python (small answers are faster that way); they are prepended as TSV.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pyoxigraph

from exomirkg.sparql.negotiation import SOLUTION_FORMATS

__all__ = ["SOLUTION_FORMATS", "write_rest"]

_TSV = pyoxigraph.QueryResultsFormat.TSV


class _CapReached(Exception):
    """The writer produced a solution past the cap; the sink stops it."""


class _LineSink:
    """A file-like sink for pyoxigraph's writer that stops it after ``limit`` lines."""

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.lines = 0
        self.limit = limit

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.lines += chunk.count(b"\n")
        if self.lines > self.limit:
            raise _CapReached
        return len(chunk)

    def flush(self) -> None:
        """Nothing buffered here."""


def _tsv_line(row: Sequence) -> bytes:
    # N-Triples term syntax, as SPARQL TSV wants; str() already escapes \t, \n, \r, ".
    return ("\t".join("" if term is None else str(term) for term in row) + "\n").encode()


def _cut_after_lines(data: bytes, count: int) -> bytes:
    """The first ``count`` newline-terminated lines of ``data``."""
    end = 0
    for _ in range(count):
        end = data.index(b"\n", end) + 1
    return data[:end]


def write_rest(taken: list, rest: pyoxigraph.QuerySolutions, media: str, cap: int,
               note: str) -> tuple[bytes, int, bool] | None:
    """Write ``taken`` then the solutions left in ``rest``, at most ``cap`` rows in all.

    :param taken: solutions already read from ``rest`` (fewer than ``cap``).
    :param note: the truncation sentence, put in the body where the format has room.
    :returns: (body, rows, truncated), or None when these terms need the Python writers
        (RDF-star triple terms, whose TSV form differs); ``rest`` is then left unread.
    """
    if media not in SOLUTION_FORMATS or any(
            type(term) is pyoxigraph.Triple for row in taken for term in row):
        return None
    room = cap - len(taken)
    sink = _LineSink(1 + room)  # the header line, then at most ``room`` solutions
    try:
        rest.serialize(sink, format=_TSV)
        truncated = False
    except _CapReached:
        truncated = True
    written = b"".join(sink.chunks)
    if truncated:
        written = _cut_after_lines(written, 1 + room)
    header, _, tail = written.partition(b"\n")
    rows = len(taken) + tail.count(b"\n")
    tsv = header + b"\n" + b"".join(_tsv_line(row) for row in taken) + tail
    body = pyoxigraph.parse_query_results(tsv, format=_TSV).serialize(
        format=SOLUTION_FORMATS[media])
    if truncated:
        body = _with_note(body, media, cap, note)
    return body, rows, truncated


def _with_note(body: bytes, media: str, cap: int, note: str) -> bytes:
    """Add the truncation note where the format has room for one (JSON member, XML comment)."""
    if media == "application/sparql-results+json":
        # Between "head" and "results": strict parsers (pyoxigraph's) refuse members after
        # "results". Variable names cannot contain this text, so the first match is it.
        member = json.dumps({"limit": cap, "note": note}).encode()
        return body.replace(b',"results":', b',"exomirkg:truncated":' + member + b',"results":',
                            1)
    if media == "application/sparql-results+xml":
        start = body.find(b"<sparql")
        close = body.find(b">", start) if start >= 0 else -1
        if close >= 0:
            return body[:close + 1] + b"\n<!-- " + note.encode() + b" -->" + body[close + 1:]
    return body

