"""How deployments look in the terminal: the records, the traffic split, live metrics and the verdict.

Pure rendering of comparative_eval's JSON (docs/contracts.md, "Comparative evaluation") into rich
tables and text; every string from the service is escaped, so a reason cannot inject console markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

VERDICT_STYLE = {"promote": "green", "hold": "yellow", "rollback": "red"}
#: metrics shown first in the per-route table when the analysis reports them (the rest follow by name)
LEADING_METRICS = (
    "samples",
    "requests",
    "errors",
    "error_rate",
    "joined_outcomes",
    "outcomes",
    "mae",
    "rmse",
    "feedback",
    "helpful_rate",
    "p50_ms",
    "p99_ms",
    "latency_p99_ms",
)
TEST_STYLE = {"pass": "green", "fail": "red", "insufficient": "yellow"}


def split_text(record: dict[str, Any]) -> str:
    """How traffic is split, in words: ``canary 5%``, ``shadow``, ``full``."""
    mode = str(record.get("mode") or "?")
    if mode == "canary" and record.get("candidate_version") is not None:
        return f"canary {record.get('weight', 0)}%"
    return mode


def version_text(value: object) -> str:
    return f"v{value}" if value is not None else "-"


def _when(value: object) -> str:
    if not isinstance(value, str):
        return "-"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    # records are stamped in UTC; an aware time in another zone is shown in UTC too (the history's column)
    return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).strftime("%Y-%m-%d %H:%M:%S")


def _pins(record: dict[str, Any]) -> str:
    pins = record.get("node_pins") or {}
    return ", ".join(f"{node}={version_text(v)}" for node, v in sorted(pins.items())) if isinstance(pins, dict) else "-"


def deployments_table(records: list[dict[str, Any]], title: str = "Deployments") -> Table:
    table = Table(title=title)
    for column in ("model", "stable", "candidate", "mode", "weight", "revision", "step", "node pins", "updated"):
        table.add_column(column, justify="right" if column in {"weight", "revision", "step"} else "left")
    for r in records:
        weight = f"{r.get('weight', 0)}%" if r.get("mode") == "canary" else "-"
        table.add_row(
            escape(str(r.get("model", "?"))), version_text(r.get("stable_version")),
            version_text(r.get("candidate_version")), _mode_markup(r), weight, str(r.get("revision", "-")),
            str(r.get("step", "-")), escape(_pins(r)) or "-", _when(r.get("created_at")),
        )  # fmt: skip
    return table


def _mode_markup(record: dict[str, Any]) -> str:
    style = {"canary": "yellow", "shadow": "cyan", "full": "green"}.get(str(record.get("mode")), "white")
    return f"[{style}]{escape(str(record.get('mode', '?')))}[/]"


def history_table(model: str, records: list[dict[str, Any]], at: str | None) -> Table:
    title = f"{model}: record in force at {at}" if at else f"{model}: deployment history (newest first)"
    table = Table(title=escape(title))
    for column in ("revision", "at (UTC)", "action", "stable", "candidate", "split", "step", "node pins", "actor",
                   "reason"):  # fmt: skip
        table.add_column(column, justify="right" if column in {"revision", "step"} else "left")
    for r in records:
        table.add_row(
            str(r.get("revision", "-")), _when(r.get("created_at")), escape(str(r.get("action") or "-")),
            version_text(r.get("stable_version")),
            version_text(r.get("candidate_version")), split_text(r), str(r.get("step", "-")), escape(_pins(r)) or "-",
            escape(str(r.get("actor") or "-")), escape(str(r.get("reason") or "-")),
        )  # fmt: skip
    return table


def metrics_table(analysis: dict[str, Any]) -> Table:
    """One row per route (stable, candidate, then any other) and one column per metric the analysis reports."""
    metrics = analysis.get("metrics") or {}
    routes = [r for r in ("stable", "candidate") if r in metrics] + sorted(set(metrics) - {"stable", "candidate"})
    names: set[str] = set()
    for route in routes:
        if isinstance(metrics[route], dict):
            # a metric no route has a value for (the chatbot's helpful_rate of an ETD model) is left out
            names.update(name for name, value in metrics[route].items() if value is not None)
    ordered = [m for m in LEADING_METRICS if m in names] + sorted(names - set(LEADING_METRICS))
    table = Table(title="Live metrics per route")
    table.add_column("route")
    for name in ordered:
        table.add_column(escape(name), justify="right")
    for route in routes:
        values = metrics[route] if isinstance(metrics[route], dict) else {}
        table.add_row(escape(route), *(_metric(values.get(name)) for name in ordered))
    return table


def _metric(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"
    return escape(str(value))


def verdict_lines(analysis: dict[str, Any] | None) -> list[RenderableType]:
    if not analysis:
        return [Text("analysis: no verdict yet", style="dim")]
    verdict = str(analysis.get("verdict", "?"))
    style = VERDICT_STYLE.get(verdict, "white")
    lines: list[RenderableType] = [
        Text.from_markup(f"verdict: [bold {style}]{escape(verdict)}[/] (at {escape(_when(analysis.get('at')))})")
    ]
    lines += [Text(f"  - {reason}") for reason in analysis.get("reasons") or []]
    for name, result in sorted((analysis.get("tests") or {}).items()):
        lines.append(_test_line(str(name), result))
    return lines


def _test_line(name: str, result: object) -> Text:
    """``  test mae: fail  mae: candidate 9.8 vs stable 6.6 min (...)``; the service's own words when it has them."""
    if not isinstance(result, dict):
        return Text(f"  test {name}: {result}", style="dim")
    outcome = str(result.get("outcome", ""))
    if result.get("detail"):
        detail = str(result["detail"])
    else:
        detail = ", ".join(f"{k}={_metric(v)}" for k, v in result.items() if k != "outcome")
    line = Text(f"  test {name}: ")
    line.append(outcome or "-", style=TEST_STYLE.get(outcome, "white"))
    line.append(f"  {detail}", style="dim")
    return line


def deployment_view(model: str, payload: dict[str, Any]) -> RenderableType:
    record = payload.get("record") or {}
    analysis = payload.get("analysis")
    parts: list[RenderableType] = [deployments_table([record], title=escape(f"Deployment of {model}"))]
    if record.get("reason") or record.get("actor"):
        by = f" by {record['actor']}" if record.get("actor") else ""
        parts.append(Text(f"last change{by}: {record.get('reason') or '-'}", style="dim"))
    if isinstance(analysis, dict) and analysis.get("metrics"):
        parts.append(metrics_table(analysis))
    parts += verdict_lines(analysis if isinstance(analysis, dict) else None)
    return Group(*parts)
