"""One data layout and one table of defaults: the seams that once read the wrong folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from exomirkg import paths
from exomirkg.build import BuildResult, build_dataset
from exomirkg.cli import main
from exomirkg.namespaces import GRAPH_STATEMENTS, REASONER_GRAPHS
from exomirkg.settings import DEFAULTS

#: A shape every drug fails: it asks for a property no drug has.
FAILING_SHAPE = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ekg: <https://w3id.org/exomirkg/> .
ekg:EveryDrugFailsShape a sh:NodeShape ;
    sh:targetClass ekg:Drug ;
    sh:property [ sh:path ekg:noSuchProperty ; sh:minCount 1 ;
                  sh:message "copy's own shape (test fixture)" ] .
"""
#: A check that always finds a row.
BOGUS_CHECK = """#+ summary: 'test fixture: always one row'
#+ description: 'Only in a test copy of the data.'
SELECT ?iri WHERE { BIND (<https://w3id.org/exomirkg/cisplatin> AS ?iri) }
"""


def test_a_build_of_a_copy_validates_with_the_copys_shapes_and_checks(
        data_copy: Path) -> None:
    (data_copy / "validation" / "shapes" / "drug.shacl.ttl").write_text(
        (data_copy / "validation" / "shapes" / "drug.shacl.ttl").read_text() + FAILING_SHAPE)
    (data_copy / "validation" / "checks" / "bogus-violation.rq").write_text(BOGUS_CHECK)
    result = build_dataset(data_copy)
    assert result.report is not None and not result.report.conforms
    rules = {r.rule for r in result.report.results}
    assert "bogus-violation" in rules, rules
    assert any("EveryDrugFailsShape" in r.rule for r in result.report.results), rules


def test_a_build_of_the_checkout_still_conforms(built: BuildResult) -> None:
    """The control: the same build without the fixtures passes, so the test above can fail."""
    assert built.report is not None and built.report.conforms


def test_the_layout_names_every_folder_from_one_root(tmp_path: Path) -> None:
    layout = paths.DataLayout(tmp_path)
    assert layout.shapes_dir == tmp_path / "validation" / "shapes"
    assert layout.rules_dir == tmp_path / "ontology" / "rules"
    assert layout.page_queries_dir == tmp_path / "server" / "pages"
    assert paths.layout() is paths.LAYOUT and paths.SHAPES_DIR == paths.LAYOUT.shapes_dir


def test_serve_reads_the_build_dir_from_the_environment(runner: CliRunner, build_dir: Path,
                                                        built: BuildResult,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import exomirkg.web.serve

    calls: list[dict] = []
    monkeypatch.setattr(exomirkg.web.serve, "run_server", lambda **kw: calls.append(kw))
    monkeypatch.setenv("EXOMIRKG_BUILD_DIR", str(build_dir))
    result = runner.invoke(main, ["serve", "--port", "9999"])
    assert result.exit_code == 0, result.output
    assert calls[0]["settings"]["BUILD_DIR"] == build_dir.resolve()


def test_the_external_engine_uses_the_one_default_pool_size() -> None:
    from exomirkg.backends.state import external_state

    # A closed loopback port: the engine is "down", which the state tolerates at start.
    state = external_state({"BACKEND": "sparql+http://127.0.0.1:9/sparql"}, {})
    assert state.engine.size == DEFAULTS["QUERY_WORKERS"] == 2


def test_both_engines_offer_the_same_run_signature() -> None:
    """The web layer calls run(job, deadline=...) on either engine; both must accept it."""
    import inspect

    from exomirkg.backends.sparql_http import SparqlHttpEngine
    from exomirkg.sparql.engine import QueryEngine, QueryRunner

    expected = inspect.signature(QueryRunner.run)
    for engine in (QueryEngine, SparqlHttpEngine):
        assert list(inspect.signature(engine.run).parameters) == list(expected.parameters)
        assert all(callable(getattr(engine, name)) for name in ("start", "close", "run"))


def test_the_settings_table_in_the_docs_is_the_one_in_the_code() -> None:
    from exomirkg.settings import markdown_table

    readme = (paths.DATA_ROOT / "server" / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "regenerate server/README.md's table from settings.py"


def test_every_app_setting_has_a_serve_flag_and_an_environment_variable(
        runner: CliRunner) -> None:
    from exomirkg.settings import SETTINGS

    help_text = runner.invoke(main, ["serve", "--help"], terminal_width=200).output
    for item in SETTINGS:
        assert item.flag in help_text, item.flag
    assert set(DEFAULTS) == {s.name for s in SETTINGS if s.app}


def test_serve_passes_only_what_was_given_and_never_writes_the_environment(
        runner: CliRunner, build_dir: Path, built: BuildResult,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import exomirkg.web.serve

    calls: list[dict] = []
    monkeypatch.setattr(exomirkg.web.serve, "run_server", lambda **kw: calls.append(kw))
    monkeypatch.setenv("EXOMIRKG_ROW_CAP", "7")
    before = dict(os.environ)
    result = runner.invoke(main, ["serve", "--out", str(build_dir), "--timeout", "4.5"])
    assert result.exit_code == 0, result.output
    given = calls[0]["settings"]
    # Given: the flag, the environment variable and the checked paths; defaults are not, so
    # server/instance/config.py still applies to them.
    assert given["QUERY_TIMEOUT"] == 4.5 and given["ROW_CAP"] == 7
    assert "QUERY_WORKERS" not in given and "BODY_CAP" not in given
    assert dict(os.environ) == before


@pytest.mark.parametrize("validating", [True, False])
def test_a_build_loads_the_statements_union_once_and_leaves_no_working_graph(
        validating: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reasoner and the checks of scope ``asserted`` read one union of the asserted
    graphs (GRAPH_STATEMENTS), loaded once; the store the build returns holds neither it nor
    any other working graph, validated or not."""
    from exomirkg import load, reason, validate

    union = load.parse_sources().ntriples().count(b"\n")  # (blank-node labels vary in length)
    loads: list[tuple[str, int]] = []
    for module in (load, reason, validate):
        def counted(store: pyoxigraph.Store, text: bytes, graph: object, *,
                    real: Callable = module.load_ntriples) -> None:
            loads.append((getattr(graph, "value", ""), text.count(b"\n")))
            real(store, text, graph)
        monkeypatch.setattr(module, "load_ntriples", counted)
    result = build_dataset(validate=validating)
    assert [graph for graph, size in loads if size == union] == [GRAPH_STATEMENTS]
    assert (result.report is not None and result.report.conforms) is validating
    left = [g.value for g in result.store.named_graphs() if g.value.startswith(REASONER_GRAPHS)]
    assert left == []
