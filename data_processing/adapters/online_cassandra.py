"""Cassandra online store: one CQL table per (group, bulk load), partition key = entity id, a pointer table.

Layout in the keyspace (the keyspace itself — replication — belongs to operations, not to this adapter):

- ``online_versions`` — one row per group: ``version``, ``data_table`` serving now, ``previous_table``,
  ``row_count``, ``loaded_at``, ``newest_feature_time``. Flipped by a lightweight transaction (``IF version = ?``).
- ``fg_<group>__v<N>_<token>`` — one table per bulk load: ``entity_id text PRIMARY KEY, feature_time text,
  payload text`` (JSON of the feature values, so int/float/str/bool/None come back as they went in;
  ``feature_time`` as ISO text keeps microseconds, which a CQL ``timestamp`` would cut to milliseconds).

Why a table per load rather than one table per group with a ``version`` clustering column: garbage-
collecting a version is one ``DROP TABLE`` (its SSTables are deleted) instead of a delete per entity, which
would leave millions of tombstones that every later read of the partition has to skip until compaction.
A load writes into a table nobody reads, so a failed load is invisible and simply dropped. The price is
two schema changes (CREATE + DROP) per load, which the driver waits to be agreed cluster-wide: seconds,
fine for batch loads every few hours, not for per-minute loads. The ``_<token>`` suffix keeps two
concurrent loaders of a group in distinct tables; the compare-and-set flip lets exactly one of them win.

Reads: each process caches the groups' pointers for at most ``pointer_ttl_seconds`` (1 s). A multi-group
lookup sends one single-partition query per group *concurrently* (``execute_async``) — Cassandra has no
multi-table read, so this is the "one round trip" it allows. A cached pointer may lag a flip by up to
1 s; it then names the previous table, which is complete and kept until the next load — old or new,
never a mix. If that table was dropped meanwhile (two loads within a second), the read refreshes the
pointers and retries once.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from data_processing.domain.online import OnlineRow, OnlineVersion
from data_processing.errors import OnlineStoreLoadFailed
from data_processing.ports import OnlineStore
from strata_kernel.errors import Unavailable

POINTER_TABLE = "online_versions"
MAX_TABLE_NAME = 48  # Cassandra's limit on table names
_WRITE_CONCURRENCY = 64
_CHUNK = 5_000
_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


# -- CQL (pure text: the unit tests check it without a server) ----------------------------------------
def pointer_table_cql(keyspace: str) -> str:
    return (
        f'CREATE TABLE IF NOT EXISTS "{keyspace}".{POINTER_TABLE} (group_name text PRIMARY KEY, version int, '
        "data_table text, previous_table text, row_count bigint, loaded_at text, newest_feature_time text)"
    )


def version_table_cql(keyspace: str, table: str) -> str:
    # Leveled compaction: a point read touches ~one SSTable (read-heavy, written once then immutable).
    return (
        f'CREATE TABLE "{keyspace}"."{table}" (entity_id text PRIMARY KEY, feature_time text, payload text) '
        "WITH compaction = {'class': 'LeveledCompactionStrategy'}"
    )


def insert_row_cql(keyspace: str, table: str) -> str:
    return f'INSERT INTO "{keyspace}"."{table}" (entity_id, feature_time, payload) VALUES (?, ?, ?)'


def select_row_cql(keyspace: str, table: str) -> str:
    return f'SELECT entity_id, feature_time, payload FROM "{keyspace}"."{table}" WHERE entity_id = ?'


_POINTER_COLUMNS = "version, data_table, previous_table, row_count, loaded_at, newest_feature_time"


def select_pointer_cql(keyspace: str) -> str:
    return f'SELECT group_name, {_POINTER_COLUMNS} FROM "{keyspace}".{POINTER_TABLE} WHERE group_name IN ?'


def first_flip_cql(keyspace: str) -> str:
    return (
        f'INSERT INTO "{keyspace}".{POINTER_TABLE} (group_name, {_POINTER_COLUMNS}) '
        "VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
    )


def next_flip_cql(keyspace: str) -> str:
    return (
        f'UPDATE "{keyspace}".{POINTER_TABLE} SET version = ?, data_table = ?, previous_table = ?, row_count = ?, '
        "loaded_at = ?, newest_feature_time = ? WHERE group_name = ? IF version = ?"
    )


def touch_pointer_cql(keyspace: str) -> str:
    """Streaming upserts change the serving version's metadata only; ``IF version`` keeps a bulk flip intact."""
    return (
        f'UPDATE "{keyspace}".{POINTER_TABLE} SET row_count = ?, loaded_at = ?, newest_feature_time = ? '
        "WHERE group_name = ? IF version = ?"
    )


