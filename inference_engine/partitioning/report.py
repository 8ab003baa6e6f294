"""The training report of a partitioned model: every node, its status and why, rows, metric vs parent,
and who serves it. Stored as JSON in the registered version; rendered as a table by the CLI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from inference_engine.partitioning.spec import PartitionSpec
from inference_engine.partitioning.tree import NodeOutcome, served_by

COLUMNS = ("node", "status", "rows", "metric", "parent", "served by", "why")


def build_report(spec: PartitionSpec, outcomes: Sequence[NodeOutcome], extra: dict[str, Any]) -> dict[str, Any]:
    serving = served_by(outcomes)
    ordered = sorted(outcomes, key=lambda o: (len(o.key), o.key))
    nodes: list[dict[str, Any]] = [
        {
            "node": o.node,
            "level": len(o.key),
            "key": list(o.key),
            "status": o.status,
            "reason": o.reason,
            "rows": o.rows,
            "rows_valid": o.rows_valid,
            "metric": _finite(o.metric),
            "parent_metric": _finite(o.parent_metric),
            "improvement": _finite(o.improvement),
            "compared_with": o.compared_with,
            "served_by": serving[o.node],
            "metrics": {k: _finite(v) for k, v in (o.metrics or {}).items()},
            "fitted_params": dict(o.fitted_params or {}),
            "attempt": o.attempt,
            "seconds": o.seconds,
        }
        for o in ordered
    ]
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    return {"model": spec.name, "partition_by": list(spec.partition_by), "metric": spec.metric,
            "algorithm": spec.algorithm, "min_rows": spec.min_rows,
            "min_improvement": spec.min_improvement, "min_validation_rows": spec.min_validation_rows,
            "hyperparameters": spec.hyperparameters,
            "counts": counts, **extra, "nodes": nodes}  # fmt: skip


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: an undefined metric (e.g. AUC of one class) is null."""
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def table_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for node in report["nodes"]:
        indent = "  " * node["level"]
        label = indent + (node["key"][-1] if node["key"] else "global")
        rows.append((label, node["status"], str(node["rows"]), _fmt(node["metric"]), _fmt(node["parent_metric"]),
                     node["served_by"] or "-", node["reason"]))  # fmt: skip
    return rows


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_table(report: dict[str, Any], *, stderr: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    title = (f"{report['model']} v{report.get('version', '?')}: partitioned by {' -> '.join(report['partition_by'])}"
             f", metric {report['metric']}, min_improvement {report.get('min_improvement', 0):g}"
             f"  {report['counts']}")  # fmt: skip
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in {"rows", "metric", "parent"} else "left")
    for row in table_rows(report):
        table.add_row(*row)
    Console(stderr=stderr, width=160).print(table)
