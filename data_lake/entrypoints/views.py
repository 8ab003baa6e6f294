"""JSON shapes of the catalog's answers, shared by the HTTP API and the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from data_lake.domain.commits import PlannedCommit, TableSummary
from data_lake.services import TableDetails


def commit_view(planned: PlannedCommit) -> dict[str, Any]:
    return {
        "name": planned.table.qualified,
        "version": planned.version,
        "rows": planned.rows,
        "table_rows": planned.table_rows,
    }


def summary_view(summary: TableSummary) -> dict[str, Any]:
    return {
        "name": summary.table.qualified,
        "zone": summary.table.zone,
        "version": summary.version,
        "rows": summary.rows,
        "partitions": summary.partitions,
        "updated_at": summary.updated_at.isoformat(),
    }


def table_view(details: TableDetails) -> dict[str, Any]:
    """The JSON shape of one table; the CLI prints the same."""
    snapshot = details.snapshot
    return {
        "name": snapshot.table.qualified,
        "zone": snapshot.table.zone,
        "location": snapshot.table.location,
        "partition_column": snapshot.partition_column,
        "schema": [{"name": column.name, "type": column.type} for column in snapshot.schema],
        "version": snapshot.version,
        "rows": snapshot.rows,
        "updated_at": snapshot.updated_at.isoformat(),
        "partitions": [{"value": p.value, "rows": p.rows, "files": p.files} for p in details.partitions],
        "commits": [
            {
                "version": c.version,
                "job": c.job,
                "inputs": list(c.inputs),
                "mode": c.mode.value,
                "rows": c.rows,
                "at": c.at.isoformat(),
            }
            for c in details.commits
        ],
    }
