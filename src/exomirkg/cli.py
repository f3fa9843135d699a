"""The ``exomirkg`` command line: build, validate, query, stats, serve, explain, imports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from exomirkg import paths
from exomirkg.load import DataFileError

__all__ = ["main"]

OUT_OPTION = click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Build folder [default: build/]",
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
    from exomirkg.build import TRIG_FILE, build_dataset
    from exomirkg.load import source_files
    from exomirkg.store import dataset_to_store, load_store

    trig = (out_dir or paths.BUILD_DIR) / TRIG_FILE
    if trig.is_file():
        newest = max(s.path.stat().st_mtime for s in source_files())
        if trig.stat().st_mtime >= newest:
            return load_store(trig)
        click.echo(f"note: {trig} is older than the data; building in memory", err=True)
    return dataset_to_store(build_dataset(validate=False).dataset)


@click.group()
@click.version_option(package_name="exomirkg")
def main() -> None:
    """exomirkg: exosomal miRNAs, the tumour microenvironment and drug resistance."""


@main.command()
@OUT_OPTION
@click.option("--no-validate", is_flag=True, help="Skip SHACL shapes and checks.")
@_data_errors_exit_2
def build(out_dir: Path | None, no_validate: bool) -> None:
    """Load ontology, imports and triples; reason; validate; write exomirkg.trig and .nt."""
    from exomirkg.build import build as run_build

    result = run_build(out_dir, validate=not no_validate, progress=click.echo)
    for path in result.files:
        click.echo(f"wrote     {path}")
    if result.report is not None and not result.report.conforms:
        click.echo(result.report.text, err=True)
        click.secho("validation failed: see the report above", fg="red", err=True)
        sys.exit(1)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
@_data_errors_exit_2
def validate(fmt: str) -> None:
    """Validate the graph (asserted and inferred) against the shapes; exit 1 on violations."""
    from exomirkg.build import build_dataset

    result = build_dataset(validate=True)
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers")
@click.option("--threads", default=4, show_default=True, type=int, help="threads per worker")
@OUT_OPTION
@_data_errors_exit_2
def serve(host: str, port: int, workers: int, threads: int, out_dir: Path | None) -> None:
    """Serve the SPARQL endpoint and pages under gunicorn."""
    from exomirkg.web.serve import run_server

    run_server(host=host, port=port, workers=workers, threads=threads, build_dir=out_dir)


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

    for path in write_import_modules(reference_dir, paths.IMPORTS_DIR):
        click.echo(f"wrote {path}")
