"""SQLite online store: embedded, WAL mode, one versioned table per bulk load and a pointer flipped atomically.

Layout: ``fg_<group>__v<N>`` holds one row per entity (``WITHOUT ROWID``: a point lookup is one B-tree
descent). ``online_versions`` has one pointer row per group, and the view ``fg_<group>__current``
selects from the version it points to. A load creates the new table, fills it, moves the pointer
and re-creates the view in ONE transaction, so a reader (a single statement on the view, hence one
snapshot) sees the old version or the new one, never a mix; a failed load rolls back entirely.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from data_processing.domain.online import OnlineRow, OnlineVersion
from data_processing.errors import OnlineStoreLoadFailed
from data_processing.ports import OnlineStore

_BATCH = 5_000
_KEEP_PREVIOUS = 1  # versions kept besides the current one (a reader's statement may still use it)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_versions (
    group_name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    loaded_at TEXT NOT NULL,
    newest_feature_time TEXT
)
"""


class SqliteOnlineStore(OnlineStore):
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)

    # -- reads (hot path) -------------------------------------------------------------------------
    def get(self, group: str, entity_id: str) -> dict[str, Any] | None:
        try:
            found = self._connection().execute(_lookup_sql(group), (entity_id,)).fetchone()
        except sqlite3.OperationalError:  # no version loaded yet: the view does not exist
            return None
        if found is None:
            return None
        record: dict[str, Any] = json.loads(found[1])
        record["feature_time"] = datetime.fromisoformat(found[0])
        return record

    def get_many(self, groups: Sequence[str], entity_id: str) -> dict[str, dict[str, Any] | None]:
        """One statement over every group's view: one snapshot, so no flip can fall between two groups."""
        return self.get_many_entities(groups, [entity_id])[entity_id]

    def get_many_entities(
        self, groups: Sequence[str], entity_ids: Sequence[str]
    ) -> dict[str, dict[str, dict[str, Any] | None]]:
        found: dict[str, dict[str, dict[str, Any] | None]] = {e: dict.fromkeys(groups) for e in entity_ids}
        if not groups or not entity_ids:
            return found
        ids = entity_ids[0] if len(entity_ids) == 1 else json.dumps(list(entity_ids))
        try:
            rows = self._connection().execute(_multi_lookup_sql(tuple(groups), len(entity_ids) > 1), (ids,))
            matches = rows.fetchall()
        except sqlite3.OperationalError:  # some group has no version yet: look the others up one by one
            return {e: {group: self.get(group, e) for group in groups} for e in entity_ids}
        for index, entity_id, feature_time, payload in matches:
            record: dict[str, Any] = json.loads(payload)
            record["feature_time"] = datetime.fromisoformat(feature_time)
            found[entity_id][groups[index]] = record
        return found

    def current_version(self, group: str) -> OnlineVersion | None:
        found = (
            self._connection()
            .execute(
                "SELECT version, rows, loaded_at, newest_feature_time FROM online_versions WHERE group_name = ?",
                (group,),
            )
            .fetchone()
        )
        if found is None:
            return None
        newest = datetime.fromisoformat(found[3]) if found[3] else None
        return OnlineVersion(group, found[0], found[1], datetime.fromisoformat(found[2]), newest)

    # -- bulk load --------------------------------------------------------------------------------
    def load_version(self, group: str, rows: Iterable[OnlineRow]) -> int:
        _check_group_name(group)
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")  # one writer at a time; readers go on (WAL)
        try:
            version = self._next_version(group)
            table = _table(group, version)
            connection.execute(
                f'CREATE TABLE "{table}" (entity_id TEXT PRIMARY KEY, feature_time TEXT NOT NULL, '
                "payload TEXT NOT NULL) WITHOUT ROWID"
            )
            count, newest = self._insert_rows(connection, table, rows)
            self._flip(connection, group, version, count, newest)
            connection.execute("COMMIT")
        except Exception as exc:
            connection.execute("ROLLBACK")
            raise OnlineStoreLoadFailed(f"online load of {group} failed, previous version kept: {exc}") from exc
        self._collect_garbage(group, version)
        return version

    def put_rows(self, group: str, rows: Iterable[OnlineRow]) -> None:
        """Streaming groups: upsert into the current version (created on first use) in one transaction."""
        _check_group_name(group)
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            found = connection.execute("SELECT version FROM online_versions WHERE group_name = ?", (group,)).fetchone()
            version = found[0] if found else 1
            table = _table(group, version)
            connection.execute(
                f'CREATE TABLE IF NOT EXISTS "{table}" (entity_id TEXT PRIMARY KEY, feature_time TEXT NOT NULL, '
                "payload TEXT NOT NULL) WITHOUT ROWID"
            )
            _, newest = self._insert_rows(connection, table, rows)
            count = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            previous = self.current_version(group) if found else None
            if previous is not None and previous.newest_feature_time is not None:
                newest = max(newest, previous.newest_feature_time) if newest else previous.newest_feature_time
            connection.execute(
                "INSERT INTO online_versions VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_name) DO UPDATE SET "
                "rows = excluded.rows, loaded_at = excluded.loaded_at, "
                "newest_feature_time = excluded.newest_feature_time",
                (group, version, count, datetime.now().isoformat(), newest.isoformat() if newest else None),
            )
            # not _flip: re-creating the view per batch would make every reader re-prepare its statements
            connection.execute(f'CREATE VIEW IF NOT EXISTS "{_view(group)}" AS SELECT * FROM "{table}"')
            connection.execute("COMMIT")
        except Exception as exc:
            connection.execute("ROLLBACK")
            raise OnlineStoreLoadFailed(f"online upsert into {group} failed, nothing written: {exc}") from exc

    def _next_version(self, group: str) -> int:
        found = (
            self._connection().execute("SELECT version FROM online_versions WHERE group_name = ?", (group,)).fetchone()
        )
        return (found[0] if found else 0) + 1

    @staticmethod
    def _insert_rows(
        connection: sqlite3.Connection, table: str, rows: Iterable[OnlineRow]
    ) -> tuple[int, datetime | None]:
        count, newest, batch = 0, None, []
        sql = f'INSERT OR REPLACE INTO "{table}" VALUES (?, ?, ?)'
        for row in rows:
            batch.append((row.entity_id, row.feature_time.isoformat(), json.dumps(row.values)))
            newest = row.feature_time if newest is None or row.feature_time > newest else newest
            count += 1
            if len(batch) >= _BATCH:
                connection.executemany(sql, batch)
                batch.clear()
        connection.executemany(sql, batch)
        return count, newest

    @staticmethod
    def _flip(connection: sqlite3.Connection, group: str, version: int, count: int, newest: datetime | None) -> None:
        connection.execute(
            "INSERT INTO online_versions VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_name) DO UPDATE SET "
            "version = excluded.version, rows = excluded.rows, loaded_at = excluded.loaded_at, "
            "newest_feature_time = excluded.newest_feature_time",
            (group, version, count, datetime.now().isoformat(), newest.isoformat() if newest else None),
        )
        connection.execute(f'DROP VIEW IF EXISTS "{_view(group)}"')
        connection.execute(f'CREATE VIEW "{_view(group)}" AS SELECT * FROM "{_table(group, version)}"')

    def _collect_garbage(self, group: str, current: int) -> None:
        connection = self._connection()
        prefix = f"fg_{group}__v"
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?", (len(prefix), prefix)
        ).fetchall()
        for (name,) in names:
            suffix = name[len(prefix) :]
            if suffix.isdigit() and int(suffix) < current - _KEEP_PREVIOUS:
                connection.execute(f'DROP TABLE IF EXISTS "{name}"')

    # -- connections ------------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        """One connection per thread (sqlite3 connections are not shareable); statements stay prepared."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, cached_statements=256)
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA synchronous = NORMAL")
            self._local.connection = connection
        return connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


