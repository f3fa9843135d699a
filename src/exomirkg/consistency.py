"""DL consistency check: owlready2 + HermiT over ontology, imports, entities and findings.

OWL 2 RL (reason.py) materialises links but is not a complete consistency check; HermiT is.
HermiT runs in a JVM that owlready2 starts, so the check runs in a child Python process:
a crash or a hang of the JVM cannot take the caller down, and each run gets a fresh
owlready2 ``World``. owlready2 reads N-Triples, not Turtle, so the graph is written as
N-Triples to a temporary folder first.

Run by hand: ``python -m exomirkg.consistency`` (exit 0 consistent, 1 not, 2 no Java).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from exomirkg.load import parse_turtle, source_files
from exomirkg.namespaces import OWL

__all__ = ["ConsistencyReport", "check_consistency", "check_files", "java_available"]


@dataclass
class ConsistencyReport:
    """What HermiT said."""

    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        """Consistent and no unsatisfiable named class."""
        return self.consistent and not self.unsatisfiable

    @property
    def text(self) -> str:
        if self.ok:
            return "consistent; no unsatisfiable classes"
        lines = [] if self.consistent else [f"INCONSISTENT: {self.message}"]
        lines += [f"unsatisfiable class: {iri}" for iri in self.unsatisfiable]
        return "\n".join(lines)


def java_available() -> bool:
    """HermiT needs a ``java`` executable on the PATH."""
    return shutil.which("java") is not None


def _hermit(nt_path: str) -> dict:
    """Run in the child process: load the N-Triples file and classify with HermiT."""
    import owlready2

    world = owlready2.World()
    world.get_ontology(Path(nt_path).as_uri()).load()
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError as error:
        return {"consistent": False, "unsatisfiable": [], "message": str(error) or "inconsistent"}
    nothing = str(OWL.Nothing)  # unsatisfiable by definition
    unsatisfiable = sorted(
        c.iri for c in world.inconsistent_classes() if getattr(c, "iri", nothing) != nothing
    )
    return {"consistent": True, "unsatisfiable": unsatisfiable, "message": ""}


def check_files(paths: list[Path], timeout: float = 300) -> ConsistencyReport:
    """Check the union of some Turtle files with HermiT (in a child process).

    :param paths: Turtle files (ontology, imports, entities, findings, or test fixtures).
    :param timeout: seconds before the check is abandoned.
    :raises RuntimeError: when Java is missing or the child process fails.
    """
    if not java_available():
        raise RuntimeError("HermiT needs Java: install a JRE (java 11+) and put it on PATH")
    graph = Graph()
    for path in paths:
        parse_turtle(path, graph)
    with tempfile.TemporaryDirectory(prefix="exomirkg-hermit-") as folder:
        nt_path = Path(folder) / "exomirkg.nt"
        graph.serialize(nt_path, format="nt", encoding="utf-8")
        child = subprocess.run(
            [sys.executable, "-m", "exomirkg.consistency", "--json", str(nt_path)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"HermiT check failed (exit {child.returncode}): {child.stderr[-2000:]}")
    return ConsistencyReport(**json.loads(lines[-1]))


def check_consistency(data_root: Path | None = None, timeout: float = 300) -> ConsistencyReport:
    """Check ontology + import modules + review + entities + findings (no inferred triples).

    :param data_root: folder holding ontology/ and triples/.
    """
    return check_files([source.path for source in source_files(data_root)], timeout=timeout)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--json"]:
        # The child: owlready2 and HermiT print to stdout; our answer is the last JSON line.
        print(json.dumps(_hermit(argv[1])))  # noqa: T201
        return 0
    if not java_available():
        print("no java on PATH: HermiT cannot run", file=sys.stderr)  # noqa: T201
        return 2
    report = check_consistency()
    print(report.text)  # noqa: T201
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
