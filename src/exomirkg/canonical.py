"""Deterministic RDF: the same data gives the same bytes in every process.

pyoxigraph gives every blank node it loads a random label, and a store's iteration order
follows its internal IDs, so two server workers (or two runs over the same build) wrote
different bytes for the same graph and ``SHA256SUMS`` could not verify. Here blank nodes
are relabelled by W3C RDF Dataset Canonicalization (RDFC-1.0, as implemented by pyoxigraph:
labels follow the graph's shape, not the load) and statements are put in a fixed order.

JSON-LD: pyoxigraph writes it expanded (no ``@context``); :func:`compact_jsonld` compacts it
against our prefixes with pyld, the JSON-LD reference implementation in Python.
"""

from __future__ import annotations

import gzip
import io
import json
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import chain, compress, islice, pairwise
from operator import eq, ne
from typing import Any, BinaryIO

import pyoxigraph

from exomirkg.namespaces import PREFIXES
from exomirkg.sparql.rdfout import write_rdf

__all__ = ["Kept", "canonical_lines", "canonical_quads", "canonical_triples",
           "canonical_dataset_files", "compact_jsonld", "gzip_bytes", "moved_lines",
           "stable_rdf", "write_canonical_dataset"]

_ALGORITHM = pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0


#: Per graph: its name, its N-Quads lines sorted, and how many bytes end each line after
#: the object (`` <graph> .\n``, or `` .\n`` in the default graph).
_Lines = list[tuple[Any, list[bytes], int]]


def _canonical_lines(quads: Iterable[pyoxigraph.Quad]) -> _Lines:
    """Per graph, in order of name (the default graph first), its N-Quads lines sorted,
    blank nodes labelled by RDFC-1.0 over the whole dataset.

    Sorting written lines (bytes, compared in C) costs a tenth of sorting terms by a Python
    key (``str()`` of four terms per statement: 2.6 s of a 10^5-triple build's 13 s write).
    Within a graph every line ends alike, so the order is the terms' order.
    """
    # Streamed, never a list: a Python object per statement held at once was gigabytes at
    # 10^6 triples; the dataset holds them in Rust.
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(_ALGORITHM)
    names = {quad.graph_name for quad in dataset}
    out = []
    for name in sorted(names, key=lambda g: "" if isinstance(g, pyoxigraph.DefaultGraph)
                       else str(g)):
        body = pyoxigraph.serialize(dataset.quads_for_graph_name(name),
                                    format=pyoxigraph.RdfFormat.N_QUADS) or b""
        tail = 3 if isinstance(name, pyoxigraph.DefaultGraph) else len(f" {name} .\n")
        out.append((name, sorted(body.splitlines(keepends=True)), tail))
    return out


def _triple_lines(graphs: _Lines) -> Iterator[bytes]:
    """Every statement of :func:`_canonical_lines` as an N-Triples line (graph dropped)."""
    for _name, lines, tail in graphs:
        if tail == 3:
            yield from lines
        else:
            yield from (line[:-tail] + b" .\n" for line in lines)


def canonical_quads(quads: Iterable[pyoxigraph.Quad]) -> list[pyoxigraph.Quad]:
    """Quads with canonical blank-node labels, sorted by graph, subject, predicate, object.

    Sorting by graph first keeps each graph in one block of a TriG file.

    >>> a = [pyoxigraph.Quad(pyoxigraph.BlankNode(), pyoxigraph.NamedNode("http://e/p"),
    ...                      pyoxigraph.Literal("x"))]
    >>> str(canonical_quads(a)[0])
    '_:c14n0 <http://e/p> "x"'
    """
    return list(_quads_of(_canonical_lines(quads)))


def _quads_of(graphs: _Lines) -> Iterator[pyoxigraph.Quad]:
    """The statements of :func:`_canonical_lines`, in its order, parsed in Rust."""
    return pyoxigraph.parse(b"".join(line for _name, lines, _tail in graphs for line in lines),
                            format=pyoxigraph.RdfFormat.N_QUADS)


def canonical_triples(triples: Iterable[pyoxigraph.Triple]) -> list[pyoxigraph.Triple]:
    """Triples with canonical blank-node labels, sorted by subject, predicate, object."""
    return [pyoxigraph.Triple(t.subject, t.predicate, t.object)
            for t in pyoxigraph.parse(_canonical_ntriples(triples),
                                      format=pyoxigraph.RdfFormat.N_TRIPLES)]


