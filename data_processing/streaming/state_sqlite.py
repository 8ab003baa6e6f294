"""Durable state of a streaming worker: each entity's window snapshot and an outbox of feature rows, in SQLite.

One transaction per batch saves the changed snapshots AND the rows they produced (the outbox), before any
store is written and before event-log offsets are committed. After a crash the worker re-publishes what the
outbox still holds; redelivered events find their ids already in the snapshots and change nothing. So nothing
is lost (offsets move only after the stores) and nothing is counted twice (state and rows commit together).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entity_state (entity_id TEXT PRIMARY KEY, snapshot TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, entity_id TEXT NOT NULL, "
    "event_time TEXT NOT NULL, event_id TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT)",
)


@dataclass(frozen=True)
class FeatureRow:
    """One entity's values after a batch; ``created_at`` is set once they are readable online."""

    entity_id: str
    event_time: datetime
    event_id: str  # the newest event applied to the entity in that batch
    values: dict[str, Any]
    seq: int = 0
    created_at: datetime | None = None


class WindowStateStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # built by the caller's thread, then used by the worker's one loop (never concurrently)
        # another worker of the group may hold the write lock for one batch: wait for it
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed batch survives a power cut, not just a crash
        for statement in _SCHEMA:
            self._db.execute(statement)

    def exclusive(self) -> _Transaction:
        """One write transaction around several steps: the workers of one group that share this file (several
        consumers in one Kafka group) take turns, so each batch starts from the state the other saved."""
        return self._transaction()

    def snapshots_of(self, entities: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The saved snapshots of these entities (read afresh: another worker of the group may have moved them)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(entities), 500):
            chunk = list(entities[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT * FROM entity_state WHERE entity_id IN ({marks})", chunk)
            found.update({entity: json.loads(text) for entity, text in rows})
        return found

    def snapshots(self) -> dict[str, dict[str, Any]]:
        """Every entity's saved snapshot (loaded once at start: entities number thousands, not millions)."""
        return {entity: json.loads(text) for entity, text in self._db.execute("SELECT * FROM entity_state")}

    def save_batch(self, snapshots: Mapping[str, Mapping[str, Any]], rows: Sequence[FeatureRow]) -> None:
        """Snapshots and outbox rows in one transaction: both or neither."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO entity_state VALUES (?, ?)",
                [(entity, json.dumps(snapshot)) for entity, snapshot in snapshots.items()],
            )
            self._db.executemany(
                "INSERT INTO outbox (entity_id, event_time, event_id, payload) VALUES (?, ?, ?, ?)",
                [(r.entity_id, r.event_time.isoformat(), r.event_id, json.dumps(r.values)) for r in rows],
            )

    def unpublished(self) -> list[FeatureRow]:
        """Outbox rows not yet written online, oldest first."""
        return self._rows("WHERE created_at IS NULL ORDER BY seq")

    def mark_published(self, through_seq: int, created_at: datetime) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE outbox SET created_at = ? WHERE seq <= ? AND created_at IS NULL",
                (created_at.isoformat(), through_seq),
            )

    def published(self, limit: int) -> list[FeatureRow]:
        """Rows readable online but not yet in the lake, oldest first."""
        return self._rows(f"WHERE created_at IS NOT NULL ORDER BY seq LIMIT {int(limit)}")

    def published_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox WHERE created_at IS NOT NULL").fetchone()[0])

    def forget_through(self, through_seq: int) -> None:
        """Drop outbox rows up to ``through_seq`` once the lake holds them."""
        with self._transaction():
            self._db.execute("DELETE FROM outbox WHERE seq <= ? AND created_at IS NOT NULL", (through_seq,))

    def close(self) -> None:
        self._db.close()

    def _rows(self, where: str) -> list[FeatureRow]:
        columns = "seq, entity_id, event_time, event_id, payload, created_at"
        cursor = self._db.execute(f"SELECT {columns} FROM outbox {where}")
        return [
            FeatureRow(
                entity_id=entity,
                event_time=datetime.fromisoformat(event_time),
                event_id=event_id,
                values=json.loads(payload),
                seq=seq,
                created_at=datetime.fromisoformat(created_at) if created_at else None,
            )
            for seq, entity, event_time, event_id, payload, created_at in cursor
        ]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE (the file's write lock, waited for up to the connection's timeout) ... COMMIT; inside an
    open transaction it joins that one."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._outermost = False

    def __enter__(self) -> None:
        self._outermost = not self._db.in_transaction
        if self._outermost:
            self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self._outermost:
            self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
