"""The build's TriG and N-Triples: canonical, and faithful to the data's own terms."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import XSD

from exomirkg import canonical
from exomirkg.build import NT_FILE, TRIG_FILE, build
from exomirkg.canonical import (
    Kept,
    canonical_dataset_files,
    moved_lines,
    write_canonical_dataset,
)
from exomirkg.load import Sources, parse_sources
from exomirkg.sparql.rdfout import write_rdf

EX = "http://example.org/"


def _dataset(label: str) -> Dataset:
    """Two graphs sharing a blank node, a literal of a derived datatype."""
    dataset = Dataset(default_union=True)
    node = BNode(label)
    one, two = dataset.graph(URIRef(EX + "g1")), dataset.graph(URIRef(EX + "g2"))
    one.add((URIRef(EX + "s"), URIRef(EX + "year"), Literal("2019", datatype=XSD.long)))
    one.add((URIRef(EX + "s"), URIRef(EX + "part"), node))
    two.add((node, URIRef(EX + "label"), Literal("a \"quoted\" name", lang="en")))
    two.add((URIRef(EX + "s"), URIRef(EX + "year"), Literal("2019", datatype=XSD.long)))
    return dataset


def _graphs(label: str) -> dict[str, bytes]:
    return Sources.from_rdflib(_dataset(label)).by_name()


def test_the_files_keep_lexical_forms_and_do_not_depend_on_blank_node_labels() -> None:
    trig, nt = canonical_dataset_files(_graphs("first"))
    assert (trig, nt) == canonical_dataset_files(_graphs("other"))
    # A pyoxigraph store would have made it "2019"^^xsd:integer.
    line = (f'<{EX}s> <{EX}year> "2019"^^<http://www.w3.org/2001/XMLSchema#long> .\n'
            ).encode()
    assert nt.count(line) == 1, "the union names a triple of two graphs once"
    assert nt.count(b"\n") == 3 and b"_:c14n0" in nt
    quads = list(pyoxigraph.parse(trig, format=pyoxigraph.RdfFormat.TRIG))
    assert len(quads) == 4
    assert {str(q.graph_name) for q in quads} == {f"<{EX}g1>", f"<{EX}g2>"}
    # The blank node is one node across both graphs, as in the data.
    assert len({q.object for q in quads if q.predicate.value == EX + "part"}
               | {q.subject for q in quads if q.predicate.value == EX + "label"}) == 1


def test_a_build_writes_each_term_as_its_file_states_it(data_copy: Path, tmp_path: Path) -> None:
    """The build reads the files with pyoxigraph's parser, not into a store: the written
    files keep a lexical form and a derived datatype the store would change, while the
    store answers by value."""
    (data_copy / "triples" / "sections" / "zz-terms.ttl").write_text(
        "@prefix ekg: <https://w3id.org/exomirkg/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'ekg:zz_node ekg:zzYear "2019"^^xsd:long ; ekg:zzCount "01"^^xsd:integer .\n',
        encoding="utf-8")
    result = build(tmp_path / "out", data_root=data_copy, validate=False)
    nt = (tmp_path / "out" / NT_FILE).read_bytes()
    xsd = "http://www.w3.org/2001/XMLSchema#"
    node = "<https://w3id.org/exomirkg/zz_node>"
    assert f'{node} <https://w3id.org/exomirkg/zzYear> "2019"^^<{xsd}long> .\n'.encode() in nt
    assert f'{node} <https://w3id.org/exomirkg/zzCount> "01"^^<{xsd}integer> .\n'.encode() in nt
    written = {(q.predicate.value.rsplit("/", 1)[1], q.object) for q in pyoxigraph.parse(
        path=str(tmp_path / "out" / TRIG_FILE), format=pyoxigraph.RdfFormat.TRIG)
        if q.subject.value.endswith("zz_node")}
    assert written == {
        ("zzYear", pyoxigraph.Literal("2019", datatype=pyoxigraph.NamedNode(xsd + "long"))),
        ("zzCount", pyoxigraph.Literal("01", datatype=pyoxigraph.NamedNode(xsd + "integer")))}
    (year,) = result.store.query(
        "SELECT ?y { <https://w3id.org/exomirkg/zz_node> <https://w3id.org/exomirkg/zzYear> ?y }",
        use_default_graph_as_union=True)
    assert year["y"] == pyoxigraph.Literal("2019", datatype=pyoxigraph.NamedNode(xsd + "integer"))


def _varied_graphs() -> dict[str, bytes]:
    """Graphs of every kind of term the TriG writer abbreviates or escapes (blank nodes are
    the test above's), one named graph longer than a slice of the writer's input (a
    subject's statements across the cut)."""
    ekg, xsd = "https://w3id.org/exomirkg/", "http://www.w3.org/2001/XMLSchema#"
    varied = [
        f'<{ekg}a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ekg}Finding> .',
        f'<{ekg}a> <{ekg}p> "line\\nbreak \\"quoted\\" \\\\ tab\\t \u00e9" .',
        f'<{ekg}a> <{ekg}p> "12"^^<{xsd}integer> .',
        f'<{ekg}a> <{ekg}p> "1.5"^^<{xsd}decimal> .',
        f'<{ekg}a> <{ekg}p> "true"^^<{xsd}boolean> .',
        f'<{ekg}a> <{ekg}p> "2019"^^<{xsd}long> .',
        f'<{ekg}a> <{ekg}p> "x"@en .',
        f'<{ekg}with/slash> <{ekg}p> <http://example.org/no-prefix#x> .',
    ]
    many = [f'<{ekg}s{i // 7:06d}> <{ekg}p{i % 7}> "{i}" .' for i in range(70_000)]
    return {"": "\n".join(varied[:3]).encode() + b"\n",
            f"{ekg}graph/section/3-2": "\n".join(varied).encode() + b"\n",
            "http://example.org/graph": "\n".join(many).encode() + b"\n"}


def test_the_trig_is_pyoxigraphs_own() -> None:
    """Each graph is written as Turtle, indented into its TriG block: the bytes are those of
    pyoxigraph's TriG writer given the same sorted statements."""
    graphs = _varied_graphs()
    trig, nt = canonical_dataset_files(graphs)
    quads = []
    for name in sorted(graphs, key=lambda name: f"<{name}>" if name else ""):
        graph = pyoxigraph.NamedNode(name) if name else pyoxigraph.DefaultGraph()
        lines = sorted(set(graphs[name].splitlines(keepends=True)))
        quads += [pyoxigraph.Quad(t.subject, t.predicate, t.object, graph) for t in
                  pyoxigraph.parse(b"".join(lines), format=pyoxigraph.RdfFormat.N_TRIPLES)]
    assert trig == write_rdf(quads, pyoxigraph.RdfFormat.TRIG)
    assert nt.count(b"\n") == len({(q.subject, q.predicate, q.object) for q in quads})


def test_a_kept_write_in_pieces_writes_what_a_write_from_scratch_does(monkeypatch) -> None:
    """``build --watch`` writes a large graph's Turtle in pieces of whole subjects and makes
    again only the pieces whose lines changed: the files are the same bytes all the same."""
    monkeypatch.setattr(canonical, "_PIECE", 16)
    graphs = parse_sources().by_name()
    kept = Kept()
    assert canonical_dataset_files(graphs) == _kept_write(graphs, kept)
    name = next(name for name in graphs if name.endswith("/section/2-2"))
    pieces = kept.pieces[name]
    assert len(pieces.turtle) > 10 and not kept.blank & {name}
    lines = graphs[name].splitlines(keepends=True)
    subject = lines[len(lines) // 2].split(b" ")[0]
    changed = dict(graphs)
    changed[name] = b"".join(
        [line for line in lines if not line.startswith(subject)]
        + [subject + b" <http://www.w3.org/2000/01/rdf-schema#comment> \"edited\" .\n",
           b"<https://w3id.org/exomirkg/zz_new> <http://www.w3.org/2000/01/rdf-schema#label> "
           b"\"new\" .\n"])
    # The unchanged graphs as their kept lines, as the watcher gives them.
    given = {other: (kept.lines[other] if other != name and other not in kept.blank else text)
             for other, text in changed.items()}
    assert canonical_dataset_files(changed) == _kept_write(given, kept)
    made = kept.pieces[name].turtle
    reused = [turtle for turtle in made if any(turtle is old for old in pieces.turtle)]
    assert 0 < len(reused) < len(made) - 1  # the subject's piece and the new one are new


def _kept_write(graphs: dict, kept: Kept) -> tuple[bytes, bytes]:
    trig, union = io.BytesIO(), io.BytesIO()
    write_canonical_dataset(graphs.items(), trig, union, kept=kept)
    return trig.getvalue(), union.getvalue()


def test_a_kept_write_moves_the_union_by_the_change(monkeypatch) -> None:
    """``build --watch`` moves the merged N-Triples by the graphs' change: a line two graphs
    hold stays while one of them holds it, and the files are those a write from scratch
    makes, a graph holding blank nodes (their labels follow them all) among them."""
    merged: list[int] = []
    monkeypatch.setattr(canonical, "_union",
                        lambda ordered: merged.append(1) or _UNION(ordered))
    ex = "http://example.org/"

    def line(s: str, o: str) -> bytes:
        return f"<{ex}{s}> <{ex}p> <{ex}{o}> .\n".encode()

    graphs = {f"{ex}a": line("s", "shared") + line("a", "1") + line("c", "both"),
              f"{ex}b": line("s", "shared") + line("b", "1"),
              f"{ex}c": line("c", "both") + line("c", "2"),
              f"{ex}d": f"<{ex}d> <{ex}p> _:x .\n_:x <{ex}p> <{ex}shared> .\n".encode()}
    kept = Kept()
    assert canonical_dataset_files(graphs) == _kept_write(graphs, kept)
    assert merged == [1] and kept.shared == {line("s", "shared"): 2, line("c", "both"): 2}
    steps = [
        # a drops the shared line (b still holds it) and one of its own, takes a new one
        # and one c holds
        {f"{ex}a": line("c", "both") + line("a", "2") + line("c", "2")},
        # b drops the shared line: it leaves the union
        {f"{ex}b": line("b", "1")},
        # c given as its lines, with what it moved (one line said added was there before)
        {f"{ex}c": [line("c", "2"), line("c", "3")]},
        # d's blank node takes another statement, which changes its label
        {f"{ex}d": f"<{ex}d> <{ex}p> _:x .\n_:x <{ex}p> <{ex}shared> .\n"
                   f"_:x <{ex}q> \"more\" .\n".encode()},
    ]
    for change in steps:
        given = {name: kept.lines[name] if name not in kept.blank else graphs[name]
                 for name in graphs}
        given.update(change)
        if isinstance(change.get(f"{ex}c"), list):
            kept.moved[f"{ex}c"] = ([line("c", "2"), line("c", "3")], [line("c", "both")])
        graphs.update({name: b"".join(text) if isinstance(text, list) else text
                       for name, text in change.items()})
        assert canonical_dataset_files(graphs) == _kept_write(given, kept), change
    assert merged == [1]  # moved, never merged again
    assert kept.shared == {line("c", "2"): 2}


_UNION = canonical._union


def test_moved_lines_is_the_sorted_set_after_the_change() -> None:
    rng = random.Random(7)
    for _ in range(200):
        lines = sorted({f"{rng.randrange(60):02d}\n".encode() for _ in range(rng.randrange(40))})
        removed = [f"{rng.randrange(70):02d}\n".encode() for _ in range(rng.randrange(8))]
        added = [f"{rng.randrange(70):02d}\n".encode() for _ in range(rng.randrange(8))]
        before = list(lines)
        got = moved_lines(lines, removed, added)
        assert got == sorted((set(lines) - set(removed)) | set(added)), (lines, removed, added)
        assert lines == before and got is not lines
