"""Write query results in each negotiated format, cutting them at the row cap honestly.

Runs inside the query worker processes (and in the web process for lookups). SELECT answers
in JSON, XML and TSV are written by pyoxigraph's own writers, counted and cut at the cap by
:mod:`exomirkg.sparql.bulkresults`; CSV (and solutions that do not come straight from
pyoxigraph) are written here in Python when small, through TSV and pyoxigraph when large.
Graphs go through ``pyoxigraph.serialize`` after the triples are capped.

How a truncation note appears (besides the ``X-Exomirkg-Truncated`` header on every format):

- SPARQL JSON: a top-level ``"exomirkg:truncated"`` member between ``head`` and ``results``
  (clients ignore unknown members; strict parsers such as pyoxigraph's refuse any after
  ``results``);
- SPARQL XML, RDF/XML: an XML comment right after the root element opens;
- Turtle, N-Triples: a ``#`` comment line at the top;
- CSV, TSV, JSON-LD: these have no room for a note that no client would mistake for data,
  so the headers carry it (``X-Exomirkg-Truncated`` and ``Warning: 199``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from json.encoder import encode_basestring as _js  # C-accelerated; keeps non-ASCII
from xml.sax.saxutils import escape

import pyoxigraph

from exomirkg.namespaces import SPARQL_RESULTS, XSD
from exomirkg.sparql.negotiation import GRAPH_FORMATS
from exomirkg.sparql.rdfout import write_rdf

__all__ = ["UNCAPPED", "Written", "truncation_note", "write_boolean", "write_graph",
           "write_solutions"]

_XSD_STRING = str(XSD.string)
_SPARQL_RESULTS_NS = str(SPARQL_RESULTS)
_XML_QUOTES = {"\"": "&quot;", "'": "&apos;"}
_XML_SPACE = " \t\r\n"
#: The row cap that never cuts (``ROW_CAP`` 0 or unset: complete answers).
UNCAPPED = 2**62
#: Answers up to this many rows are written in Python (faster for small answers); larger
#: ones go through pyoxigraph's writers (several times faster per row), see bulkresults.
PYTHON_ROWS = 64


@dataclass(frozen=True)
class Written:
    """A serialised result and whether the row cap cut it."""

    body: bytes
    rows: int
    truncated: bool


def truncation_note(cap: int) -> str:
    """The sentence every truncated response carries."""
    return (f"results truncated: only the first {cap} rows are returned (the endpoint's row "
            "cap); add LIMIT/OFFSET or narrow the query to page through the rest")


def _capped(items: Iterable, cap: int) -> tuple[list, bool]:
    taken = list(islice(items, cap + 1))
    return (taken[:cap], True) if len(taken) > cap else (taken, False)


def _xml_text(text: str) -> str:
    """Escape as pyoxigraph's XML writer does (quotes too, in text and attributes alike)."""
    return escape(text, _XML_QUOTES)


def _xml_value(text: str) -> str:
    """A literal's text: as :func:`_xml_text`, with leading and trailing white space as
    character references (which parsers keep, as pyoxigraph writes it)."""
    body = text.strip(_XML_SPACE)
    if len(body) == len(text):
        return _xml_text(text)
    if not body:
        return "".join(f"&#{ord(c)};" for c in text)
    start = len(text) - len(text.lstrip(_XML_SPACE))
    end = start + len(body)
    return ("".join(f"&#{ord(c)};" for c in text[:start]) + _xml_text(body)
            + "".join(f"&#{ord(c)};" for c in text[end:]))


def _xml_term(term: object) -> str:
    if isinstance(term, pyoxigraph.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, pyoxigraph.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return (f'<literal xml:lang="{_xml_text(term.language)}">'
                    f"{_xml_value(term.value)}</literal>")
        if term.datatype.value != _XSD_STRING:
            return (f'<literal datatype="{_xml_text(term.datatype.value)}">'
                    f"{_xml_value(term.value)}</literal>")
        return f"<literal>{_xml_value(term.value)}</literal>"
    assert isinstance(term, pyoxigraph.Triple)
    return ("<triple>" + "".join(f"<{k}>{_xml_term(getattr(term, k))}</{k}>"
                                 for k in ("subject", "predicate", "object")) + "</triple>")


def _csv_field(text: str) -> str:
    # Quoted only when RFC 4180 needs it. Not the csv module: it also quotes a lone empty
    # field and a leading space, where pyoxigraph's writer (the embedded answers) does not.
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, (pyoxigraph.NamedNode, pyoxigraph.Literal)):
        return term.value
    assert isinstance(term, pyoxigraph.Triple)
    return " ".join(_csv_field(_csv_value(part))
                    for part in (term.subject, term.predicate, term.object))


