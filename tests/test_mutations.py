"""Mutation tests: break a copy of the real data the way a curator might, and the build's
validation must name the mistake; plus the ``exomirkg validate`` exit-code contract."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from exomirkg.build import build_dataset
from exomirkg.cli import main
from exomirkg.report import ValidationReport, ValidationResult


def _validate(data_root: Path) -> ValidationReport:
    report = build_dataset(data_root=data_root).report
    assert report is not None
    return report


def _found(report: ValidationReport, **expected: str) -> list[ValidationResult]:
    return [r for r in report.results
            if all(getattr(r, key) == value for key, value in expected.items())]


def _edit(path: Path, pattern: str, replacement: str) -> re.Match:
    """Replace the first match of ``pattern`` (multiline) in a data file; return the match."""
    text = path.read_text(encoding="utf-8")
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match, f"{path}: no line matches {pattern!r}; the mutation test needs updating"
    path.write_text(text[:match.start()] + match.expand(replacement) + text[match.end():],
                    encoding="utf-8")
    return match


def _finding_before(path: Path, offset: int) -> str:
    """The finding block that holds the character at ``offset``."""
    text = path.read_text(encoding="utf-8")[:offset]
    return "ekg:" + re.findall(r"^ekg:(\w+) a ekg:", text, flags=re.MULTILINE)[-1]


def test_removing_a_label_is_caught(data_copy: Path) -> None:
    _edit(data_copy / "triples" / "entities" / "drugs.ttl",
          r'^    rdfs:label "cisplatin"@en ;\n', "")
    report = _validate(data_copy)
    assert not report.conforms
    hits = _found(report, rule="ekg:LabelShape", focus="ekg:cisplatin", path="rdfs:label")
    assert hits, "a drug without rdfs:label must fail ekg:LabelShape:\n" + report.as_text()
    assert hits[0].file == "triples/entities/drugs.ttl"


def test_dropping_a_findings_only_reference_is_caught(data_copy: Path) -> None:
    sections = sorted((data_copy / "triples" / "sections").glob("*.ttl"))
    # The first single-reference line of a finding (statements carry the same line).
    found = ((path, match) for path in sections for match in re.finditer(
        r"^    ekg:supportingReference ekg:reference_\d+ ;\n",
        path.read_text(encoding="utf-8"), re.MULTILINE)
        if _finding_before(path, match.start()).startswith("ekg:finding_"))
    path, match = next(found, (None, None))
    assert path is not None and match is not None, "no finding with a single reference left"
    finding = _finding_before(path, match.start())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:match.start()] + text[match.end():], encoding="utf-8")
    report = _validate(data_copy)
    assert not report.conforms
    hits = _found(report, rule="ekg:ReviewAssertionShape", focus=finding,
                  path="ekg:supportingReference")
    assert hits, (f"{finding} without a reference must fail ekg:ReviewAssertionShape:\n"
                  + report.as_text())
    assert hits[0].file == f"triples/sections/{path.name}"


def test_a_malformed_chebi_id_is_caught(data_copy: Path) -> None:
    _edit(data_copy / "triples" / "entities" / "drugs.ttl",
          r"<http://purl\.obolibrary\.org/obo/CHEBI_27899>",
          "<http://purl.obolibrary.org/obo/CHEBI_27899x>")
    report = _validate(data_copy)
    assert not report.conforms
    hits = _found(report, rule="ekg:DrugShape", focus="ekg:cisplatin", value="obo:CHEBI_27899x")
    assert hits, "a malformed ChEBI IRI must fail ekg:DrugShape:\n" + report.as_text()
    assert "malformed" in hits[0].message
    assert _found(report, rule="external-iri-not-imported-violation", focus="obo:CHEBI_27899x")


def test_a_finding_pointing_at_an_undeclared_mirna_is_caught(data_copy: Path) -> None:
    sections = sorted((data_copy / "triples" / "sections").glob("*.ttl"))
    path = next(p for p in sections if "ekg:hasMiRNA ekg:" in p.read_text(encoding="utf-8"))
    match = _edit(path, r"^(    ekg:hasMiRNA )ekg:\w+", r"\1ekg:mir_99999")
    finding = _finding_before(path, match.start())
    report = _validate(data_copy)
    assert not report.conforms
    assert _found(report, rule="ekg:FindingShape", focus=finding, path="ekg:hasMiRNA",
                  value="ekg:mir_99999"), report.as_text()
    dangling = _found(report, rule="dangling-iri-violation", focus="ekg:mir_99999")
    assert dangling and dangling[0].file == f"triples/sections/{path.name}", report.as_text()


def _run_validate(data_root: Path, *args: str) -> subprocess.CompletedProcess:
    """``exomirkg --data-root DIR validate ARGS`` in this process (click's runner): the data
    root is an option passed whole, so no subprocess or environment variable is needed."""
    result = CliRunner().invoke(main, ["--data-root", str(data_root), "validate", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["exomirkg", "validate", *args], result.exit_code,
                                       result.stdout, result.stderr)


def test_validate_exits_1_with_a_report_grouped_by_file(data_copy: Path) -> None:
    _edit(data_copy / "triples" / "entities" / "drugs.ttl",
          r'^    rdfs:label "cisplatin"@en ;\n', "")
    run = _run_validate(data_copy, "--format", "json")
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["conforms"] is False and report["violations"] >= 1
    hit = next(r for r in report["results"]
               if r["focus"] == "ekg:cisplatin" and r["rule"] == "ekg:LabelShape")
    assert hit["file"] == "triples/entities/drugs.ttl" and hit["path"] == "rdfs:label"
    text = _run_validate(data_copy)
    assert text.returncode == 1
    entity = text.stdout.split("triples/entities/drugs.ttl\n  ekg:cisplatin\n", 1)
    assert len(entity) == 2, f"results not grouped by file, then entity:\n{text.stdout}"
    assert "    [Violation] ekg:LabelShape: rdfs:label" in entity[1].split("\n  ekg:")[0]


def test_validate_exits_0_when_the_report_conforms(data_copy: Path) -> None:
    """With no rule to break, the same data conforms: exit 0, in every format."""
    for folder in ("shapes", "checks"):
        shutil.rmtree(data_copy / "validation" / folder)
        (data_copy / "validation" / folder).mkdir()
    run = _run_validate(data_copy, "--format", "turtle")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "sh:conforms true" in run.stdout


def _assert_refused_naming(data_copy: Path, broken: Path) -> None:
    """`exomirkg validate` exits 2 and names the broken file, without a traceback."""
    run = _run_validate(data_copy)
    assert run.returncode == 2, run.stdout + run.stderr
    assert str(broken) in run.stderr and "Traceback" not in run.stderr


def test_validate_exits_2_on_unreadable_shapes_or_checks(data_copy: Path) -> None:
    shapes = data_copy / "validation" / "shapes" / "drug.shacl.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + "\nekg:broken sh:path .\n",
                      encoding="utf-8")
    _assert_refused_naming(data_copy, shapes)
    shapes.write_text(shapes.read_text(encoding="utf-8").replace("\nekg:broken sh:path .\n", ""),
                      encoding="utf-8")
    check = data_copy / "validation" / "checks" / "dangling-iri-violation.rq"
    check.write_text(check.read_text(encoding="utf-8").replace("WHERE {", "WHERE {{", 1),
                     encoding="utf-8")
    _assert_refused_naming(data_copy, check)


def test_validate_exits_2_on_unreadable_data(data_copy: Path) -> None:
    drugs = data_copy / "triples" / "entities" / "drugs.ttl"
    drugs.write_text(drugs.read_text(encoding="utf-8") + '\nekg:oops rdfs:label "never closed .\n',
                     encoding="utf-8")
    _assert_refused_naming(data_copy, drugs)


def test_dropping_a_statements_quote_is_caught(data_copy: Path) -> None:
    """A plain triple whose statement loses its quote no longer carries its evidence: the
    shape and the check both say so, at the statement and at the triple."""
    path = data_copy / "triples" / "sections" / "s2-4-csc-exosomes.ttl"
    match = _edit(path, r"^(ekg:statement_cancer_stem_cell_has_high_marker_cd44 a ekg:Statement ;"
                        r"\n(?:    (?!ekg:quote).*\n)*?)    ekg:quote .*\n", r"\1")
    assert match
    report = _validate(data_copy)
    assert not report.conforms
    assert _found(report, rule="ekg:ReviewAssertionShape",
                  focus="ekg:statement_cancer_stem_cell_has_high_marker_cd44"), report.as_text()
    assert _found(report, rule="statement-without-evidence-violation",
                  focus="ekg:cancer_stem_cell", value="ekg:cd44"), report.as_text()


def test_a_missing_data_root_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-root", str(tmp_path / "nowhere"), "validate"])
    assert result.exit_code == 2
    assert "--data-root" in result.output and "does not exist" in result.output
