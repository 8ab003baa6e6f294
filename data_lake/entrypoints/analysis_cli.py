"""``profile``, ``diff`` and ``sql``: the lake as an analysis environment, in a terminal (rich)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from data_lake.entrypoints.views import diff_view, profile_view
from data_lake.settings import Settings
from strata_kernel.cli import one_line_errors
from strata_kernel.settings import load_settings

if TYPE_CHECKING:  # imported when a command runs: `serve`'s master never needs the composition root
    from data_lake.bootstrap import Lake


class _Console:
    """Created at print time, so the terminal's width (or ``COLUMNS``) is the one in force then."""

    def print(self, *objects: Any, **options: Any) -> None:
        Console().print(*objects, **options)


console = _Console()
_BARS = "▁▂▃▄▅▆▇█"


def _lake() -> tuple[Lake, Settings]:
    from data_lake.bootstrap import bootstrap

    settings = load_settings(Settings, profile_on_commit="off")
    return bootstrap(settings), settings


def sparkline(values: list[int] | list[float]) -> str:
    """Unicode bars, one per value, scaled to the largest: a histogram or a timeline at a glance."""
    top = max(values, default=0)
    if top <= 0:
        return "".join(_BARS[0] for _ in values)
    return "".join(_BARS[min(int(value / top * (len(_BARS) - 1) + 0.5), len(_BARS) - 1)] for value in values)


def register(app: typer.Typer) -> None:
    app.command()(profile)
    app.command()(diff)
    app.command()(sql)