_LOOKUP_SQL: dict[str, str] = {}


def _lookup_sql(group: str) -> str:
    sql = _LOOKUP_SQL.get(group)
    if sql is None:
        _check_group_name(group)
        sql = _LOOKUP_SQL[group] = f'SELECT feature_time, payload FROM "{_view(group)}" WHERE entity_id = ?'
    return sql


_MULTI_LOOKUP_SQL: dict[tuple[tuple[str, ...], bool], str] = {}


def _multi_lookup_sql(groups: tuple[str, ...], batch: bool) -> str:
    """``UNION ALL`` of one primary-key lookup per group; a batch passes its ids as one JSON array."""
    sql = _MULTI_LOOKUP_SQL.get((groups, batch))
    if sql is None:
        for group in groups:
            _check_group_name(group)
        match = "IN (SELECT value FROM json_each(?1))" if batch else "= ?1"
        sql = _MULTI_LOOKUP_SQL[(groups, batch)] = " UNION ALL ".join(
            f'SELECT {i}, entity_id, feature_time, payload FROM "{_view(group)}" WHERE entity_id {match}'
            for i, group in enumerate(groups)
        )
    return sql


def _check_group_name(group: str) -> None:
    if not group or not group.replace("_", "a").isalnum() or "__" in group:
        raise ValueError(f"feature group name {group!r} must be letters, digits and single underscores")


def _table(group: str, version: int) -> str:
    return f"fg_{group}__v{version}"


def _view(group: str) -> str:
    return f"fg_{group}__current"
