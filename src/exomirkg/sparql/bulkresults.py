"""SELECT answers through pyoxigraph's own (Rust) writers, still cut at the row cap.

Writing each term from Python costs about a microsecond (a Python object per term), several
times pyoxigraph's own writers. :func:`write_whole` lets the writer write the negotiated
format straight away into a sink that counts solutions as they pass: lines in TSV (the
format escapes newlines and tabs), ``<result>`` elements in XML (``<`` is escaped in text).
The sink stops the writer one solution past the cap and the answer is cut there.

JSON is written as TSV, then rewritten by :func:`json_from_tsv` into the bytes pyoxigraph's
JSON writer writes: its writer costs twice its TSV writer (a term ~0.3-0.5 µs more), and
the rewrite works on whole columns, not terms (server/README.md, "JSON from TSV").

:func:`write_rest` streams the answer as SPARQL TSV into a sink that counts lines and stops
the writer one solution past the cap; the TSV is then re-read by pyoxigraph and written in
the negotiated format, all in Rust. Rows already taken in Python are prepended as TSV.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pyoxigraph

# SIMD substring counts and byte-set searches: ~5x bytes.count (a 29 kB answer's lines in
# 3.7 µs, not 17), and they are on every answer's path (server/README.md).
from stringzilla import count as _count
from stringzilla import find_first_of as _find_first_of

from exomirkg.namespaces import XSD
from exomirkg.sparql.negotiation import SOLUTION_FORMATS

__all__ = ["SOLUTION_FORMATS", "json_from_tsv", "write_rest", "write_whole"]

_TSV = pyoxigraph.QueryResultsFormat.TSV
_JSON_MEDIA = "application/sparql-results+json"
_XML_MEDIA = "application/sparql-results+xml"
_TSV_MEDIA = "text/tab-separated-values"
#: What marks one solution in each format :func:`write_whole` writes itself (CSV is not
#: one of them: a quoted value may hold a line break); JSON is first written as TSV.
_MARKS = {_TSV_MEDIA: b"\n", _XML_MEDIA: b"<result>", _JSON_MEDIA: b"\n"}


class _CapReached(Exception):
    """The writer produced a solution past the cap; the sink stops it."""


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


def write_whole(solutions: pyoxigraph.QuerySolutions, media: str, cap: int | None,
                note: str) -> tuple[bytes, int, bool] | None:
    """Write ``solutions`` with pyoxigraph's writer for ``media``, at most ``cap`` rows.

    :param cap: the row cap; None for none.
    :param note: the truncation sentence, put in the body where the format has room.
    :returns: (body, rows, truncated), or None for a format this does not write (CSV);
        ``solutions`` is then left unread.
    """
    mark = _MARKS.get(media)
    if mark is None:
        return None
    # JSON is written as TSV, whose lines count solutions exactly, then rewritten.
    written_format = _TSV if media == _JSON_MEDIA else SOLUTION_FORMATS[media]
    if cap is None:
        # Nothing to stop: one call into the writer (a sink costs ~10 µs on a small answer).
        body = solutions.serialize(format=written_format)
        rows = _count(body, mark) - (mark == b"\n")  # TSV's header line
        return (json_from_tsv(body) if media == _JSON_MEDIA else body), rows, False
    # TSV counts its header line too.
    sink = _MarkSink(mark, cap + (mark == b"\n"))
    try:
        solutions.serialize(sink, format=written_format)
    except _CapReached:
        written = b"".join(sink.chunks)
        if mark == b"\n":
            body = _cut_after_lines(written, cap + 1)
            if media == _JSON_MEDIA:
                body = json_from_tsv(body)
        else:
            # Before the first solution past the cap, then the closing tags.
            cut = -1
            for _ in range(cap + 1):
                cut = written.index(b"<result>", cut + 1)
            body = written[:cut] + b"</results></sparql>"
        return _with_note(body, media, cap, note), cap, True
    body = b"".join(sink.chunks)
    rows = sink.marks - (mark == b"\n")
    return (json_from_tsv(body) if media == _JSON_MEDIA else body), rows, False


_URI = b'{"type":"uri","value":"'
_LITERAL = b'{"type":"literal","value":'
_XSD = str(XSD).encode()
#: The literals SPARQL TSV writes bare (Turtle's number and boolean forms; the grammars do
#: not overlap), with their datatypes; any other literal is written quoted.
_BARE = ((re.compile(rb"[+-]?[0-9]+"), _XSD + b"integer"),
         (re.compile(rb"[+-]?[0-9]*\.[0-9]+"), _XSD + b"decimal"),
         (re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+"), _XSD + b"double"),
         (re.compile(rb"true|false"), _XSD + b"boolean"))
#: Control characters SPARQL TSV leaves as they are (it escapes tab, line feed, carriage
#: return, quote and backslash, as JSON does) and JSON escapes, as pyoxigraph's writer does.
_CONTROLS = bytes(c for c in range(0x20) if c not in b"\t\n\r")
_CONTROL = re.compile(b"[" + re.escape(_CONTROLS) + b"]")
_CONTROL_JSON = {bytes([c]): {8: b"\\b", 12: b"\\f"}.get(c, b"\\u%04x" % c)
                 for c in _CONTROLS}
#: What JSON escapes in a string and TSV leaves as it is in an IRI, a blank node or a
#: language tag (a lenient load lets such IRIs into a store; the server's loads are strict).
_UNSAFE = b'"\\\r' + _CONTROLS
#: The JSON that comes before a term in pyoxigraph's answer of one variable ``x``.
_ONE_TERM = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":'


def _escaped(raw: bytes) -> bytes:
    """``raw`` (UTF-8) as the content of a JSON string, escaped as pyoxigraph escapes it."""
    if _find_first_of(raw, _UNSAFE) < 0:
        return raw
    # json.dumps escapes what pyoxigraph's writer does, the same way (\u001f, not \u001F).
    return json.dumps(raw.decode(), ensure_ascii=False)[1:-1].encode()


def _json_term(cell: bytes) -> bytes:
    """One term (a cell not empty) as pyoxigraph's SPARQL JSON writes it, from its SPARQL TSV
    form."""
    first = cell[:1]
    if first == b'"':
        end = cell.rindex(b'"')
        # TSV escapes what JSON escapes in a string (but other control characters): the
        # quoted TSV string is the JSON string.
        value = cell[:end + 1]
        if _find_first_of(value, _CONTROLS) >= 0:
            value = _CONTROL.sub(lambda found: _CONTROL_JSON[found.group()], value)
        suffix = cell[end + 1:]
        if suffix[:1] == b"@":
            language, dashes, direction = suffix[1:].partition(b"--")
            value += b',"xml:lang":"' + _escaped(language) + b'"'
            if dashes:
                value += b',"its:dir":"' + direction + b'"'
        elif suffix:  # ^^<datatype>
            value += b',"datatype":"' + _escaped(suffix[3:-1]) + b'"'
        return _LITERAL + value + b"}"
    if first == b"<" and cell[1:2] != b"<":
        return _URI + _escaped(cell[1:-1]) + b'"}'
    if first == b"_":
        return b'{"type":"bnode","value":"' + _escaped(cell[2:]) + b'"}'
    for form, datatype in _BARE:
        if form.fullmatch(cell):
            return _LITERAL + b'"' + cell + b'","datatype":"' + datatype + b'"}'
    # A triple term, <<( s p o )>>, the one kind left: pyoxigraph reads it, writes it.
    written = pyoxigraph.parse_query_results(b"?x\n" + cell + b"\n", format=_TSV).serialize(
        format=pyoxigraph.QueryResultsFormat.JSON)
    return written[len(_ONE_TERM):-len(b"}]}}")]


def _iris_only(body: bytes, rows: int, width: int) -> bool:
    """Whether every cell of the TSV ``body`` (``rows`` lines of ``width`` cells) is an IRI
    that JSON takes as it is.

    TSV escapes tabs and line feeds in literals, so every one of them separates two cells.
    When each such separator has ``>`` before it and ``<`` after, the body starts with ``<``
    and ends with ``>``, each cell is ``<...>``; with one ``<`` a cell, none is a triple
    term (``<<( ... )>>``), so each is an IRI. Five SIMD scans, ~10 µs of a 29 kB answer.
    """
    return (body[:1] == b"<" and body[-2:] == b">\n"
            and _count(body, b"<") == rows * width
            and _count(body, b">\t<") == rows * (width - 1)
            and _count(body, b">\n<") == rows - 1
            and _find_first_of(body, _UNSAFE) < 0)


#: Each term's JSON by its TSV form, with the JSON before it (a comma after a solution's
#: first term, the variable's name): one table for each such lead, kept from answer to
#: answer. A store's terms recur in its answers, and a term looked up costs ~40 ns against
#: ~0.5-1 µs written. At most _TERMS_KEPT terms in all (~15 MB): a full table is emptied
#: when an answer brings new terms, and what does not fit is kept for that answer only.
_TERMS: dict[bytes, dict[bytes, bytes]] = {}
_TERMS_KEPT = 50_000
_kept = 0
#: What :func:`json_from_tsv` writes for a header line, by the line: each variable's lead,
#: the JSON before the first solution, and (for an answer of IRIs) between two of them.
_HEADS: dict[bytes, tuple[list[bytes], bytes, list[bytes]]] = {}


def _terms_json(column: list[bytes], lead: bytes) -> list[bytes]:
    """The JSON of each cell of a column, ``lead`` before each (b"" for an unbound cell)."""
    global _kept
    table = _TERMS.get(lead)
    if table is None:
        table = _TERMS[lead] = {b"": b""}
    terms = list(map(table.get, column))
    if None in terms:
        if _kept >= _TERMS_KEPT:
            _TERMS.clear()
            table = _TERMS[lead] = {b"": b""}
            _kept = 0
        spill: dict[bytes, bytes] = {}  # this answer's terms past the bound
        for i, term in enumerate(terms):
            if term is None:
                cell = column[i]
                term = table.get(cell) or spill.get(cell)
                if term is None:
                    term = lead + _json_term(cell)
                    if _kept < _TERMS_KEPT:
                        table[cell] = term
                        _kept += 1
                    else:
                        spill[cell] = term
                terms[i] = term
    return terms


def _head(line: bytes) -> tuple[list[bytes], bytes, list[bytes]]:
    """The leads, start and IRI separators of answers with this TSV header line."""
    found = _HEADS.get(line)
    if found is None:
        if len(_HEADS) > 1000:
            _HEADS.clear()
        keys = [b'"' + name[1:] + b'":' for name in line.split(b"\t")]
        start = (b'{"head":{"vars":[' + b",".join(key[:-1] for key in keys)
                 + b']},"results":{"bindings":[')
        between = [b'"}},{' + keys[0] + _URI, *[b'"},' + key + _URI for key in keys[1:]]]
        found = _HEADS[line] = ([keys[0]] + [b"," + key for key in keys[1:]], start, between)
    return found


def json_from_tsv(tsv: bytes) -> bytes:
    """pyoxigraph's SPARQL JSON, byte for byte, of its SPARQL TSV ``tsv``.

    Measured, not assumed (server/README.md, "JSON from TSV"): pyoxigraph's JSON writer
    writes each JSON event through its own buffered write, ~0.3 µs an IRI and ~0.5 µs a
    literal more than its TSV writer. Here an answer of IRIs is cut into its IRIs in one
    ``split`` and joined again with the JSON between them (~100 µs for 786 IRIs, against
    ~220 µs more for the JSON writer); any other answer is put together a column at a time
    from its terms' JSON, each written once and then looked up (:data:`_TERMS`).

    :raises ValueError: ``tsv`` has a line of more or fewer cells than variables (an IRI
        holding a tab or a line feed, which only a lenient load lets into a store).
    """
    line, _, body = tsv.partition(b"\n")
    if not line:
        # No variable: each solution is an empty line, as the header is.
        return (b'{"head":{"vars":[]},"results":{"bindings":['
                + b",".join([b"{}"] * _count(body, b"\n")) + b"]}}")
    leads, start, between = _head(line)
    if not body:
        return start + b"]}}"
    width = len(leads)
    rows = _count(body, b"\n")
    if _iris_only(body, rows, width):
        values = body[1:-2].replace(b"\n", b"\t").split(b">\t<")
        out = values + values  # any list of the right length, overwritten
        out[0::2] = between * rows
        out[0] = b"{" + leads[0] + _URI
        out[1::2] = values
        return start + b"".join(out) + b'"}}]}}'
    cells = body[:-1].replace(b"\n", b"\t").split(b"\t")
    if len(cells) != rows * width:
        raise ValueError("an IRI in the store holds a tab or a line feed")
    stride = width + 1
    out = [b"},{"] * (rows * stride)
    for j, lead in enumerate(leads):
        out[j::stride] = _terms_json(cells[j::width], lead)
    if width > 1 and not all(cells[0::width]):
        # A solution without the first variable: its first term has no comma before it.
        for row, cell in enumerate(cells[0::width]):
            if not cell:
                first = next((i for i in range(row * stride + 1, row * stride + width)
                              if out[i]), None)
                if first is not None:
                    out[first] = out[first][1:]
    out[-1] = b"}"
    return start + b"{" + b"".join(out) + b"]}}"


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
    sink = _MarkSink(b"\n", 1 + room)  # the header line, then at most ``room`` solutions
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

