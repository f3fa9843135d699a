"""Blueprints hold views only; shared helpers, the one cache, the one negotiation function and
the one conversion of a refused query live outside them (issue 15, points 4 and 6)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import free_port

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
    # The hot path catches a refusal only to hand the request to Flask, whose handler answers
    # it (tests/test_sparql_hotpath.py checks the response is the Flask view's).
    catching = [where for where in catching if not where.startswith("hotpath.py:")]
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


def test_engine_errors_are_answered_by_the_one_set_of_handlers() -> None:
    """No module but ``helpers`` registers an error handler for query or engine errors
    (``security`` answers HTTP errors, the 404 page its own)."""
    registering = []
    for path in [*_web_sources(), *(PACKAGE / "backends").glob("*.py")]:
        if path == HELPERS:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr == "register_error_handler":
                registering.append(f"{path.name}:{node.lineno}")
    assert not registering, f"{registering}: register error handlers in helpers.install"


# One rule for every route (issue 15, point 4): the client's order on q-value ties, synonyms
# understood, a URL suffix deciding as format= does. Pages answered HTML on such ties and on
# generic JSON/XML before 0.2; these pin the new answers.
@pytest.mark.parametrize(("path", "accept", "expected"), [
    ("/mir_21", "text/turtle;q=0.5, text/html;q=0.5", "text/turtle"),
    ("/mir_21", "text/html;q=0.5, text/turtle;q=0.5", "text/html"),
    ("/mir_21", "application/n-triples, text/html", "application/n-triples"),
    ("/mir_21", "application/json", "application/ld+json"),
    ("/mir_21", "application/xml", "application/rdf+xml"),
    ("/mir_21", "text/plain", "application/n-triples"),
    ("/mir_21", "*/*", "text/html"),
    ("/mir_21", "image/png", "text/html"),
    ("/mir_21.ttl", "text/html", "text/turtle"),
    ("/ontology", "application/json", "application/ld+json"),
    ("/ontology", "", "application/rdf+xml"),
    ("/review", "text/turtle;q=0.5, text/html;q=0.5", "text/turtle"),
    ("/search?q=cisplatin", "application/json, text/html", "application/json"),
    ("/search?q=cisplatin", "text/html, application/json", "text/html"),
    ("/search?q=cisplatin", "*/*", "text/html"),
    ("/sparql?query=ASK%7B%7D", "text/csv;q=0.5, application/sparql-results+xml;q=0.5",
     "text/csv"),
    ("/nothing-here", "", "text/plain"),
    ("/nothing-here", "image/png", "text/plain"),
    ("/nothing-here", "text/html", "text/html"),
])
def test_every_route_reads_accept_by_the_one_rule(client: FlaskClient, path: str, accept: str,
                                                  expected: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.mimetype == expected, (path, accept, response.status_code)
    if path != "/nothing-here":
        assert response.status_code == 200
        assert "Accept" in response.headers.get("Vary", ""), "a negotiated answer must vary"


def test_an_external_engine_that_is_down_gets_503_with_a_sentence(
        make_app: Callable[..., Flask]) -> None:
    """The one handler answers the external engine's errors on pages as on /sparql."""
    app = make_app(BACKEND=f"sparql+http://127.0.0.1:{free_port()}/sparql",
                   QUERY_TIMEOUT=5)
    response = app.test_client().get("/cisplatin")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/plain"
    assert "cannot be reached" in response.get_data(as_text=True)