def _canonical_ntriples(triples: Iterable[pyoxigraph.Triple]) -> bytes:
    quads = (pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples)
    return b"".join(_triple_lines(_canonical_lines(quads)))


def canonical_lines(lines: Iterable[bytes]) -> list[bytes]:
    """N-Triples lines of one graph, each once, blank nodes labelled by RDFC-1.0, sorted: the
    lines of :func:`canonical_triples` for the same statements.

    As in :func:`write_canonical_dataset`, only the lines with a blank node go through
    RDFC-1.0: with a graph's statements as Python objects into a ``Dataset`` and back, the
    release files took 3.7 s at 10^6 triples, now 1.8 s.
    """
    lines = list(lines)
    blank = [line for line in lines if b"_:" in line]
    kept = {line for line in lines if b"_:" not in line} if blank else set(lines)
    if blank:
        dataset = pyoxigraph.Dataset(pyoxigraph.parse(b"".join(blank),
                                                      format=pyoxigraph.RdfFormat.N_TRIPLES))
        dataset.canonicalize(_ALGORITHM)
        body = pyoxigraph.serialize((pyoxigraph.Triple(q.subject, q.predicate, q.object)
                                     for q in dataset), format=pyoxigraph.RdfFormat.N_TRIPLES)
        kept.update((body or b"").splitlines(keepends=True))
    return sorted(kept)


def canonical_dataset_files(graphs: Mapping[str, bytes]) -> tuple[bytes, bytes]:
    """:func:`write_canonical_dataset` into bytes: the TriG and the union's N-Triples."""
    trig, union = io.BytesIO(), io.BytesIO()
    write_canonical_dataset(graphs, trig, union)
    return trig.getvalue(), union.getvalue()


@dataclass
class _Pieces:
    """A graph's TriG block in pieces of whole subjects: each piece's lines and Turtle."""

    lines: list[list[bytes]]
    turtle: list[bytes]


@dataclass
class Kept:
    """What a write keeps for the next write in the same process (``exomirkg build
    --watch``): each graph's lines as written (sorted, each once) and a large graph's TriG
    block in pieces of whole subjects, so that the next write of a graph changed in a few
    subjects makes their pieces' Turtle alone (graph/inferred's whole took ~1.5 s at 10^6
    triples)."""

    lines: dict[str, list[bytes]] = field(default_factory=dict)
    #: The graphs that held a blank node (their lines follow the whole dataset's labelling).
    blank: set[str] = field(default_factory=set)
    pieces: dict[str, _Pieces] = field(default_factory=dict)
    #: The union's lines as written (sorted, each once) and those more than one graph
    #: holds, with how many: the next write moves the union by its graphs' change (merging
    #: every graph's lines took ~0.7 s of the write step at 10^6 triples). None: none yet.
    union: list[bytes] | None = None
    shared: dict[bytes, int] = field(default_factory=dict)
    #: Lines the caller added to and removed from a graph it gives as lines, by graph, for
    #: this write only (every line that differs is among them): the others' are compared.
    moved: dict[str, tuple[Iterable[bytes], Iterable[bytes]]] = field(default_factory=dict)


#: A graph of more lines than this is written as Turtle in pieces of about as many lines
#: when the write is kept (:class:`Kept`).
_PIECE = 4096


