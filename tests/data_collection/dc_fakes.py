"""Fakes of data_collection's ports, shared by its tests (imported as a top-level module: pytest puts this
directory on sys.path for conftest.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from data_collection.domain.events import TableSchema
from data_collection.errors import LakeWriteFailed
from data_collection.ports import Quarantine, QuarantinedEvent, RawLake, WriteMode


class FakeRawLake(RawLake):
    """Keeps appended rows in memory; ``failing = True`` makes every append fail like a catalog outage."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.commits: list[dict[str, Any]] = []
        self.failing = False

    def append(
        self,
        schema: TableSchema,
        rows: Sequence[dict[str, Any]],
        *,
        job: str,
        inputs: Sequence[str],
        mode: WriteMode = "append",
    ) -> int:
        if self.failing:
            raise LakeWriteFailed(f"writing {schema.table} failed: data_lake unavailable")
        if mode == "overwrite":
            self.rows[schema.table] = []
        self.rows.setdefault(schema.table, []).extend(rows)
        self.commits.append(
            {"table": schema.table, "rows": len(rows), "job": job, "inputs": list(inputs), "mode": mode}
        )
        return len(self.commits)


class FakeQuarantine(Quarantine):
    def __init__(self) -> None:
        self.events: list[QuarantinedEvent] = []

    def put(self, events: Sequence[QuarantinedEvent]) -> None:
        self.events.extend(events)
