"""Imports run one way: the query core (``sparql``) <- ``backends`` <- ``web``; no cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import exomirkg

PACKAGE = Path(exomirkg.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """module -> the exomirkg modules it imports, at any depth of the file (lazy ones too)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in modules else base)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("sparql", {"web", "backends", "cli"}),
    ("backends", {"web", "cli"}),
])
def test_lower_layers_never_import_upper_ones(layer: str, forbidden: set[str]) -> None:
    wrong = sorted((m, t) for m, targets in _imports().items() if _package(m) == layer
                   for t in targets if _package(t) in forbidden)
    assert not wrong, f"{layer} must not import {sorted(forbidden)}: {wrong}"


def test_nothing_outside_web_imports_web_but_the_command_line() -> None:
    wrong = sorted((m, t) for m, targets in _imports().items()
                   if _package(m) not in ("web", "cli") for t in targets if _package(t) == "web")
    assert not wrong, wrong


def test_the_import_graph_has_no_cycles() -> None:
    graph = _imports()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            # A package's __init__ importing its own modules is how packages are made.
            if target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target):], target] if target in trail
                              else [node, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_a_query_process_does_not_import_flask() -> None:
    """What a respawned query process loads: the core, rdflib's parser, pyoxigraph."""
    script = ("import sys\n"
              "from exomirkg.sparql import engine, guard, results, sandbox\n"
              "guard.verify('ASK {}')\n"
              "print(sorted(m for m in ('flask', 'werkzeug', 'gunicorn') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


#: Vocabulary IRIs that must come from exomirkg.namespaces, never be spelled out in code.
_NAMESPACE_STARTS = ("https://w3id.org/exomirkg", "http://purl.obolibrary.org/", "http://www.w3.org/",
                     "http://purl.org/dc/", "http://www.geneontology.org/", "http://rdfs.org/",
                     "http://xmlns.com/", "https://schema.org/")


def test_every_vocabulary_iri_comes_from_namespaces() -> None:
    """One home for IRIs: a string constant spelling a vocabulary IRI in any module but
    namespaces.py is a second definition that can drift (docstrings and comments may cite)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "namespaces.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef,
                                           ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:60]}"
                      for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and id(node) not in docstrings and node.value.startswith(_NAMESPACE_STARTS)]
    assert not offenders, "use exomirkg.namespaces:\n" + "\n".join(offenders)