def write_canonical_dataset(graphs: Mapping[str, bytes]
                            | Iterable[tuple[str, bytes | list[bytes]]],
                            trig: BinaryIO, union: BinaryIO, *,
                            blocks: Mapping[str, bytes] | None = None,
                            kept: Kept | None = None) -> dict[str, tuple[int, int]]:
    """Write graphs (graph IRI -> its N-Triples; ``""`` names the default graph) to ``trig`` as
    TriG (graphs in order of name, statements sorted) and the union of their graphs to
    ``union`` as sorted N-Triples (each triple once), from one canonical labelling, so both
    name a blank node alike.

    Only the statements with a blank node go through RDFC-1.0: a blank node's canonical label
    follows from the statements that mention blank nodes alone (RDFC-1.0 hashes a blank node's
    own quads and, from them, its neighbours'), and every other line is written as it is. At
    10^6 triples, putting every statement into a ``pyoxigraph.Dataset`` (a Python object each)
    took 15 s; the statements with blank nodes are a few hundred.

    Both files are written a slice of lines at a time: whole-file bytes, the N-Quads lines
    and their join for one TriG parse took the write step 1.58 GB over its start at 10^6
    triples; now 0.54 GB, mostly the sorted lines themselves.

    :param graphs: a mapping, or (name, text) pairs: each text is read once, in turn, and not
        held here after (a caller may make the last while the first are split).
    :param blocks: graphs whose TriG block (name, statements and braces) an earlier write of
        the same statements wrote, by name: written as they are (the incremental build's
        unchanged graphs: their Turtle took ~1.4 s of the write step at 10^6 triples). A
        graph given a block must hold no blank node (its labels follow the whole dataset).
    :param kept: what the last write kept, which this one reads and replaces. A graph may
        then be given as its lines (a list, as :attr:`Kept.lines` holds it) instead of its
        text; a graph holding a blank node only while no statement with one changed.
    :returns: where each graph's block lies in ``trig``, by name (start and end offsets).
    """
    lines: dict[str, list[bytes]] = {}
    given: dict[str, list[bytes]] = {}
    blank: list[bytes] = []  # N-Quads lines that may hold a blank node
    holding_blank: set[str] = set()
    for name, text in graphs.items() if isinstance(graphs, Mapping) else graphs:
        if isinstance(text, list):
            given[name] = lines[name] = text
            continue
        split = text.splitlines(keepends=True)
        # An IRI or a literal may hold "_:" too: harmless, sorted alike. Most graphs have
        # none, and a line-by-line loop over them cost 1.5 s at 10^6 triples.
        if b"_:" in text:
            holding_blank.add(name)
            # What ends a graph's N-Quads line; each N-Triples line ends " .\n".
            suffix = f" <{name}> .\n".encode() if name else b" .\n"
            blank += [line[:-3] + suffix for line in split if b"_:" in line]
            split = [line for line in split if b"_:" not in line]
        del text  # the caller's may be the only other reference (graph/inferred's dump)
        # Sorted now, while the caller may still be making the next graph's text.
        split.sort()
        lines[name] = split
    canonical: dict[str, list[bytes]] = {}
    if blank:
        dataset = pyoxigraph.Dataset(pyoxigraph.parse(b"".join(blank),
                                                      format=pyoxigraph.RdfFormat.N_QUADS))
        dataset.canonicalize(_ALGORITHM)
        for name in lines:
            graph = pyoxigraph.NamedNode(name) if name else pyoxigraph.DefaultGraph()
            body = pyoxigraph.serialize(
                (pyoxigraph.Triple(q.subject, q.predicate, q.object)
                 for q in dataset.quads_for_graph_name(graph)),
                format=pyoxigraph.RdfFormat.N_TRIPLES) or b""
            canonical[name] = body.splitlines(keepends=True)
    ordered: dict[str, list[bytes]] = {}
    for name in sorted(lines, key=lambda name: f"<{name}>" if name else ""):
        graph_lines = lines.pop(name)
        if name in given:
            ordered[name] = graph_lines
            continue
        if canonical.get(name):
            graph_lines += canonical[name]
            graph_lines.sort()  # a sorted run and a few lines: merged in one pass
        ordered[name] = _without_blank_lines(list(_unique(graph_lines)))
        del graph_lines
    offsets = _write_trig(ordered, trig, blocks or {}, None if kept is None else kept.pieces)
    if kept is None:
        _write_lines(_unique(_merged(ordered)), union)
        return offsets
    if kept.union is not None:
        _move_union(kept, ordered)
    else:
        kept.union, kept.shared = _union(ordered)
    _write_lines(iter(kept.union), union)
    # A graph given as its lines holds a blank node if it did.
    kept.lines, kept.blank, kept.moved = ordered, holding_blank | (kept.blank & given.keys()), {}
    return offsets


def _unique(sorted_lines: list[bytes]) -> Iterator[bytes]:
    """Sorted lines, each once."""
    # Equal lines sit side by side: a line is kept unless it equals the one before. Compared
    # in C, not hashed (a set of each graph's lines, then a dict per slice of the union, took
    # ~0.6 s of the write step at 10^6 triples).
    return compress(sorted_lines, chain((True,), map(ne, islice(sorted_lines, 1, None),
                                                     sorted_lines)))


def _without_blank_lines(lines: list[bytes]) -> list[bytes]:
    """Sorted lines but those of whitespace alone (rdflib's N-Triples ends with one)."""
    # Such a line starts with a byte up to b" ", so sorts first if there is one.
    return [line for line in lines if line.strip()] if lines and lines[0][:1] <= b" " else lines


