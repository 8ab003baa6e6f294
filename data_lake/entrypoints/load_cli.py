"""``python -m data_lake load FILE --table raw.NAME``: land a CSV or Parquet file, schema shown, progress drawn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from data_lake.settings import Settings
from strata_kernel.cli import BAD_INPUT, fail, one_line_errors
from strata_kernel.settings import load_settings

if TYPE_CHECKING:  # imported when `load` runs (pyarrow, the catalog): `serve`'s master never needs them
    from data_lake.loading import LoadPlan

MODES = ("append", "overwrite", "overwrite_partitions")


def register(app: typer.Typer) -> None:
    app.command()(load)


def load(
    file: Annotated[Path, typer.Argument(help="A .csv/.tsv or .parquet file.")],
    table: Annotated[str, typer.Option(help="Target table, raw.<name>.")],
    time: Annotated[
        list[str] | None,
        typer.Option(
            "--time",
            metavar="COL[=ZONE]",
            help="A time column; ZONE (IANA, e.g. Europe/Madrid or UTC) is "
            "where its values without an offset were read off the clock. Repeatable; the first one "
            "partitions the table by its local date.",
        ),
    ] = None,
    text: Annotated[
        list[str] | None, typer.Option("--text", metavar="COL", help="Keep COL as text (ids like 0042). Repeatable.")
    ] = None,
    mode: Annotated[str, typer.Option(help=f"One of {', '.join(MODES)}.")] = "append",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the schema only; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON line.")] = False,
) -> None:
    """Land a file as a new version of a raw table: types inferred and shown, time columns as instants."""
    out, err = Console(), Console(stderr=True)
    with one_line_errors():
        if mode not in MODES:
            fail(f"--mode must be one of {', '.join(MODES)}", BAD_INPUT)
        from data_lake.bootstrap import bootstrap
        from data_lake.loading import Loader

        settings = load_settings(Settings, profile_on_commit="off")
        loader = Loader(bootstrap(settings).catalog, settings.resolved_lake_root())
        plan = loader.plan(file, table, time or [], text or [])
        if not as_json:
            out.print(_schema_view(plan))
        if dry_run:
            plan.source.close()
            return
        with _progress(err, plan) as (bar, task):
            result = loader.load(plan, mode, lambda where: bar.update(task, completed=where.done, total=where.total))
    if as_json:
        typer.echo(json.dumps(result))
    else:
        out.print(f"{result['table']} v{result['version']}: {result['rows']:,} rows in {result['files']} file(s), "
                  f"{result['partitions']} partition(s) by {result['partition_column']}, {result['seconds']} s",
                  highlight=False)  # fmt: skip


def _schema_view(plan: LoadPlan) -> Table:
    zones = {d.column: d.zone for d in plan.times}
    view = Table(title=f"{plan.source.path.name} -> {plan.table.qualified}")
    view.add_column("column", no_wrap=True)
    view.add_column("type", no_wrap=True)
    view.add_column("note")
    for column in plan.schema:
        note = ""
        if column.name == plan.partition_column:
            note = "partition (date of the first time column)" if plan.times else "partition (day of the load)"
        elif column.name in zones:
            note = f"time; values without an offset read in {zones[column.name]}" if zones[column.name] else "time"
        view.add_row(Text(column.name), Text(str(column.type)), Text(note))  # Text: '[us]' is not markup
    return view


class _progress:  # noqa: N801 - used as a context manager like rich's own
    def __init__(self, console: Console, plan: LoadPlan) -> None:
        by_bytes = plan.source.kind == "csv"
        columns = [TextColumn(f"loading {plan.source.path.name}"), BarColumn(), TaskProgressColumn()]
        columns += [DownloadColumn()] if by_bytes else [TextColumn("{task.completed:,} rows")]
        self._bar = Progress(*columns, TimeRemainingColumn(), console=console, transient=True)
        size = plan.source.path.stat().st_size if by_bytes else None
        self._task = self._bar.add_task("load", total=size)

    def __enter__(self) -> tuple[Progress, TaskID]:
        self._bar.start()
        return self._bar, self._task

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()
