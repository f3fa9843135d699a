"""The ``exomirkg`` command line: build, validate, query, stats, serve, explain, imports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from exomirkg import paths
from exomirkg.load import DataFileError
from exomirkg.settings import SETTINGS, click_options, setting

__all__ = ["main"]

OUT_OPTION = click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    envvar=setting("BUILD_DIR").env, help="Build folder [default: build/]",
)


def _data_errors_exit_2(func: Callable[..., Any]) -> Callable[..., Any]:
    """Report unreadable data as one line on stderr and exit 2 (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DataFileError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(2)

    return wrapper


def _store(out_dir: Path | None):
    """The built store if it is newer than every source file, else a fresh in-memory build."""
    from exomirkg.build import TRIG_FILE, build_dataset, build_inputs
    from exomirkg.store import load_store

    trig = (out_dir or paths.BUILD_DIR) / TRIG_FILE
    if trig.is_file():
        newest = max(path.stat().st_mtime for path in build_inputs(_data_root()))
        if trig.stat().st_mtime >= newest:
            return load_store(trig)
        click.echo(f"note: {trig} is older than the data; building in memory", err=True)
    return build_dataset(_data_root(), validate=False).store


DATA_ROOT_HELP = ("Folder holding ontology/, triples/, validation/ and server/ (default: this "
                  "checkout, or the data shipped in the package; env EXOMIRKG_DATA_ROOT).")


@click.group()
@click.version_option(package_name="exomirkg")
@click.option("--data-root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, envvar="EXOMIRKG_DATA_ROOT", help=DATA_ROOT_HELP)
@click.pass_context
def main(ctx: click.Context, data_root: Path | None) -> None:
    """exomirkg: exosomal miRNAs, the tumour microenvironment and drug resistance."""
    # One data root for the whole command, passed on whole (paths.layout), never via os.environ.
    ctx.obj = data_root.resolve() if data_root else None


def _data_root() -> Path | None:
    """The --data-root of the running command (None: the default root)."""
    return click.get_current_context().find_root().obj


@main.command()
@OUT_OPTION
@click.option("--no-validate", is_flag=True, help="Skip SHACL shapes and checks.")
@click.option("--force", is_flag=True,
              help="Build in full, even when the build folder holds a build of the same files "
              "(else only what changed data files reach is redone, when nothing else changed).")
@click.option("--watch", is_flag=True,
              help="Keep running: build again whenever an input file changes, the incremental "
              "build's state held in memory (saved for the next build on Ctrl-C or SIGTERM).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="With --watch: seconds between looks at the input files.")
@_data_errors_exit_2
def build(out_dir: Path | None, no_validate: bool, force: bool, watch: bool,
          interval: float) -> None:
    """Load ontology, imports and triples; reason; validate; write exomirkg.trig and .nt."""
    from exomirkg import paths
    from exomirkg.build import BUILD_INFO, up_to_date
    from exomirkg.rebuild import build as run_build

    out = out_dir or paths.BUILD_DIR
    if watch:
        if no_validate:
            raise click.UsageError("--watch keeps the validation's results from build to build: "
                                   "drop --no-validate")
        _watch(out, force, interval)
        return
    if click.get_current_context().get_parameter_source("interval") != ParameterSource.DEFAULT:
        raise click.UsageError("--interval goes with --watch")
    info = None if force else up_to_date(out, _data_root(), validate=not no_validate)
    if info is not None:
        click.echo(f"up to date: {out / BUILD_INFO} lists these files and this code, built "
                   f"{info.get('built')}; nothing to do (--force builds anyway)")
        return
    result = run_build(out, data_root=_data_root(), validate=not no_validate, full=force,
                       progress=click.echo)
    for path in result.files:
        click.echo(f"wrote     {path}")
    if no_validate:
        # build-info.json says "conforms": null; serve refuses such a build without the flag.
        click.secho("not validated: `exomirkg serve` refuses this build unless started with "
                    "--allow-invalid; build without --no-validate to serve it", fg="yellow",
                    err=True)
    if result.report is not None and not result.report.conforms:
        click.echo(result.report.text, err=True)
        click.secho("validation failed: see the report above", fg="red", err=True)
        sys.exit(1)


def _watch(out: Path, force: bool, interval: float) -> None:
    """``build --watch``: a :class:`~exomirkg.rebuild.Watcher`'s steps until Ctrl-C or SIGTERM
    (or a change of the code, which this process cannot run), then its state saved."""
    import signal
    import time

    from exomirkg.rebuild import STATE_DIR, CodeChanged, Watcher

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    watcher = Watcher(out, data_root=_data_root(), full=force, progress=click.echo)
    click.echo(f"watching {_data_root() or paths.DATA_ROOT} every {interval:g} s; "
               "Ctrl-C stops")
    try:
        while True:
            result = watcher.step()
            if result is not None:
                steps = ", ".join(f"{name} {seconds:.2f} s"
                                  for name, seconds in result.timings.items())
                click.echo(f"built {out} ({'incremental' if result.incremental else 'full'}: "
                           f"{steps})")
                if result.report is not None and not result.report.conforms:
                    click.echo(result.report.text, err=True)
                    click.secho("validation failed: see the report above", fg="red", err=True)
                click.echo("watching")
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    except CodeChanged:
        click.echo("the code changed: run `exomirkg build --watch` again to build with it",
                   err=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if watcher.close():
            click.echo(f"kept the state in {out / STATE_DIR} for the next build")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
@_data_errors_exit_2
def validate(fmt: str) -> None:
    """Validate the graph (asserted and inferred) against the shapes; exit 1 on violations."""
    from exomirkg.build import build_dataset

    result = build_dataset(_data_root(), validate=True)
    report = result.report
    assert report is not None
    render = getattr(report, f"as_{fmt}", None)
    click.echo(render() if render else report.text)
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("query_file", type=click.File("r", encoding="utf-8"))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json"]),
              default="table", show_default=True)
@OUT_OPTION
@_data_errors_exit_2
def query(query_file: Any, fmt: str, out_dir: Path | None) -> None:
    """Run a SELECT/ASK query from FILE.rq (or - for stdin) over the whole graph."""
    from exomirkg.queries import format_solutions, run_query

    text = query_file.read()
    try:
        columns, rows = run_query(_store(out_dir), text)
    except ValueError as error:
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)
    click.echo(format_solutions(columns, rows, fmt))


@main.command()
@OUT_OPTION
@_data_errors_exit_2
def stats(out_dir: Path | None) -> None:
    """Print entity counts per class and finding counts per review section."""
    from exomirkg.stats import class_counts, section_counts

    store = _store(out_dir)
    click.echo(f"triples: {len(store)}")
    click.echo("entities per class:")
    for name, count in class_counts(store).items():
        click.echo(f"  {name:<32} {count:>5}")
    click.echo("findings per section:")
    for name, count in section_counts(store).items():
        click.echo(f"  {name:<32} {count:>5}")


@main.command()
@click_options()
@_data_errors_exit_2
@click.pass_context
def serve(context: click.Context, **options: Any) -> None:
    """Serve the SPARQL endpoint and pages under gunicorn (builds first if there is no build)."""
    from exomirkg.backends import is_external
    from exomirkg.web.serve import prepare_data, run_server
    from exomirkg.web.state import InvalidBuildError, check_conforms

    backend, data_file = options["backend"], options["data_file"]
    allow_invalid, store_path = options["allow_invalid"], options["store_path"]
    if is_external(backend):
        from exomirkg.backends.state import BackendUnavailable, check_backend

        try:
            check_backend(backend)
        except (BackendUnavailable, ValueError) as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(2)
    elif backend != "embedded":
        click.secho(f"error: --backend {backend!r}: use embedded or sparql+http://HOST:PORT/PATH",
                    fg="red", err=True)
        sys.exit(2)
    build_dir = Path(options["build_dir"]).resolve()
    trig, info = prepare_data(build_dir, data_file, progress=click.echo)
    try:
        info = check_conforms(info, allow_invalid, data=trig)
    except InvalidBuildError as error:
        click.secho(f"error: refusing to serve: {error}", fg="red", err=True)
        sys.exit(2)
    if info.get("conforms") is False:
        click.secho("WARNING: serving data that FAILED VALIDATION (--allow-invalid); answers may "
                    "be wrong. Run `exomirkg validate` to see why.", fg="red", bold=True, err=True)
    elif info.get("conforms") is not True:
        click.secho("WARNING: serving data that WAS NOT VALIDATED (--allow-invalid); answers may "
                    "be wrong. Run `exomirkg build` to validate it.", fg="red", bold=True,
                    err=True)
    if store_path is not None:
        from exomirkg.store import prepare_store_dir, store_holds

        # A folder already filled from this build is served as it is: replicas over one
        # read-only store must not write it again under each other (docs/scale.md).
        if store_holds(trig, store_path.resolve()):
            click.echo(f"serving the store in {store_path} as it is: it holds {trig.name}",
                       err=True)
        else:
            prepare_store_dir(trig, store_path.resolve(), in_child=True)
    click.echo(f"serving {trig} at http://{options['host']}:{options['port']}/sparql",
               err=True)
    # Only what the command line or the environment gave overrides server/instance/config.py;
    # the paths resolved here are always passed (they were checked above).
    given = {s.name: options[s.parameter] for s in SETTINGS if s.app and
             context.get_parameter_source(s.parameter) != ParameterSource.DEFAULT}
    given.update(BUILD_DIR=build_dir, DATA_FILE=data_file.resolve() if data_file else None,
                 STORE_PATH=store_path.resolve() if store_path else None)
    run_server(host=options["host"], port=options["port"], workers=options["workers"],
               threads=options["threads"], access_log=options["access_log"],
               read_timeout=options["read_timeout"], settings=given)


@main.command()
@click.argument("drug")
@click.argument("mechanism", required=False)
@OUT_OPTION
@_data_errors_exit_2
def explain(drug: str, mechanism: str | None, out_dir: Path | None) -> None:
    """Explain the inferred drug-mechanism links of DRUG (label or IRI)."""
    from exomirkg.explain import explain_drug

    try:
        click.echo(explain_drug(_store(out_dir), drug, mechanism))
    except LookupError as error:
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)


@main.command()
@click.option("--reference", "reference_dir", required=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder with entities.tsv and relations.tsv (shared/reference).")
def imports(reference_dir: Path) -> None:
    """Regenerate ontology/imports/ from the verified reference table."""
    from exomirkg.imports import write_import_modules

    for path in write_import_modules(reference_dir, paths.layout(_data_root()).imports_dir):
        click.echo(f"wrote {path}")


@main.command()
@click.option("--into", "url", required=True, metavar="URL",
              help="Graph Store endpoint, e.g. http://127.0.0.1:8890/sparql-graph-crud-auth "
                   "(Virtuoso) or http://127.0.0.1:7878/store (Oxigraph server).")
@click.option("--user", default=None, help="HTTP user (Virtuoso: dba).")
@click.option("--password", default=None, envvar="EXOMIRKG_LOAD_PASSWORD",
              help="HTTP password [env: EXOMIRKG_LOAD_PASSWORD].")
@click.option("--method", type=click.Choice(["auto", "graphs", "dataset"]), default="auto",
              show_default=True, help="PUT per named graph, or POST the dataset as N-Quads.")
@OUT_OPTION
def load(url: str, user: str | None, password: str | None, method: str,
         out_dir: Path | None) -> None:
    """Put the built dataset, named graphs kept, into an external SPARQL engine."""
    from exomirkg.backends.graph_store import LoadError, load_into
    from exomirkg.build import TRIG_FILE

    trig = (out_dir or paths.BUILD_DIR) / TRIG_FILE
    try:
        report = load_into(url, trig, user=user, password=password, method=method,
                           progress=click.echo)
    except LoadError as error:
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)
    click.echo(f"loaded {report.triples} triples in {report.graphs} named graphs into {url}")
    if report.shared_blank_nodes:
        click.echo(f"note: {report.shared_blank_nodes} blank nodes shared between graphs were "
                   "sent once per graph; use --method dataset or the engine's bulk loader "
                   "(scripts/virtuoso.sh load) to keep them shared", err=True)
