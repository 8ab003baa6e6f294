"""In-memory fakes at the data lake's ports (imported by name: the file name is unique in tests/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from data_lake.domain.commits import (
    CommitRecord,
    FileFacts,
    Hold,
    Owner,
    PlannedCommit,
    StaleVersion,
    TableSnapshot,
    TableSummary,
    partition_stats,
)
from data_lake.domain.tables import TableName
from data_lake.ports import CatalogRepository, LakeStorage


class InMemoryCatalog(CatalogRepository):
    def __init__(self) -> None:
        self.tables: dict[str, TableSnapshot] = {}
        self.versions: dict[tuple[str, int], TableSnapshot] = {}
        self.history: dict[str, list[CommitRecord]] = {}
        #: commits that land "from another writer" right before our next record() call
        self.interlopers: list[PlannedCommit] = []
        #: (table, path) of files a version removed -> when; purged ones are dropped
        self.removed: dict[tuple[str, str], datetime] = {}
        #: (table, version) -> who holds it, since when
        self.held: dict[tuple[str, int], dict[str, datetime]] = {}

    def snapshot(self, table: TableName) -> TableSnapshot | None:
        return self.tables.get(table.qualified)

    def snapshot_at(self, table: TableName, version: int) -> TableSnapshot | None:
        return self.versions.get((table.qualified, version))

    def commits(self, table: TableName) -> list[CommitRecord]:
        return list(self.history.get(table.qualified, []))

    def owner(self, table: TableName) -> Owner | None:
        history = self.history.get(table.qualified)
        return Owner(history[0].caller, history[0].job) if history else None

    def commit_of_run(self, table: TableName, run_id: str) -> CommitRecord | None:
        return next((c for c in self.history.get(table.qualified, []) if c.run_id == run_id), None)

    def summaries(self) -> list[TableSummary]:
        return [
            TableSummary(s.table, s.version, s.rows, len(partition_stats(s.files)), s.updated_at)
            for _, s in sorted(self.tables.items())
        ]

    def record(self, commit: PlannedCommit) -> None:
        if self.interlopers:
            self._apply(self.interlopers.pop(0))
        current = self.tables.get(commit.table.qualified)
        if (current.version if current else 0) != commit.expected_version:
            raise StaleVersion(f"expected v{commit.expected_version}")
        self._apply(commit)

    def _apply(self, commit: PlannedCommit) -> None:
        current = self.tables.get(commit.table.qualified)
        gone = {*commit.superseded, *(f.path for f in commit.added)}
        kept = [f for f in (current.files if current else ()) if f.path not in gone]
        for file in current.files if current else ():
            if file.path in gone:
                self.removed[(commit.table.qualified, file.path)] = commit.at
        self.tables[commit.table.qualified] = TableSnapshot(
            commit.table, commit.partition_column, commit.schema, commit.version, (*kept, *commit.added), commit.at
        )
        self.versions[(commit.table.qualified, commit.version)] = self.tables[commit.table.qualified]
        record = CommitRecord(
            commit.version, commit.lineage.job, commit.lineage.inputs, commit.mode, commit.rows, commit.at,
            commit.lineage.caller, commit.run_id,
        )  # fmt: skip
        self.history.setdefault(commit.table.qualified, []).append(record)

    def expired_files(self, table: TableName, removed_before: datetime) -> list[str]:
        held = {file.path for (name, version), holders in self.held.items() if name == table.qualified and holders
                for file in self.versions[(name, version)].files}  # fmt: skip
        return sorted(path for (name, path), at in self.removed.items()
                      if name == table.qualified and at <= removed_before and path not in held)  # fmt: skip

    def hold(self, table: TableName, version: int, holder: str, at: datetime) -> None:
        self.held.setdefault((table.qualified, version), {}).setdefault(holder, at)

    def holds(self, table: TableName) -> list[Hold]:
        found = [Hold(version, holder, at) for (name, version), holders in self.held.items()
                 if name == table.qualified for holder, at in holders.items()]  # fmt: skip
        return sorted(found, key=lambda hold: (hold.version, hold.held_at, hold.holder))

    def release(self, table: TableName, version: int, holder: str) -> bool:
        return self.held.get((table.qualified, version), {}).pop(holder, None) is not None

    def mark_purged(self, table: TableName, paths: Sequence[str]) -> None:
        for path in paths:
            self.removed.pop((table.qualified, path), None)

    def ping(self) -> None:
        return None


COLUMNS = (("order_id", "string"), ("minutes", "double"))


class InMemoryStorage(LakeStorage):
    """Files by path with the facts their Parquet footer would give (None: not a Parquet file)."""

    def __init__(self) -> None:
        self.files: dict[str, FileFacts | None] = {}

    def put(self, path: str, rows: int = 10, columns: tuple[tuple[str, str], ...] = COLUMNS) -> str:
        self.files[path] = FileFacts(rows, columns)
        return path

    def exists(self, path: str) -> bool:
        return path in self.files

    def size(self, path: str) -> int:
        return 0 if self.files[path] is None else 100

    def delete(self, path: str) -> None:
        self.files.pop(path, None)

    def parquet_facts(self, path: str) -> FileFacts:
        facts = self.files[path]
        if facts is None:
            raise ValueError(f"{path} is not Parquet")
        return facts

    def move(self, source: str, target: str) -> None:
        if target in self.files:
            raise FileExistsError(target)
        self.files[target] = self.files.pop(source)

    def remove_empty_dirs(self, path: str) -> None:
        return None


class TickingClock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now = self.now.replace(minute=self.now.minute + 1)
        return self.now