#: Turtle's number and boolean forms, which SPARQL TSV writes bare (as pyoxigraph does).
_TSV_BARE = {
    str(XSD.integer): re.compile(r"[+-]?[0-9]+"),
    str(XSD.decimal): re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    str(XSD.double): re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    str(XSD.boolean): re.compile(r"true|false"),
}


def _tsv_value(term: object) -> str:
    """RDF term syntax, Turtle's short forms where it has one (pyoxigraph's TSV bytes)."""
    if term is None:
        return ""
    kind = type(term)
    if kind is pyoxigraph.Literal and not term.language:
        bare = _TSV_BARE.get(term.datatype.value)
        if bare is not None and bare.fullmatch(term.value):
            return term.value
    elif kind is pyoxigraph.Triple:
        return (f"<<( {_tsv_value(term.subject)} {_tsv_value(term.predicate)} "
                f"{_tsv_value(term.object)} )>>")
    # N-Triples form otherwise, which str() gives (it escapes \t, \n, \r and ").
    return str(term)


def _json_term_text(term: object) -> str:
    """One term as SPARQL JSON text; string building with the C string encoder is several
    times faster than ``json.dumps`` of a dict (which builds an encoder on every call)."""
    kind = type(term)
    if kind is pyoxigraph.NamedNode:
        return '{"type":"uri","value":' + _js(term.value) + "}"
    if kind is pyoxigraph.Literal:
        if term.language:
            return ('{"type":"literal","value":' + _js(term.value) + ',"xml:lang":'
                    + _js(term.language) + "}")
        datatype = term.datatype.value
        if datatype != _XSD_STRING:
            return ('{"type":"literal","value":' + _js(term.value) + ',"datatype":'
                    + _js(datatype) + "}")
        return '{"type":"literal","value":' + _js(term.value) + "}"
    if kind is pyoxigraph.BlankNode:
        return '{"type":"bnode","value":' + _js(term.value) + "}"
    return ('{"type":"triple","value":{"subject":' + _json_term_text(term.subject)
            + ',"predicate":' + _json_term_text(term.predicate)
            + ',"object":' + _json_term_text(term.object) + "}}")


def _solutions_json(variables: list[str], rows: list, truncated: bool, cap: int) -> bytes:
    # Terms repeat a lot (labels, classes): encode each distinct term once.
    encoded: dict[object, str] = {}
    keys = [_js(v) + ":" for v in variables]
    get = encoded.get

    def text(term: object) -> str:
        found = get(term)
        if found is None:
            found = encoded[term] = _json_term_text(term)
        return found

    parts = ["{" + ",".join([key + text(term) for key, term in zip(keys, row, strict=False)
                             if term is not None]) + "}" for row in rows]
    extra = ""
    if truncated:
        # Before "results": strict parsers (pyoxigraph's) refuse members after it.
        extra = ',"exomirkg:truncated":' + json.dumps({"limit": cap,
                                                      "note": truncation_note(cap)})
    return ('{"head":{"vars":[' + ",".join(_js(v) for v in variables) + "]}" + extra
            + ',"results":{"bindings":[' + ",".join(parts) + "]}}").encode("utf-8")