def profile(
    table: Annotated[str, typer.Argument(help="'<zone>.<name>', e.g. processed.orders")],
    version: Annotated[int | None, typer.Option(help="A version of the table (default: the latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Profile of a table version: per-column statistics, histograms, partitions (computed if missing)."""
    with one_line_errors():
        lake, _ = _lake()
        view = profile_view(lake.profiles, lake.profiles.profile(table, version))
    if as_json:
        typer.echo(json.dumps(view))
        return
    _print_profile(view)


def _print_profile(view: dict[str, Any]) -> None:
    profile = view["profile"]
    meta = profile.get("meta", {})
    console.print(
        f"[bold]{view['name']}[/bold] v{view['version']} (latest v{view['latest_version']})  {view['rows']:,} rows  "
        f"committed {view['committed_at'][:19]}  profiled by {meta.get('engine', '?')}"
        f" ({meta.get('files_read', '?')} of {meta.get('files', '?')} files read)",
        highlight=False,
    )
    fresh = view.get("freshness")
    if fresh:
        age = _age(fresh["age_seconds"]) if fresh.get("age_seconds") is not None else ""
        console.print(f"newest {fresh['column']}: {fresh['newest']} {age}", highlight=False, markup=False)
    columns = Table("column", "type", "missing", "distinct", "min", "median", "max", "mean", "distribution")
    for column in profile["columns"]:
        columns.add_row(*[Text(cell) for cell in _column_cells(column)])
    console.print(columns)
    partitions = profile.get("partitions", [])
    if partitions:
        counts = [p["rows"] for p in partitions]
        console.print(
            f"{len(partitions)} partitions by {view['partition_column']}: {partitions[0]['value']} .. "
            f"{partitions[-1]['value']}  rows {min(counts):,}..{max(counts):,}  {sparkline(counts)}",
            highlight=False,
            markup=False,
        )


def _age(seconds: float) -> str:
    """Minutes, hours or days: the unit a person reads at that age."""
    if abs(seconds) < 7200:
        return f"{seconds / 60:.0f} min ago"
    if abs(seconds) < 172_800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86_400:.1f} d ago"


def _column_cells(column: dict[str, Any]) -> list[str]:
    summary = column.get("summary", {})
    distinct = summary.get("distinct") or {}
    estimate = distinct.get("estimate")
    distinct_text = "" if estimate is None else f"{'' if distinct.get('exact') else '≈'}{estimate:,}"
    quantiles = summary.get("quantiles") or {}
    shape = ""
    if summary.get("histogram"):
        shape = sparkline(summary["histogram"]["counts"])
    elif summary.get("top"):
        shape = ", ".join(f"{item['value']} {item['count']:,}" for item in summary["top"][:3])
    mean = summary.get("mean")
    return [
        column["name"],
        column["type"],
        f"{summary.get('missing_rate', 0):.1%}",
        distinct_text,
        _short(summary.get("min")),
        _short(quantiles.get("p50")),
        _short(summary.get("max")),
        "" if mean is None else f"{mean:.4g}",
        shape,
    ]


def _short(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:19]


def diff(
    table: Annotated[str, typer.Argument(help="'<zone>.<name>'")],
    first: Annotated[int, typer.Argument(help="The version to compare from.")],
    second: Annotated[int, typer.Argument(help="The version to compare to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """What changed between two versions: schema, row count, distribution of every column."""
    with one_line_errors():
        lake, _ = _lake()
        view = diff_view(*lake.profiles.diff(table, first, second))
    if as_json:
        typer.echo(json.dumps(view))
        return
    _print_diff(view)


def _print_diff(view: dict[str, Any]) -> None:
    rows = view["rows"]
    ratio = f" ({rows['ratio'] - 1:+.1%})" if rows["ratio"] is not None else ""
    console.print(
        f"[bold]{view['name']}[/bold] v{view['from']['version']} -> v{view['to']['version']}: "
        f"rows {rows['from']:,} -> {rows['to']:,}{ratio}",
        highlight=False,
    )
    schema = view["schema"]
    for rename in schema["renamed"]:
        line = f"  renamed  {rename['from']} -> {rename['to']} (same distribution: drift {rename['drift']:.3f})"
        console.print(line, markup=False, highlight=False)
    renamed = {r["from"] for r in schema["renamed"]} | {r["to"] for r in schema["renamed"]}
    for kind, sign in (("added", "+"), ("removed", "-")):
        for column in schema[kind]:
            if column["name"] not in renamed:
                console.print(f"  {sign} {kind:8} {column['name']} {column['type']}", markup=False, highlight=False)
    for column in schema["retyped"]:
        line = f"  ~ retyped  {column['name']} {column['from']} -> {column['to']}"
        console.print(line, markup=False, highlight=False)
    table = Table("column", "missing", "distinct", "mean", "drift", "")
    for column in view["columns"]:
        before, after = column["missing_rate"]
        d_before, d_after = column["distinct"]
        m_before, m_after = column["mean"]
        drift = column["drift"]
        table.add_row(
            Text(column["name"]),
            f"{before:.1%} -> {after:.1%}",
            f"{d_before:,} -> {d_after:,}" if d_before is not None and d_after is not None else "",
            f"{m_before:.4g} -> {m_after:.4g}" if m_before is not None and m_after is not None else "",
            "" if drift is None else f"{drift:.3f}",
            Text("DRIFT", style="bold red") if column["drifted"] else Text(""),
        )
    console.print(table)


def sql(
    query: Annotated[str, typer.Argument(help="One SELECT; tables as the catalog names them, e.g. processed.orders")],
    as_json: Annotated[bool, typer.Option("--json", help="Print {columns, rows, truncated} as JSON.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Rows at most (default: setting sql_row_limit).")] = None,
) -> None:
    """Read-only SQL (DuckDB) over the current version of every table. Anything but one SELECT is refused."""
    with one_line_errors():
        lake, settings = _lake()
        names, rows, truncated = lake.profiles.query(
            query, limit=limit or settings.sql_row_limit, timeout_seconds=settings.sql_timeout_seconds
        )
    if as_json:
        typer.echo(json.dumps({"columns": names, "rows": [list(row) for row in rows], "truncated": truncated},
                              default=str))  # fmt: skip
        return
    view = Table(*names)
    for row in rows:
        view.add_row(*[Text("NULL" if value is None else str(value)) for value in row])
    console.print(view)
    more = " (more rows were cut: use --limit)" if truncated else ""
    console.print(f"{len(rows)} row(s){more}", highlight=False)