#: Lines joined (TriG) or deduplicated (union) and written per slice of this many.
_SLICE = 1 << 16


def _write_trig(ordered: Mapping[str, list[bytes]], out: BinaryIO,
                blocks: Mapping[str, bytes], pieces: dict[str, _Pieces] | None = None
                ) -> dict[str, tuple[int, int]]:
    """Each graph's sorted lines as TriG, one graph at a time, with the prefixes once.

    pyoxigraph's writer (Rust) makes the TriG. It writes a named graph's block as its
    Turtle writer writes the same triples, each line indented by a tab, between the graph's
    name and ``}``, and a default graph's triples as that Turtle; so each graph is written
    as Turtle from its N-Triples lines, parsed in slices. The TriG writer needs quads:
    rewriting every line's end to name its graph, and a graph name object per statement,
    cost 1.5 s of the write step's 11 s at 10^6 triples. tests/test_build_files.py checks
    these bytes against the TriG writer's own. A graph of ``blocks`` is written as given.

    With ``pieces`` (:class:`Kept`), a graph of more than :data:`_PIECE` lines is written in
    pieces of whole subjects, cut where the last write's pieces began: a piece with the same
    lines as then is written as then, the others made again; ``pieces`` then holds this
    write's. The writer ends each subject's statements before the next subject's, so the
    pieces' Turtle joined is the graph's.
    """
    out = _Counted(out)
    out.write(_prefixes(pyoxigraph.RdfFormat.TRIG))
    skip = _prefixes(pyoxigraph.RdfFormat.TURTLE)
    offsets: dict[str, tuple[int, int]] = {}
    for name, sorted_lines in ordered.items():
        if not sorted_lines:
            continue
        start = out.size
        if name in blocks:
            out.write(blocks[name])
            offsets[name] = (start, out.size)
            continue
        indent = b"\t" if name else b""
        if name:
            out.write(_graph_label(name) + b" {\n")
        if pieces is not None and len(sorted_lines) > _PIECE:
            made = _pieces(sorted_lines, pieces.get(name), skip, indent)
            pieces[name] = made
            for turtle in made.turtle:
                out.write(turtle)
        else:
            triples = chain.from_iterable(
                _reparse(sorted_lines[first:first + _SLICE])
                for first in range(0, len(sorted_lines), _SLICE))
            pyoxigraph.serialize(triples, _Indented(out, skip, indent),
                                 format=pyoxigraph.RdfFormat.TURTLE,
                                 prefixes=dict(PREFIXES))  # as write_rdf
        if name:
            out.write(b"}\n")
        offsets[name] = (start, out.size)
    return offsets


def _reparse(lines: list[bytes]) -> Iterator[pyoxigraph.Triple]:
    """N-Triples lines a writer made (pyoxigraph's, or the files' parsed statements), read
    back for the Turtle writer.

    Leniently: every line passed a parse already, and the strict reader's IRI checks were
    half of reading them again (0.5 s of 1.1 s per 500,000 lines; the TriG's Turtle took
    5.7 s of the write step at 10^6 triples). A line the lenient load took into the build's
    store (:meth:`~exomirkg.load.Sources.load_into`) is written as it stands, as in the
    N-Triples file.
    """
    return pyoxigraph.parse(b"".join(lines), format=pyoxigraph.RdfFormat.N_TRIPLES,
                            lenient=True)


def _subject(line: bytes) -> bytes:
    return line[:line.index(b" ")]


def _subject_start(lines: list[bytes], index: int) -> int:
    """The first index from ``index`` on where a subject's lines begin (or the end)."""
    while 0 < index < len(lines) and _subject(lines[index]) == _subject(lines[index - 1]):
        index += 1
    return index


def _cuts(lines: list[bytes], old: _Pieces | None) -> list[int]:
    """Where a graph's pieces begin: where the last write's did (their first lines'
    places now), and every :data:`_PIECE` lines in a piece twice that long; each moved on to
    where a subject begins."""
    wanted = [] if old is None else [bisect_left(lines, piece[0]) for piece in old.lines[1:]]
    cuts = [0]
    for place in [*wanted, len(lines)]:
        while place - cuts[-1] > 2 * _PIECE:
            extra = _subject_start(lines, cuts[-1] + _PIECE)
            if extra >= place:
                break
            cuts.append(extra)
        place = _subject_start(lines, place)
        if cuts[-1] < place < len(lines):
            cuts.append(place)
    return [*cuts, len(lines)]