def write_solutions(variables: list[str] | None, solutions: Iterator, media: str,
                    cap: int) -> Written:
    """Write SELECT solutions (at most ``cap`` rows) in ``media``.

    :param variables: the projected variable names, without ``?`` (None: those of a
        ``QuerySolutions`` answer).
    :param solutions: pyoxigraph ``QuerySolution`` objects, indexable by position (a
        ``QuerySolutions`` answer goes through pyoxigraph's writers).
    """
    if isinstance(solutions, pyoxigraph.QuerySolutions):
        from exomirkg.sparql.bulkresults import write_whole

        # Straight through pyoxigraph's writer: no Python object per term (a 129-row
        # answer, query included, took 870 µs through Python and TSV, 430-480 µs this way).
        whole = write_whole(solutions, media, None if cap >= UNCAPPED else cap,
                            truncation_note(cap))
        if whole is not None:
            return Written(body=whole[0], rows=whole[1], truncated=whole[2])
    if variables is None:
        variables = [v.value for v in solutions.variables]  # type: ignore[attr-defined]
    taken = list(islice(solutions, PYTHON_ROWS))
    if len(taken) == PYTHON_ROWS and cap > PYTHON_ROWS \
            and isinstance(solutions, pyoxigraph.QuerySolutions):
        from exomirkg.sparql.bulkresults import write_rest

        fast = write_rest(taken, solutions, media, cap, truncation_note(cap))
        if fast is not None:
            return Written(body=fast[0], rows=fast[1], truncated=fast[2])
    return _write_python(variables, chain(taken, solutions), media, cap)


def _write_python(variables: list[str], solutions: Iterator, media: str, cap: int) -> Written:
    rows, truncated = _capped(solutions, cap)
    width = len(variables)
    if media == "application/sparql-results+json":
        body = _solutions_json(variables, rows, truncated, cap)
    elif media == "application/sparql-results+xml":
        # pyoxigraph's layout, byte for byte (no whitespace between elements), so an answer
        # reads the same whichever engine or writer made it.
        out = io.StringIO()
        out.write(f'<?xml version="1.0"?><sparql xmlns="{_SPARQL_RESULTS_NS}">')
        if truncated:
            out.write(f"\n<!-- {truncation_note(cap)} -->")
        out.write("<head>" + "".join(f'<variable name="{_xml_text(v)}"/>' for v in variables))
        out.write("</head><results>")
        for row in rows:
            out.write("<result>")
            for i in range(width):
                if row[i] is not None:
                    out.write(f'<binding name="{_xml_text(variables[i])}">{_xml_term(row[i])}'
                              "</binding>")
            out.write("</result>")
        out.write("</results></sparql>")
        body = out.getvalue().encode("utf-8")
    elif media == "text/csv":
        lines = [",".join(_csv_field(v) for v in variables)]
        lines += [",".join(_csv_field(_csv_value(row[i])) for i in range(width)) for row in rows]
        body = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    elif media == "text/tab-separated-values":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join(_tsv_value(row[i]) for i in range(width)) for row in rows]
        body = ("\n".join(lines) + "\n").encode("utf-8")
    else:  # pragma: no cover - negotiation only offers the four above
        raise ValueError(f"cannot write solutions as {media}")
    return Written(body=body, rows=len(rows), truncated=truncated)


def write_boolean(value: bool, media: str) -> Written:
    """Write an ASK result."""
    word = "true" if value else "false"
    if media == "application/sparql-results+json":
        body = json.dumps({"head": {}, "boolean": value}).encode()
    elif media == "application/sparql-results+xml":
        body = (f'<?xml version="1.0"?><sparql xmlns="{_SPARQL_RESULTS_NS}">'
                f"<head></head><boolean>{word}</boolean></sparql>").encode()
    elif media == "text/csv":
        body = f"_askResult\r\n{word}\r\n".encode()
    else:
        body = f"?_askResult\n{word}\n".encode()
    return Written(body=body, rows=1, truncated=False)


def write_graph(triples: Iterator, media: str, cap: int, prefixes: dict[str, str]) -> Written:
    """Write CONSTRUCT/DESCRIBE triples (at most ``cap``) in ``media``."""
    kept, truncated = _capped(triples, cap)
    fmt = GRAPH_FORMATS[media]
    body = write_rdf(kept, fmt, prefixes)
    if truncated:
        note = truncation_note(cap).encode()
        if fmt in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.N_TRIPLES):
            body = b"# " + note + b"\n" + body
        elif fmt == pyoxigraph.RdfFormat.RDF_XML:
            head, sep, rest = body.partition(b"?>")
            body = head + sep + b"\n<!-- " + note + b" -->" + rest if sep else body
    return Written(body=body, rows=len(kept), truncated=truncated)
