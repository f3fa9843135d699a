"""The validation report a curator acts on: results grouped by file and entity, three formats."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF, XSD
from rdflib.util import from_n3

from exomirkg.namespaces import BASE, DCTERMS, PREFIXES, SH

__all__ = ["CHECK_BASE", "ValidationReport", "ValidationResult", "sort_key"]

#: IRI prefix naming a ``*-violation.rq`` check in the Turtle report (served with the shapes).
CHECK_BASE = BASE + "validation/checks/"

#: Where a result goes when its focus node is declared in no source file.
UNKNOWN_FILE = "(not declared in any file)"


@dataclass(frozen=True)
class ValidationResult:
    """One problem: which rule (shape or check), on which entity, in which file, and what to do.

    :ivar severity: ``Violation``, ``Warning`` or ``Info`` (SHACL severities).
    :ivar rule: the shape (``ekg:DrugShape``) or check (``dangling-iri-violation``) that fired.
    :ivar focus: the offending entity, as a CURIE where a prefix is known.
    :ivar file: the source file that declares the entity, relative to the data root.
    :ivar message: what is wrong and how to fix it.
    :ivar path: the property concerned, if any.
    :ivar value: the offending value, if any.
    :ivar kind: ``shape`` or ``check``.
    :ivar component: the SHACL constraint component, or the check's file name.
    :ivar details: extra columns of a check's row.
    :ivar rdf: the result as SHACL describes it, with its RDF terms (predicate, object pairs
        of one sh:ValidationResult node): pyshacl's own description for a shape, the same
        vocabulary for a check. The Turtle report is built from these, not from the text.
    """

    severity: str
    rule: str
    focus: str
    file: str
    message: str
    path: str = ""
    value: str = ""
    kind: str = "shape"
    component: str = ""
    details: dict[str, str] = field(default_factory=dict)
    rdf: tuple[tuple[Any, Any], ...] = field(default=(), compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The rendered fields (what the text and JSON reports show)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rdf"}


def sort_key(result: ValidationResult) -> tuple:
    """Order results: violations first, then by file, entity, rule, property and value.

    Constraint component and message break the remaining ties, so a report's order does not
    depend on the order a SHACL engine returned its results in (rudof's is not pyshacl's).
    """
    r = result
    return (r.severity != "Violation", r.file, r.focus, r.rule, r.path, r.value, r.component,
            r.kind, r.message)


@dataclass
class ValidationReport:
    """Outcome of validating a dataset: shapes and checks together.

    ``conforms`` is false when any result is a Violation; Warnings (such as a finding that rests
    only on retracted references) are reported but do not fail the build. The SHACL report
    (:meth:`as_graph`) says ``sh:conforms false`` as soon as there is any result, as the SHACL
    specification requires (:attr:`shacl_conforms`).
    """

    conforms: bool
    results: list[ValidationResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def shacl_conforms(self) -> bool:
        """SHACL's conformance: true only when there is no result at all (any severity)."""
        return not self.results

    @property
    def violations(self) -> list[ValidationResult]:
        """Results that fail validation."""
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ValidationResult]:
        """Results that are flagged but do not fail validation."""
        return [r for r in self.results if r.severity != "Violation"]

    @property
    def text(self) -> str:
        """The plain-text report (kept for callers of the first slice)."""
        return self.as_text()

    def _summary(self) -> str:
        files = {r.file for r in self.violations}
        timing = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        head = "conforms" if self.conforms else "DOES NOT CONFORM"
        return (f"validation {head}: {len(self.violations)} violation(s) in {len(files)} file(s), "
                f"{len(self.warnings)} warning(s)" + (f" ({timing})" if timing else ""))

    def as_text(self) -> str:
        """Render results grouped by file, then entity: rule, property, value and what to fix.

        :returns: text for a terminal; violations first, then warnings.
        """
        lines = [self._summary()]
        grouped: dict[str, dict[str, list[ValidationResult]]] = defaultdict(
            lambda: defaultdict(list))
        for result in sorted(self.results, key=sort_key):
            grouped[result.file][result.focus].append(result)
        for file, entities in grouped.items():
            lines.append("")
            lines.append(file)
            for focus, results in entities.items():
                lines.append(f"  {focus}")
                for r in results:
                    where = " ".join(x for x in (r.path, f"= {r.value}" if r.value else "") if x)
                    lines.append(f"    [{r.severity}] {r.rule}" + (f": {where}" if where else ""))
                    lines.append(f"      fix: {r.message}")
                    for key, val in r.details.items():
                        lines.append(f"      {key}: {val}")
        return "\n".join(lines)

    def as_json(self) -> str:
        """Render the report as JSON: ``conforms``, counts, timings and a list of results."""
        payload = {
            "conforms": self.conforms,
            "shacl_conforms": self.shacl_conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "results": [r.as_dict() for r in self.results],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False)

    def as_record(self) -> dict[str, Any]:
        """The report as JSON-ready data that :meth:`from_record` reads back whole (each
        result's RDF terms in N3): the incremental build keeps the last report so."""
        return {"conforms": self.conforms, "results": [
            {**r.as_dict(), "rdf": [[term.n3() for term in pair] for pair in r.rdf]}
            for r in self.results]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ValidationReport:
        """A report from :meth:`as_record`'s data (timings are not kept)."""
        results = []
        for item in record["results"]:
            rdf = tuple((from_n3(p), from_n3(o)) for p, o in item.pop("rdf"))
            results.append(ValidationResult(**item, rdf=rdf))
        return cls(conforms=record["conforms"], results=results)

    def as_graph(self) -> Graph:
        """Build a SHACL ``sh:ValidationReport`` graph; checks appear as their own source shapes.

        Each result keeps the terms pyshacl (or the check) gave it; ``sh:conforms`` is SHACL's
        (false with any result, Warnings included), and ``dcterms:source`` names the file.
        """
        graph = Graph()
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.shacl_conforms)))
        for r in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            if not r.rdf:
                raise ValueError(f"{r.rule} on {r.focus}: a result carries its RDF terms "
                                 "(validate.py makes them); the report never re-parses text")
            for predicate, value in r.rdf:
                graph.add((node, predicate, value))
            # The file to edit, relative to the data root: where the focus node comes from.
            graph.add((node, DCTERMS.source, Literal(r.file, datatype=XSD.string)))
        return graph

    def as_turtle(self) -> str:
        """Render :meth:`as_graph` as Turtle."""
        return self.as_graph().serialize(format="turtle")

