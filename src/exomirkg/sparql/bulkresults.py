"""SELECT answers through pyoxigraph's own (Rust) writers, still cut at the row cap.

Writing each term from Python costs about a microsecond (a Python object per term), several
times pyoxigraph's own writers. :func:`write_whole` lets the writer write the negotiated
format straight away into a sink that counts solutions as they pass: lines in TSV (the
format escapes newlines and tabs), ``<result>`` elements in XML (``<`` is escaped in text),
and in JSON the ``},{`` between two solutions (an upper bound while writing, as a literal
may hold those three characters; exact at the end). The sink stops the writer one solution
past the cap and the answer is cut there, except in JSON, where :class:`CapUnsure` asks
for the query to be run again through :func:`write_rest`.

:func:`write_rest` streams the answer as SPARQL TSV into a sink that counts lines and stops
the writer one solution past the cap; the TSV is then re-read by pyoxigraph and written in
the negotiated format, all in Rust. Rows already taken in Python are prepended as TSV.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pyoxigraph

# SIMD substring counts: 5-8x bytes.count (a 51 kB answer's separators in 5 µs, not 41;
# 680 kB in 74 µs, not 540), and the count is on every answer's path (server/README.md).
from stringzilla import contains as _contains
from stringzilla import count as _count

from exomirkg.sparql.negotiation import SOLUTION_FORMATS

__all__ = ["SOLUTION_FORMATS", "CapUnsure", "write_rest", "write_whole"]

_TSV = pyoxigraph.QueryResultsFormat.TSV
_JSON_MEDIA = "application/sparql-results+json"
_XML_MEDIA = "application/sparql-results+xml"
_TSV_MEDIA = "text/tab-separated-values"
#: What marks one solution in each format :func:`write_whole` writes itself (CSV is not
#: one of them: a quoted value may hold a line break).
_MARKS = {_TSV_MEDIA: b"\n", _XML_MEDIA: b"<result>", _JSON_MEDIA: b"},{"}
#: A JSON string (the unrolled form: one pass, no backtracking).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


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
        self.lines += _count(chunk, b"\n")
        if self.lines > self.limit:
            raise _CapReached
        return len(chunk)

    def flush(self) -> None:
        """Nothing buffered here."""


class CapUnsure(Exception):
    """A JSON answer may have more solutions than the cap; its solutions are spent."""


class _MarkSink:
    """A file-like sink for pyoxigraph's writer: keeps what it writes, counts ``mark``
    (also across two writes), and stops the writer once the count passes ``limit``."""

    def __init__(self, mark: bytes, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.marks = 0
        self.mark = mark
        self.limit = limit
        self.tail = b""

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.marks += _count(chunk, self.mark)
        if len(self.mark) > 1:
            # A mark split between two writes: in the last bytes before and first after.
            edge = len(self.mark) - 1
            self.marks += _count(self.tail + chunk[:edge], self.mark)
            self.tail = (self.tail + chunk)[-edge:]
        if self.marks > self.limit:
            raise _CapReached
        return len(chunk)

    def flush(self) -> None:
        """Nothing buffered here."""


def _json_rows(body: bytes, separators: int | None = None) -> int:
    """Solutions in pyoxigraph's compact SPARQL JSON (no whitespace between tokens).

    Outside strings, ``},{`` occurs only between two solutions (SPARQL JSON has no other
    object after a comma). Inside a string, ``{`` followed by an unescaped quote ends the
    string, and ``}`` or ``,`` follows that quote; a variable's name, after the quote that
    opens a solution, starts with neither. So when every ``},{`` is a ``},{"`` and none is a
    ``},{"}`` or ``},{",``, each separates two solutions: four SIMD scans, ~15 µs of a 51 kB
    answer (the two scans of ``bytes.count`` and a regular expression before took ~70 µs).
    Otherwise (an empty solution after another, a literal holding ``},{``) the strings are
    removed before counting.

    :param separators: how many ``},{`` the body holds, if the caller counted them (the
        sink of :func:`write_whole` does, as the writer writes): one scan fewer.
    """
    if body.endswith(b"[]}}"):
        return 0
    sure = _count(body, b'},{"')
    if separators is None:
        separators = _count(body, b"},{")
    if separators == sure and not _contains(body, b'},{"}') and not _contains(body, b'},{",'):
        return sure + 1
    return _count(_JSON_STRING.sub(b"", body), b"},{") + 1


def write_whole(solutions: pyoxigraph.QuerySolutions, media: str, cap: int | None,
                note: str) -> tuple[bytes, int, bool] | None:
    """Write ``solutions`` with pyoxigraph's writer for ``media``, at most ``cap`` rows.

    :param cap: the row cap; None for none.
    :param note: the truncation sentence, put in the body where the format has room.
    :returns: (body, rows, truncated), or None for a format this does not write (CSV);
        ``solutions`` is then left unread.
    :raises CapUnsure: a JSON answer reached the cap (or looked as if): ``solutions`` is
        spent; run the query again and write it with :func:`write_rest`, which cuts exactly.
    """
    mark = _MARKS.get(media)
    if mark is None:
        return None
    if cap is None:
        # Nothing to stop: one call into the writer (a sink costs ~10 µs on a small answer).
        body = solutions.serialize(format=SOLUTION_FORMATS[media])
        if media == _JSON_MEDIA:
            return body, _json_rows(body), False
        return body, _count(body, mark) - (media == _TSV_MEDIA), False
    # TSV counts its header line too; JSON counts separators, one fewer than solutions.
    limit = {_TSV_MEDIA: cap + 1, _XML_MEDIA: cap, _JSON_MEDIA: cap - 1}[media]
    sink = _MarkSink(mark, limit)
    try:
        solutions.serialize(sink, format=SOLUTION_FORMATS[media])
    except _CapReached:
        if media == _JSON_MEDIA:
            raise CapUnsure from None
        written = b"".join(sink.chunks)
        if media == _TSV_MEDIA:
            body = _cut_after_lines(written, cap + 1)
        else:
            # Before the first solution past the cap, then the closing tags.
            cut = -1
            for _ in range(cap + 1):
                cut = written.index(b"<result>", cut + 1)
            body = written[:cut] + b"</results></sparql>"
        return _with_note(body, media, cap, note), cap, True
    body = b"".join(sink.chunks)
    if media == _JSON_MEDIA:
        return body, _json_rows(body, sink.marks), False
    return body, sink.marks - (media == _TSV_MEDIA), False


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
    rows = len(taken) + _count(tail, b"\n")
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

