"""Command line of the data lake: ``serve`` the catalog API, ``tables`` and ``show`` to read the catalog."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from data_lake.entrypoints import analysis_cli, load_cli
from data_lake.entrypoints.views import summary_view, table_view
from data_lake.services import CatalogService, TableDetails
from data_lake.settings import Settings
from strata_kernel.cli import one_line_errors
from strata_kernel.settings import load_settings

#: imported by each gunicorn worker after the fork, never by a one-worker master (strata_kernel.serving.app_from)
APP_MODULE = "data_lake.entrypoints.app"

app = typer.Typer(help="Strata data lake: Parquet tables and their catalog.", no_args_is_help=True)
console = Console()


def _service() -> CatalogService:
    from data_lake.bootstrap import bootstrap  # here: `serve`'s master never needs the composition root

    return bootstrap(load_settings(Settings, profile_on_commit="off")).catalog


analysis_cli.register(app)
load_cli.register(app)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: the host of data_lake_url.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: the port of data_lake_url (8004).")] = None,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the catalog API under gunicorn until interrupted."""
    from strata_kernel.logs import configure_logging
    from strata_kernel.serving import app_from
    from strata_kernel.serving import serve as run_server

    with one_line_errors():
        settings = load_settings(Settings)
        configure_logging("data_lake", settings.log_level, settings.log_json)
        default_host, default_port = settings.listen_address()
        run_server(app_from(APP_MODULE, settings), host=host or default_host, port=port or default_port,
                   workers=workers, preload_modules=(APP_MODULE,))  # fmt: skip


@app.command()
def tables(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List every table with its version, rows and partitions."""
    with one_line_errors():
        summaries = _service().tables()
    if as_json:
        typer.echo(json.dumps({"tables": [summary_view(s) for s in summaries]}))
        return
    view = Table("table", "version", "rows", "partitions", "updated at")
    for summary in summaries:
        view.add_row(
            summary.table.qualified,
            str(summary.version),
            str(summary.rows),
            str(summary.partitions),
            summary.updated_at.isoformat(timespec="seconds"),
        )
    console.print(view if summaries else "no tables yet")


@app.command()
def show(
    table: Annotated[str, typer.Argument(help="'<zone>.<name>', e.g. processed.orders")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Show a table's location, schema, partitions and commits (with lineage)."""
    with one_line_errors():
        details = _service().table(table)
    if as_json:
        typer.echo(json.dumps(table_view(details)))
        return
    _print_table(details)


def _print_table(details: TableDetails) -> None:
    snapshot = details.snapshot
    console.print(
        f"[bold]{snapshot.table.qualified}[/bold] v{snapshot.version}  {snapshot.rows} rows  "
        f"location={snapshot.table.location}  partitioned by {snapshot.partition_column}"
    )
    schema = Table("column", "type", title="schema")
    for column in snapshot.schema:
        schema.add_row(Text(column.name), Text(column.type))  # Text: 'timestamp[us]' is not markup
    partitions = Table("value", "rows", "files", title="partitions")
    for partition in details.partitions:
        partitions.add_row(Text(partition.value), str(partition.rows), str(partition.files))
    console.print(schema, partitions)
    console.print("commits (version, mode, rows, at, caller: job <- inputs):")
    for commit in details.commits:  # one line each, never folded: lineage must stay greppable
        inputs = ", ".join(commit.inputs) or "-"
        at = commit.at.isoformat(timespec="seconds")
        who = f"{commit.caller or '?'}: {commit.job}"
        line = f"  v{commit.version}  {commit.mode.value}  {commit.rows} rows  {at}  {who} <- {inputs}"
        console.print(line, soft_wrap=True, markup=False, highlight=False)