def _pieces(lines: list[bytes], old: _Pieces | None, skip: bytes, indent: bytes) -> _Pieces:
    """A graph's lines in pieces (:func:`_cuts`) and each piece's Turtle: the last write's
    where the piece has the same lines."""
    known = {} if old is None else {piece[0]: (piece, turtle)
                                    for piece, turtle in zip(old.lines, old.turtle, strict=True)}
    made = _Pieces([], [])
    cuts = _cuts(lines, old)
    for start, end in pairwise(cuts):
        piece = lines[start:end]
        before = known.get(piece[0])
        if before is not None and before[0] == piece:
            turtle = before[1]
        else:
            buffer = io.BytesIO()
            pyoxigraph.serialize(_reparse(piece), _Indented(buffer, skip, indent),
                                 format=pyoxigraph.RdfFormat.TURTLE, prefixes=dict(PREFIXES))
            turtle = buffer.getvalue()
        made.lines.append(piece)
        made.turtle.append(turtle)
    return made


class _Counted:
    """A writer that counts the bytes written through it."""

    def __init__(self, out: BinaryIO) -> None:
        self._out, self.size = out, 0

    def write(self, data: Any) -> int:
        self.size += len(data)
        return self._out.write(data)

    def flush(self) -> None:
        self._out.flush()


#: A statement written to learn what the writers put around one.
_PROBE = b"<urn:x:s> <urn:x:p> <urn:x:o> .\n"


@cache  # asked once per graph written (_graph_label), always the same bytes
def _prefixes(fmt: pyoxigraph.RdfFormat) -> bytes:
    """The prefix declarations ``fmt``'s writer puts first (those of :data:`PREFIXES`)."""
    body = write_rdf(pyoxigraph.parse(_PROBE, format=pyoxigraph.RdfFormat.N_TRIPLES), fmt)
    return body[:body.rindex(_PROBE)]


def _graph_label(name: str) -> bytes:
    """How the TriG writer names a graph (a prefixed name where it can, escaped as it does)."""
    probe = pyoxigraph.Quad(pyoxigraph.NamedNode("urn:x:s"), pyoxigraph.NamedNode("urn:x:p"),
                            pyoxigraph.NamedNode("urn:x:o"), pyoxigraph.NamedNode(name))
    body = write_rdf([probe], pyoxigraph.RdfFormat.TRIG)
    return body[len(_prefixes(pyoxigraph.RdfFormat.TRIG)):body.rindex(b" {\n")]


class _Indented:
    """Writes to ``out`` but the first bytes, which must be ``skip``, each line after them
    preceded by ``indent`` (a line break is always the end of a line: the writer escapes
    one in a literal)."""

    def __init__(self, out: BinaryIO, skip: bytes, indent: bytes) -> None:
        self._out, self._skip, self._indent = out, skip, indent
        self._line_start = True

    def write(self, data: Any) -> int:
        size = len(data)
        data = bytes(data)
        if self._skip:
            head = data[:len(self._skip)]
            if not self._skip.startswith(head):
                raise ValueError("unexpected Turtle prefix declarations")
            self._skip, data = self._skip[len(head):], data[len(head):]
        if data and self._indent:
            # A tab after every line break but the last, which waits for the next line.
            ends = data.endswith(b"\n")
            body = data[:-1] if ends else data
            data = body.replace(b"\n", b"\n" + self._indent) + (b"\n" if ends else b"")
            if self._line_start:
                data = self._indent + data
            self._line_start = ends
        self._out.write(data)
        return size

    def flush(self) -> None:
        pass


def _write_lines(lines: Iterator[bytes], out: BinaryIO) -> None:
    """Lines written a slice at a time (never the whole file's bytes at once)."""
    while part := b"".join(islice(lines, _SLICE)):
        out.write(part)


def _merged(ordered: Mapping[str, list[bytes]]) -> list[bytes]:
    """Every sorted graph's lines in one sorted list: a line of several graphs several times,
    on adjacent lines."""
    # Timsort merges the graphs' sorted runs (a fifth of sorting the union from scratch at
    # 10^6 triples).
    return sorted(chain.from_iterable(ordered.values()))


def _union(ordered: Mapping[str, list[bytes]]) -> tuple[list[bytes], dict[bytes, int]]:
    """The union of sorted graphs as sorted lines, each once, and the lines more than one
    graph holds, with how many (:attr:`Kept.shared`)."""
    merged = _merged(ordered)
    shared: dict[bytes, int] = {}
    for line in compress(islice(merged, 1, None), map(eq, islice(merged, 1, None), merged)):
        shared[line] = shared.get(line, 1) + 1
    return list(_unique(merged)), shared


