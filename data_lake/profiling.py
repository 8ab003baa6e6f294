"""Use cases of the lake as an analysis environment: profiles of table versions, version diffs, lineage, SQL.

A version's profile is the merge of its files' profiles. Files never change, so each is profiled once, when the
commit that adds it is recorded; a version that only appends merges the previous version's profile with its new
files'; any other version merges its files' stored profiles. Either way only new files are read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from data_lake.domain.checks import profile_findings
from data_lake.domain.commits import DataFile, PlannedCommit, TableSnapshot
from data_lake.domain.lineage import TableLineage, lineage_of
from data_lake.domain.tables import TableName
from data_lake.errors import InvalidLookup, ProfileUnavailable, TableNotFound, VersionNotFound
from data_lake.ports import CatalogRepository, CheckStore, LakeStorage, ProfileEngine, ProfileStore, QueryEngine
from strata_kernel.contracts.time_zones import check_zone
from strata_kernel.profiles.compare import ProfileDiff, compare_profiles
from strata_kernel.profiles.merge import conform, merge_profiles
from strata_kernel.profiles.model import TEMPORAL, TableProfile

log = logging.getLogger(__name__)

#: temporal columns that say how fresh a feature table is, in order of preference
FRESHNESS_COLUMNS = ("feature_time", "event_time")


@dataclass(frozen=True, slots=True)
class VersionProfile:
    snapshot: TableSnapshot
    profile: TableProfile
    latest_version: int


class ProfileService:
    def __init__(
        self,
        repository: CatalogRepository,
        storage: LakeStorage,
        store: ProfileStore,
        engine: ProfileEngine,
        *,
        query_engine: QueryEngine | None = None,
        on_commit: str = "background",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        checks: CheckStore | None = None,
        small_engine: ProfileEngine | None = None,
        small_rows: int = 0,
    ) -> None:
        """``small_engine`` (DuckDB in this process) profiles work of fewer than ``small_rows`` rows instead of
        ``engine`` (Spark on the cluster): a small incremental commit never waits on a Spark start."""
        self._repository, self._storage, self._store, self._engine = repository, storage, store, engine
        self._small_engine, self._small_rows = small_engine, small_rows
        self._query_engine = query_engine
        self._on_commit = on_commit
        self._clock = clock
        self._checks = checks
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-profile")
        # small commits have their own queue: a streaming table's profile never waits behind a Spark job
        self._background_small = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-profile-small") if small_engine else None
        )

    # ---- after a commit ------------------------------------------------------------------------------------------
    def committed(self, planned: PlannedCommit) -> None:
        """Profile the version a commit just recorded (never fails the commit: a read recomputes a missing one)."""
        if self._on_commit == "off":
            return
        if self._on_commit == "sync":
            self._profile_quietly(planned)
        elif self._background_small is not None and self._small(planned.added):
            self._background_small.submit(self._profile_quietly, planned)
        else:
            self._background.submit(self._profile_quietly, planned)

    def _small(self, files: Sequence[DataFile]) -> bool:
        return self._small_engine is not None and sum(file.rows for file in files) < self._small_rows

    def _profile_quietly(self, planned: PlannedCommit) -> None:
        table, version = planned.table, planned.version
        try:
            self.profile(table.qualified, version)
            self._check_commit(planned)
        except Exception:  # a background job has nobody to answer: log it, the next read retries
            log.exception("could not profile %s v%d", table.qualified, version)

    def _check_commit(self, planned: PlannedCommit) -> None:
        """The commit's own rows against the previous version and the recent commits (domain/checks.py)."""
        if self._checks is None or planned.version <= 1:
            return
        previous = self._store.version_profile(planned.table, planned.version - 1)
        added = self._store.file_profiles(planned.table, [file.path for file in planned.added])
        if previous is None or not added:
            return
        recent = [c.rows for c in self._repository.commits(planned.table) if c.version < planned.version]
        findings = profile_findings(previous, merge_profiles(list(added.values())), recent,
                                    judge_rows=not planned.continuous)  # fmt: skip
        self._checks.record(planned.table, planned.version, planned.run_id or "", findings, quarantined=False)
        for finding in findings:
            log.warning("%s v%d: %s %s", planned.table.qualified, planned.version, finding.reason, finding.detail)

    def close(self) -> None:
        self._background.shutdown(wait=True)
        if self._background_small is not None:
            self._background_small.shutdown(wait=True)
        self._engine.close()
        if self._small_engine is not None:
            self._small_engine.close()

    # ---- reading -------------------------------------------------------------------------------------------------
    def profile(self, table: str, version: int | None = None) -> VersionProfile:
        """The profile of ``version`` (default: the latest), computed now if it never was."""
        name = TableName.parse(table)
        snapshot, latest = self._snapshot(name, version)
        stored = self._store.version_profile(name, snapshot.version)
        if stored is None:
            with self._lock(name):  # one computation per table at a time in this process
                stored = self._store.version_profile(name, snapshot.version) or self._compute(snapshot)
        return VersionProfile(snapshot, stored, latest)

    def overview(self) -> list[tuple[TableSnapshot, TableProfile | None]]:
        """Every table at its latest version with its profile when one is stored (never computed here)."""
        rows = []
        for summary in self._repository.summaries():
            snapshot = self._repository.snapshot(summary.table)
            if snapshot is not None:
                rows.append((snapshot, self._store.version_profile(summary.table, snapshot.version)))
        return rows

    def diff(self, table: str, first: int, second: int) -> tuple[VersionProfile, VersionProfile, ProfileDiff]:
        before, after = self.profile(table, first), self.profile(table, second)
        return before, after, compare_profiles(before.profile, after.profile)

    def lineage(self, table: str) -> TableLineage:
        name = TableName.parse(table)
        if self._repository.snapshot(name) is None:
            raise TableNotFound(f"table {name.qualified} does not exist", field="table")
        latest = {s.table.qualified: self._repository.commits(s.table) for s in self._repository.summaries()}
        return lineage_of(name.qualified, latest)

    def as_of(
        self,
        table: str,
        *,
        key: str,
        time: str,
        wanted: list[tuple[str, datetime]],
        columns: list[str],
        zone: str = "UTC",
    ) -> list[dict[str, Any]]:
        """Per (id, instant) of ``wanted``, ``columns`` of the table's latest row for that ``key`` whose ``time`` is
        at or before the instant (a point-in-time read: the offline value a model trained on), or nothing.
        ``zone``: the wall clock of the table's zone-less times (a feature group's declared ``time_zone``); each
        instant is read on that clock.

        Column names must be the table's own (they are quoted into the SQL), ids and instants are escaped."""
        name = TableName.parse(table)
        snapshot = self._repository.snapshot(name)
        if snapshot is None:
            raise TableNotFound(f"table {name.qualified} does not exist", field="table")
        known = {column.name for column in snapshot.schema}
        for field, names in (("key", [key]), ("time", [time]), ("columns", columns)):
            unknown = [n for n in names if n not in known]
            if unknown:
                raise InvalidLookup(f"{field}: {name.qualified} has no column {unknown[0]!r}", field=field)
        if not columns:
            raise InvalidLookup("columns: name at least one column to read", field="columns")
        if not wanted:
            return []
        clock = ZoneInfo(check_zone(zone, "zone"))
        values = ", ".join(f"({_literal(ident)}, TIMESTAMP '{_wall_clock(at, clock).isoformat(sep=' ')}')"
                           for ident, at in wanted)  # fmt: skip
        selected = ", ".join(f't."{column}"' for column in columns)
        on = f'w.wanted_id = CAST(t."{key}" AS VARCHAR) AND w.wanted_at >= CAST(t."{time}" AS TIMESTAMP)'
        sql = (f'SELECT w.wanted_id AS "id", w.wanted_at AS "at", {selected} FROM (VALUES {values}) '
               f'AS w(wanted_id, wanted_at) ASOF LEFT JOIN "{name.zone}"."{name.name}" AS t ON {on}')  # fmt: skip
        names, rows, _ = self.query(sql, limit=len(wanted) + 1, timeout_seconds=30.0)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def query(self, sql: str, *, limit: int, timeout_seconds: float) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        """Read-only SQL over every table's current version, named as the catalog names them."""
        if self._query_engine is None:
            raise RuntimeError("no query engine configured")
        tables = {}
        for summary in self._repository.summaries():
            snapshot = self._repository.snapshot(summary.table)
            if snapshot is not None:
                tables[summary.table.qualified] = snapshot
        return self._query_engine.query(sql, tables, limit=limit, timeout_seconds=timeout_seconds)

    def freshness(self, profile: TableProfile, snapshot: TableSnapshot) -> dict[str, Any] | None:
        """The newest time in the table: a feature table's feature/event time, else its newest partition."""
        for name in FRESHNESS_COLUMNS:
            column = profile.column(name)
            if column is not None and column.kind == TEMPORAL and column.summary.get("max"):
                return self._age(name, column.summary["max"])
        partitions = sorted({file.partition for file in snapshot.files})
        return self._age(snapshot.partition_column, partitions[-1]) if partitions else None

    def _age(self, column: str, newest: str) -> dict[str, Any]:
        try:
            moment = datetime.fromisoformat(newest)
        except ValueError:
            return {"column": column, "newest": newest, "age_seconds": None}
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the lake's zone-less times: as UTC
        return {"column": column, "newest": newest, "age_seconds": (self._clock() - moment).total_seconds()}

    # ---- computing -----------------------------------------------------------------------------------------------
    def _snapshot(self, name: TableName, version: int | None) -> tuple[TableSnapshot, int]:
        latest = self._repository.snapshot(name)
        if latest is None:
            raise TableNotFound(f"table {name.qualified} does not exist", field="table")
        if version is None or version == latest.version:
            return latest, latest.version
        snapshot = self._repository.snapshot_at(name, version) if version > 0 else None
        if snapshot is None:
            raise VersionNotFound(f"{name.qualified} has versions 1..{latest.version}, not {version}", field="version")
        return snapshot, latest.version

    def _compute(self, snapshot: TableSnapshot) -> TableProfile:
        started = time.perf_counter()
        base, needed = self._incremental_base(snapshot)
        stored = self._store.file_profiles(snapshot.table, [file.path for file in needed])
        missing = [file for file in needed if file.path not in stored]
        computed, engine = self._profile_files(snapshot, missing)
        parts = [*base, *(stored.get(file.path) or computed[file.path] for file in needed)]
        merged = merge_profiles(parts) if parts else TableProfile(rows=0, columns=())
        profile = conform(merged, [(column.name, column.type) for column in snapshot.schema]).with_meta(
            table=snapshot.table.qualified,
            version=snapshot.version,
            engine=engine,
            computed_at=self._clock().isoformat(),
            files=len(snapshot.files),
            files_read=len(missing),
            merged_with_previous=bool(base),
            seconds=round(time.perf_counter() - started, 3),
        )
        self._store.save_version_profile(snapshot.table, snapshot.version, profile)
        log.debug("profiled %s v%d: %d files read, %.2f s", snapshot.table.qualified, snapshot.version,
                 len(missing), profile.meta["seconds"])  # fmt: skip
        return profile

    def _incremental_base(self, snapshot: TableSnapshot) -> tuple[list[TableProfile], list[DataFile]]:
        """An append: the previous version's profile plus the new files. Otherwise: every file of the version."""
        if snapshot.version > 1:
            previous = self._store.version_profile(snapshot.table, snapshot.version - 1)
            before = self._repository.snapshot_at(snapshot.table, snapshot.version - 1)
            if previous is not None and before is not None:
                old = {file.path for file in before.files}
                if old <= {file.path for file in snapshot.files}:
                    return [previous], [file for file in snapshot.files if file.path not in old]
        return [], list(snapshot.files)

    def _profile_files(self, snapshot: TableSnapshot, files: list[DataFile]) -> tuple[dict[str, TableProfile], str]:
        """The files' profiles and the name of the engine that read them."""
        if not files:
            return {}, self._engine.name
        gone = [file.path for file in files if not self._storage.exists(file.path)]
        if gone:
            raise ProfileUnavailable(
                f"{snapshot.table.qualified} v{snapshot.version} was not profiled when it was current and "
                f"{len(gone)} of its files have since been replaced (e.g. {gone[0]})",
                field="version",
            )
        engine = self._small_engine if self._small(files) and self._small_engine is not None else self._engine
        computed = engine.profile_files(files, snapshot.partition_column)
        self._store.save_file_profiles(snapshot.table, computed)
        return computed, engine.name

    def _lock(self, name: TableName) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name.qualified, threading.Lock())


def _wall_clock(at: datetime, clock: ZoneInfo) -> datetime:
    """``at`` as a zone-less time on ``clock`` (a naive ``at`` is already one)."""
    return (at.astimezone(clock) if at.tzinfo is not None else at).replace(tzinfo=None)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