def list_tables_cql() -> str:
    return "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?"


def drop_table_cql(keyspace: str, table: str) -> str:
    return f'DROP TABLE IF EXISTS "{keyspace}"."{table}"'


def version_table_name(group: str, version: int, token: str) -> str:
    """``fg_<group>__v<N>_<token>``; a clear error when Cassandra's 48-character limit is exceeded."""
    check_name(group, "feature group name")
    name = f"fg_{group}__v{version}_{token}"
    if len(name) > MAX_TABLE_NAME:
        raise ValueError(f"feature group name {group!r} is too long for a Cassandra table name ({name!r})")
    return name


def check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"{what} {name!r} must be lowercase letters and digits joined by single underscores")


# -- the adapter --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pointer:
    version: int
    data_table: str
    previous_table: str | None
    rows: int
    loaded_at: str
    newest_feature_time: str | None


class CassandraOnlineStore(OnlineStore):
    def __init__(self, session: Any, keyspace: str, *, pointer_ttl_seconds: float = 1.0) -> None:
        check_name(keyspace, "keyspace")
        self._session = session
        self._keyspace = keyspace
        self._pointer_ttl = pointer_ttl_seconds
        self._prepared: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._pointers: dict[str, _Pointer | None] = {}
        self._pointers_read_at = 0.0
        self._call(session.execute, pointer_table_cql(keyspace))

    @classmethod
    def from_url(cls, url: str) -> CassandraOnlineStore:
        """``cassandra://host1,host2[:port]/keyspace``; connects now (call it from bootstrap, never at import)."""
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile

        parsed = urlparse(url)
        hosts = [h for h in parsed.netloc.split(",") if h]
        keyspace = parsed.path.strip("/")
        if not hosts or not keyspace:
            raise ValueError(f"online_store_url {url!r}: expected cassandra://host1,host2/keyspace")
        check_name(keyspace, "keyspace")
        port = int(hosts[-1].rsplit(":", 1)[1]) if ":" in hosts[-1] else 9042
        # QUORUM writes + QUORUM reads: a row written by the load is seen by every reader after the flip.
        profile = ExecutionProfile(consistency_level=ConsistencyLevel.LOCAL_QUORUM, request_timeout=5.0)
        contact_points = [h.split(":")[0] for h in hosts]
        cluster = cls._call(
            lambda: Cluster(contact_points, port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
        )
        return cls(cls._call(cluster.connect), keyspace)

    # -- reads (hot path) -------------------------------------------------------------------------
    def get(self, group: str, entity_id: str) -> dict[str, Any] | None:
        return self.get_many([group], entity_id)[group]

    def get_many(self, groups: Sequence[str], entity_id: str) -> dict[str, dict[str, Any] | None]:
        return self.get_many_entities(groups, [entity_id]).get(entity_id, dict.fromkeys(groups))

    def get_many_entities(
        self, groups: Sequence[str], entity_ids: Sequence[str]
    ) -> dict[str, dict[str, dict[str, Any] | None]]:
        from cassandra import InvalidRequest

        try:
            return self._read(groups, entity_ids, refresh=False)
        except InvalidRequest:  # a cached pointer named a table dropped since: re-read the pointers once
            return self._read(groups, entity_ids, refresh=True)

    def _read(
        self, groups: Sequence[str], entity_ids: Sequence[str], *, refresh: bool
    ) -> dict[str, dict[str, dict[str, Any] | None]]:
        pointers = self._serving_pointers(groups, refresh=refresh)
        found: dict[str, dict[str, dict[str, Any] | None]] = {e: dict.fromkeys(groups) for e in entity_ids}
        futures = []
        for group, pointer in pointers.items():
            if pointer is None:
                continue
            select = self._statement(select_row_cql(self._keyspace, pointer.data_table))
            for entity_id in entity_ids:
                futures.append((group, entity_id, self._call(self._session.execute_async, select, (entity_id,))))
        for group, entity_id, future in futures:  # all queries are in flight before the first wait
            row = self._call(future.result).one()
            if row is not None:
                record: dict[str, Any] = json.loads(row.payload)
                record["feature_time"] = datetime.fromisoformat(row.feature_time)
                found[entity_id][group] = record
        return found

    def current_version(self, group: str) -> OnlineVersion | None:
        pointer = self._read_pointers([group]).get(group)
        if pointer is None:
            return None
        newest = datetime.fromisoformat(pointer.newest_feature_time) if pointer.newest_feature_time else None
        return OnlineVersion(group, pointer.version, pointer.rows, datetime.fromisoformat(pointer.loaded_at), newest)

    def _serving_pointers(self, groups: Sequence[str], *, refresh: bool) -> dict[str, _Pointer | None]:
        with self._lock:
            stale = refresh or time.monotonic() - self._pointers_read_at > self._pointer_ttl
            if stale or any(group not in self._pointers for group in groups):
                wanted = sorted({*self._pointers, *groups})
                self._pointers = {group: None for group in wanted} | self._read_pointers(wanted)
                self._pointers_read_at = time.monotonic()
            return {group: self._pointers[group] for group in groups}

    def _read_pointers(self, groups: Sequence[str]) -> dict[str, _Pointer]:
        rows = self._call(self._session.execute, self._statement(select_pointer_cql(self._keyspace)), (list(groups),))
        return {
            row.group_name: _Pointer(
                row.version, row.data_table, row.previous_table, row.row_count, row.loaded_at, row.newest_feature_time
            )
            for row in rows
        }

    # -- bulk load --------------------------------------------------------------------------------
    def load_version(self, group: str, rows: Iterable[OnlineRow]) -> int:
        current = self._read_pointers([group]).get(group)
        version = current.version + 1 if current else 1
        table = version_table_name(group, version, secrets.token_hex(3))
        try:
            self._call(self._session.execute, version_table_cql(self._keyspace, table))
            count, newest = self._write_rows(table, rows)
            applied = self._flip(group, current, _Pointer(version, table, current.data_table if current else None,
                                                          count, datetime.now().isoformat(),
                                                          newest.isoformat() if newest else None))  # fmt: skip
        except Exception as exc:
            if self._serves(group, table):  # e.g. the flip's reply timed out although it was applied
                return version
            self._drop(table)
            raise OnlineStoreLoadFailed(f"online load of {group} failed, previous version kept: {exc}") from exc
        if not applied:
            self._drop(table)
            raise OnlineStoreLoadFailed(f"online load of {group} lost a race with another load; it serves instead")
        self._collect_garbage(group, keep={table, current.data_table if current else table})
        return version

    # -- streaming upserts ------------------------------------------------------------------------
    def put_rows(self, group: str, rows: Iterable[OnlineRow]) -> None:
        """Upsert into the serving version (version 1 on first use). Each row is one partition written whole, so a
        reader never sees half a row; a batch's rows become visible one by one (Cassandra has no multi-partition
        transaction), and re-applying rows is harmless (upserts)."""
        batch = list(rows)
        if not batch:
            return
        current = self._read_pointers([group]).get(group)
        if current is None:
            self.load_version(group, batch)
            return
        new_entities = self._count_absent(current.data_table, [row.entity_id for row in batch])
        _, newest = self._write_rows(current.data_table, batch)
        times = [t for t in (current.newest_feature_time, newest.isoformat() if newest else None) if t]
        touch = self._statement(touch_pointer_cql(self._keyspace))
        values = (current.rows + new_entities, datetime.now().isoformat(), max(times) if times else None)
        self._call(self._session.execute, touch, (*values, group, current.version))
        with self._lock:
            self._pointers_read_at = 0.0

    def _count_absent(self, table: str, entity_ids: list[str]) -> int:
        from cassandra.concurrent import execute_concurrent_with_args

        select = self._statement(select_row_cql(self._keyspace, table))
        results = execute_concurrent_with_args(
            self._session, select, [(entity,) for entity in set(entity_ids)], concurrency=_WRITE_CONCURRENCY
        )
        return sum(1 for success, result in results if success and not list(result))

    def _write_rows(self, table: str, rows: Iterable[OnlineRow]) -> tuple[int, datetime | None]:
        from cassandra.concurrent import execute_concurrent_with_args

        insert = self._statement(insert_row_cql(self._keyspace, table))
        count, newest = 0, None
        for chunk in _chunks(rows, _CHUNK):
            params = [(row.entity_id, row.feature_time.isoformat(), _payload(row)) for row in chunk]
            execute_concurrent_with_args(self._session, insert, params, concurrency=_WRITE_CONCURRENCY)
            count += len(chunk)
            chunk_newest = max(row.feature_time for row in chunk)
            newest = chunk_newest if newest is None or chunk_newest > newest else newest
        return count, newest

    def _flip(self, group: str, current: _Pointer | None, new: _Pointer) -> bool:
        """Compare-and-set (Paxos): the flip applies only if nobody flipped since we read ``current``."""
        values = (new.version, new.data_table, new.previous_table, new.rows, new.loaded_at, new.newest_feature_time)
        if current is None:
            result = self._session.execute(self._statement(first_flip_cql(self._keyspace)), (group, *values))
        else:
            result = self._session.execute(
                self._statement(next_flip_cql(self._keyspace)), (*values, group, current.version)
            )
        with self._lock:
            self._pointers_read_at = 0.0  # this process reads the new version at once
        return bool(result.was_applied)

    def _serves(self, group: str, table: str) -> bool:
        try:
            pointer = self._read_pointers([group]).get(group)
        except Exception:  # unknown: keep the table, the next load's garbage collection decides
            return False
        return pointer is not None and pointer.data_table == table

    def _collect_garbage(self, group: str, keep: set[str]) -> None:
        prefix = f"fg_{group}__v"
        rows = self._call(self._session.execute, list_tables_cql(), (self._keyspace,))
        for row in rows:
            if row.table_name.startswith(prefix) and row.table_name not in keep:
                self._drop(row.table_name)

    def _drop(self, table: str) -> None:
        with contextlib.suppress(Exception):  # best effort: the next load's garbage collection retries it
            self._session.execute(drop_table_cql(self._keyspace, table))
        self._prepared = {text: p for text, p in self._prepared.items() if f'"{table}"' not in text}

    # -- plumbing ---------------------------------------------------------------------------------
    def _statement(self, text: str) -> Any:
        """Prepared once per statement text (so once per table for the per-version statements)."""
        prepared = self._prepared.get(text)
        if prepared is None:
            prepared = self._prepared[text] = self._call(self._session.prepare, text)
        return prepared

    @staticmethod
    def _call(function: Any, *args: Any) -> Any:
        """The one place where driver errors become ours (an InvalidRequest goes through: callers react)."""
        from cassandra import DriverException, InvalidRequest
        from cassandra.cluster import NoHostAvailable

        try:
            return function(*args)
        except InvalidRequest:
            raise
        except (DriverException, NoHostAvailable) as exc:
            raise Unavailable(f"online store (cassandra) unavailable: {exc}", code="online_store_unavailable") from exc

    def close(self) -> None:
        cluster = getattr(self._session, "cluster", None)
        if cluster is not None:
            cluster.shutdown()


def _payload(row: OnlineRow) -> str:
    return json.dumps(row.values, separators=(",", ":"))


def _chunks(rows: Iterable[OnlineRow], size: int) -> Iterator[list[OnlineRow]]:
    chunk: list[OnlineRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
