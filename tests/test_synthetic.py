"""benchmarks/synthetic.py's graph conforms, as curated data does, so benchmarks measure the
realistic build (not the cost of writing one validation result per few triples)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import benchmark
from rdflib import Dataset
from rdflib.namespace import RDF

from exomirkg.build import build
from exomirkg.load import source_files
from exomirkg.namespaces import EKG, section_graph


@pytest.mark.parametrize(("seed", "sections"), [(1, 1), (2, 1), (2, 8)])
def test_synthetic_data_folder_builds_without_violations(seed: int, sections: int,
                                                         tmp_path: Path) -> None:
    synthetic = benchmark("synthetic")
    data = synthetic.generate_ntriples(4000, seed=seed, sections=sections)
    folder = synthetic.write_data_root(data, tmp_path / "data")

    result = build(tmp_path / "out", data_root=folder)

    assert result.report is not None
    violations = result.report.violations
    assert not violations, (
        "benchmarks/synthetic.py must generate what the shapes and checks accept: "
        + result.report.as_text())
    assert result.report.conforms
    # The curated review has Warnings of this kind only (findings on retracted references).
    assert {r.rule for r in result.report.warnings} <= {"ekg:FindingRetractedSupportShape"}
    # The rules still fire on it: findings join drugs to mechanisms.
    assert "drugLinkedToMechanism" in result.inferred.serialize(format="nt")


def test_ntriples_are_what_rdflib_holds_and_writes(tmp_path: Path) -> None:
    """The lines (the path that reaches 10^7 triples) are what rdflib would hold and write:
    read into rdflib by generate(), each graph keeps every line (none was a duplicate) and
    writes them back byte for byte, and the dataset's size is the one counted while
    generating (a triple in several graphs once: the ontology and import modules share a
    few), the count that decides when generation stops."""
    synthetic = benchmark("synthetic")
    data = synthetic.generate_ntriples(3000, seed=7)
    dataset = synthetic.generate(3000, seed=7)

    assert data.size == len(dataset) >= 3000
    assert data.size < sum(len(lines) for lines in data.graphs.values())
    for name, lines in data.graphs.items():
        graph = dataset.graph(name)
        assert len(lines) == len(set(lines)) == len(graph), name
        if any(b"_:" in line for line in lines):
            continue  # the ontology's blank nodes: rdflib names them anew on each parse
        assert sorted(lines) == sorted(graph.serialize(format="nt", encoding="utf-8")
                                       .splitlines(True)), name
    quads = Dataset()
    quads.parse(synthetic.write_nquads(data, tmp_path / "data.nq"), format="nquads")
    assert {graph.identifier: len(graph) for graph in quads.graphs() if len(graph)} == {
        name: len(lines) for name, lines in data.graphs.items()}
    # Either form writes the same data folder.
    light = synthetic.write_data_root(data, tmp_path / "light")
    full = synthetic.write_data_root(dataset, tmp_path / "full")
    written = sorted(path.relative_to(light) for path in light.rglob("*.ttl"))
    assert written == sorted(path.relative_to(full) for path in full.rglob("*.ttl"))
    assert all((light / path).read_bytes() == (full / path).read_bytes() for path in written)


def test_sections_spread_the_findings_and_lose_nothing(tmp_path: Path) -> None:
    synthetic = benchmark("synthetic")
    whole = synthetic.generate_ntriples(4000, seed=2, with_ontology=False)
    split = synthetic.generate_ntriples(4000, seed=2, with_ontology=False, sections=8)

    parts = [section_graph(f"synthetic_{k}") for k in range(1, 9)]
    assert section_graph("synthetic") not in split.graphs
    assert split.size == whole.size
    for name, lines in whole.graphs.items():
        if name != section_graph("synthetic"):
            assert split.graphs[name] == lines, name
    assert sorted(line for part in parts for line in split.graphs[part]) == sorted(
        whole.graphs[section_graph("synthetic")])
    finding = f" <{RDF.type}> <{EKG.Finding}> .\n".encode()
    counts = [sum(line.endswith(finding) for line in split.graphs[part]) for part in parts]
    assert max(counts) - min(counts) <= 1 and min(counts) > 0, counts
    # Each section file is read back into its own graph.
    folder = synthetic.write_data_root(split, tmp_path / "data")
    read = {source.graph: source.path.name for source in source_files(folder)}
    assert {part: read.get(part) for part in parts} == {
        part: f"synthetic_{k}.ttl" for k, part in enumerate(parts, start=1)}
