"""Blueprints hold views only; shared helpers, the one cache, the one negotiation function and
the one conversion of a refused query live outside them (issue 15, points 4 and 6)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import exomirkg

PACKAGE = Path(exomirkg.__file__).parent
WEB = PACKAGE / "web"
TESTS = Path(__file__).parent
#: Where the one negotiation function and the one per-app cache live.
HELPERS = WEB / "helpers.py"
NEGOTIATION = PACKAGE / "sparql" / "negotiation.py"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _is_blueprint_module(tree: ast.Module) -> bool:
    """A module that makes ``bp = Blueprint(...)`` at its top level."""
    return any(isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "bp" for t in node.targets)
        and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "Blueprint"
        for node in tree.body)


BLUEPRINTS = sorted(path for path in WEB.glob("*.py") if _is_blueprint_module(_tree(path)))
BLUEPRINT_MODULES = {f"exomirkg.web.{path.stem}" for path in BLUEPRINTS}
SOURCES = sorted([*PACKAGE.rglob("*.py"), *TESTS.rglob("*.py")])


def test_the_blueprint_modules_are_found() -> None:
    assert {p.stem for p in BLUEPRINTS} >= {"sparql", "queries", "graphstore", "pages",
                                            "entities", "docs", "downloads", "network",
                                            "browse", "minted"}


def _registered(function: ast.FunctionDef) -> bool:
    """Decorated by the blueprint (``@bp.route``, ``@bp.errorhandler``, ``@bp.app_...``)."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") == "bp":
            return True
    return False


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda p: p.name)
def test_blueprint_modules_define_only_views(path: Path) -> None:
    """Every public function of a blueprint module is registered on its ``bp`` (a view, an
    error handler, a context processor); helpers it alone uses are private (``_name``)."""
    tree = _tree(path)
    helpers = [node.name for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               and not node.name.startswith("_") and not _registered(node)]
    assert not helpers, (f"{path.name} defines {helpers}, which are not views: move a helper "
                         "other modules need to exomirkg/web/helpers.py (or another module "
                         "without a blueprint), or make it private (_name) if only this "
                         "module's views use it")
    exported = next((ast.literal_eval(node.value) for node in tree.body
                     if isinstance(node, ast.Assign)
                     and any(getattr(t, "id", "") == "__all__" for t in node.targets)), None)
    assert exported == ["bp"], f"{path.name}: __all__ should be ['bp'], not {exported}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_only_bp_is_imported_from_a_blueprint_module(path: Path) -> None:
    wrong = [f"from {node.module} import {alias.name}"
             for node in ast.walk(_tree(path))
             if isinstance(node, ast.ImportFrom) and node.module in BLUEPRINT_MODULES
             for alias in node.names if alias.name != "bp"]
    # The SPARQL view shows the editor page to a browser at /sparql: one view calling another.
    wrong = [w for w in wrong if w != "from exomirkg.web.pages import editor"]
    assert not wrong, (f"{path.name}: {wrong}: shared helpers live outside blueprint modules "
                       "(exomirkg/web/helpers.py, protocol.py, delivery.py, ...)")


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda p: p.name)
def test_blueprint_modules_keep_no_cache_of_their_own(path: Path) -> None:
    """The app's one cache is ``helpers.cached`` (the page cache was written three times)."""
    text = path.read_text(encoding="utf-8")
    for marker in (".extensions", ".cache[", ".cache.get", "lru_cache", "@cache"):
        assert marker not in text, (f"{path.name} uses {marker!r}: keep computed things in "
                                    "the app's one cache, exomirkg.web.helpers.cached")


def _web_sources() -> list[Path]:
    return sorted(WEB.glob("*.py"))


def test_a_refused_query_becomes_a_response_in_one_place() -> None:
    """``ProtocolError``/``QueryRefused`` are answered by the app's error handler only."""
    catching = []
    for path in _web_sources():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                if names & {"QueryRefused", "ProtocolError"}:
                    catching.append(f"{path.name}:{node.lineno}")
    assert not catching, (f"{catching} catch a refused query: let it propagate to the error "
                          "handler registered by exomirkg.web.helpers.install")


def test_every_route_negotiates_through_the_one_function() -> None:
    """Only ``helpers.choose_media`` reads Accept for a media type (no second mechanism)."""
    lower = {"handle_accept", "parse_accept", "prefers_html", "negotiate", "best_match"}
    wrong = []
    for path in _web_sources():
        if path == HELPERS:
            continue
        for node in ast.walk(_tree(path)):
            name = (node.attr if isinstance(node, ast.Attribute)
                    else node.id if isinstance(node, ast.Name) else None)
            if name == "accept_mimetypes" or name in lower:
                wrong.append(f"{path.name}:{node.lineno} {name}")
    assert not wrong, (f"{wrong}: pick a media type with exomirkg.web.helpers.choose_media, "
                       "which reads the one table of exomirkg.sparql.negotiation")