def _has(lines: list[bytes], line: bytes) -> bool:
    """Whether sorted ``lines`` hold ``line``."""
    index = bisect_left(lines, line)
    return index < len(lines) and lines[index] == line


def moved_lines(lines: list[bytes], removed: Iterable[bytes], added: Iterable[bytes]
                ) -> list[bytes]:
    """Sorted lines, each once, with ``removed`` taken out and ``added`` put in (a line
    there already is not put in again), as a new list: the slices between the places that
    change are copied, in C (a comprehension over 10^6 lines took ~0.1 s)."""
    out = sorted({index for line in removed
                  if (index := bisect_left(lines, line)) < len(lines) and lines[index] == line})
    taken = {lines[index] for index in out}
    new = sorted({line for line in added if line in taken or not _has(lines, line)})
    # (place, 0: a line put in before it | 1: the line there taken out), in order of place.
    changes = sorted([(bisect_left(lines, line), 0, line) for line in new]
                     + [(index, 1, b"") for index in out])
    result: list[bytes] = []
    start = 0
    for place, kind, line in changes:
        result += lines[start:place]
        if kind:
            start = place + 1
        else:
            result.append(line)
            start = place
    result += lines[start:]
    return result


def _move_union(kept: Kept, ordered: Mapping[str, list[bytes]]) -> None:
    """Move the last write's union (:attr:`Kept.union`) by the graphs' change: a line leaves
    it when the last graph holding it drops it, comes in when the first takes it."""
    old = kept.lines
    change: dict[bytes, int] = {}  # per line, how many more graphs hold it
    for name in old.keys() | ordered.keys():
        before, after = old.get(name, []), ordered.get(name, [])
        # A graph given as its text again (one holding a blank node, where graph/inferred
        # is not moved by the change) may have the same lines as before.
        if before is after or before == after:
            continue
        if name in kept.moved:
            plus, minus = kept.moved[name]
            added = [line for line in plus if _has(after, line) and not _has(before, line)]
            removed = [line for line in minus if _has(before, line) and not _has(after, line)]
        else:
            now, then = set(after), set(before)
            added, removed = list(now - then), list(then - now)
        for line in added:
            change[line] = change.get(line, 0) + 1
        for line in removed:
            change[line] = change.get(line, 0) - 1
    union, shared = kept.union or [], kept.shared
    gone, new = [], []
    for line, more in change.items():
        if not more:
            continue
        held = shared.get(line, 1) if _has(union, line) else 0
        if held + more > 1:
            shared[line] = held + more
        else:
            shared.pop(line, None)
        if held and not held + more:
            gone.append(line)
        elif held + more and not held:
            new.append(line)
    kept.union = moved_lines(union, gone, new)


def compact_jsonld(expanded: bytes, prefixes: Mapping[str, str]) -> bytes:
    """Expanded JSON-LD compacted with an ``@context`` holding ``prefixes``.

    pyld's compaction is deterministic for a given input (it walks keys in sorted order),
    so canonical input stays byte-identical.
    """
    from pyld import jsonld

    document = json.loads(expanded) if expanded.strip() else []
    compacted = jsonld.compact(document, {"@context": dict(prefixes)})
    return json.dumps(compacted, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def stable_rdf(items: Iterable[Any], fmt: pyoxigraph.RdfFormat) -> bytes:
    """Triples or quads in ``fmt``, byte-identical in every process for the same statements.

    JSON-LD comes compacted with an ``@context`` of our prefixes.
    """
    items = list(items)
    if items and isinstance(items[0], pyoxigraph.Quad):
        ordered: list[Any] = canonical_quads(items)
    elif fmt == pyoxigraph.RdfFormat.N_TRIPLES:
        return _canonical_ntriples(items)  # already the lines to write
    else:
        ordered = canonical_triples(items)
    body = write_rdf(ordered, fmt)
    if fmt == pyoxigraph.RdfFormat.JSON_LD:
        body = compact_jsonld(body, PREFIXES)
    return body


def gzip_bytes(body: bytes) -> bytes:
    """gzip with no timestamp or file name in its header, so the same body gives the same bytes."""
    return gzip.compress(body, compresslevel=9, mtime=0)
