"""Ports of the data lake: the catalog store and the file storage, in domain terms."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import datetime

from data_lake.domain.checks import CheckRecord, Finding
from data_lake.domain.commits import (
    CommitRecord,
    DataFile,
    FileFacts,
    Hold,
    Owner,
    PlannedCommit,
    TableSnapshot,
    TableSummary,
)
from data_lake.domain.tables import TableName
from strata_kernel.profiles.model import TableProfile


class CatalogRepository(abc.ABC):
    """Where table versions, their files and their lineage are recorded."""

    @abc.abstractmethod
    def snapshot(self, table: TableName) -> TableSnapshot | None:
        """The table at its latest version with its active files, or ``None`` if it was never committed."""

    @abc.abstractmethod
    def snapshot_at(self, table: TableName, version: int) -> TableSnapshot | None:
        """The table as of ``version``: the files active then and the schema that version recorded."""

    @abc.abstractmethod
    def commits(self, table: TableName) -> list[CommitRecord]:
        """Every commit of ``table``, oldest first."""

    @abc.abstractmethod
    def owner(self, table: TableName) -> Owner | None:
        """The caller and job of the table's first version; ``None`` for a table never committed."""

    @abc.abstractmethod
    def commit_of_run(self, table: TableName, run_id: str) -> CommitRecord | None:
        """The version a staging run became, if it was recorded (a retried commit is answered with it)."""

    @abc.abstractmethod
    def summaries(self) -> list[TableSummary]:
        """One line per table, ordered by name."""

    @abc.abstractmethod
    def record(self, commit: PlannedCommit) -> None:
        """Record ``commit`` atomically: all of it or nothing.

        Raises :class:`~data_lake.domain.commits.StaleVersion` when the table is no longer at
        ``commit.expected_version`` (another writer got there first).
        """

    @abc.abstractmethod
    def expired_files(self, table: TableName, removed_before: datetime) -> list[str]:
        """Files of ``table`` removed by a version committed at or before ``removed_before`` and not purged yet,
        except the files of a held version."""

    @abc.abstractmethod
    def hold(self, table: TableName, version: int, holder: str, at: datetime) -> None:
        """Keep ``version``'s files past the retention period, for ``holder`` (idempotent per holder)."""

    @abc.abstractmethod
    def holds(self, table: TableName) -> list[Hold]:
        """The holds on ``table``'s versions, by version, then oldest first."""

    @abc.abstractmethod
    def release(self, table: TableName, version: int, holder: str) -> bool:
        """Drop ``holder``'s hold on ``version`` (its files go with the next purge unless another holder keeps
        them); False when there was no such hold."""

    @abc.abstractmethod
    def mark_purged(self, table: TableName, paths: Sequence[str]) -> None:
        """Record that ``paths`` (files no version reads any more) were deleted from storage."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached (readiness)."""


class LakeStorage(abc.ABC):
    """The lake's files, addressed by POSIX paths relative to the lake root."""

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a regular file exists at ``path`` inside the lake root."""

    @abc.abstractmethod
    def size(self, path: str) -> int:
        """Size in bytes of the file at ``path`` (it must exist)."""

    @abc.abstractmethod
    def delete(self, path: str) -> None:
        """Remove the file at ``path``; a file already gone is not an error."""

    @abc.abstractmethod
    def parquet_facts(self, path: str) -> FileFacts:
        """Row count and columns from the Parquet footer of ``path``; ValueError if it is not a Parquet file."""

    @abc.abstractmethod
    def move(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target`` (same file system); FileExistsError if ``target`` exists."""

    @abc.abstractmethod
    def remove_empty_dirs(self, path: str) -> None:
        """Remove ``path`` and the directories below it if they hold no file (a consumed staging run)."""


class ProfileStore(abc.ABC):
    """Where profiles are kept: one per committed file (files never change) and one per table version."""

    @abc.abstractmethod
    def file_profiles(self, table: TableName, paths: Sequence[str]) -> dict[str, TableProfile]:
        """The stored profiles of those of ``paths`` (relative to the lake root) that have one."""

    @abc.abstractmethod
    def save_file_profiles(self, table: TableName, profiles: Mapping[str, TableProfile]) -> None:
        """Keep the profiles of files by path; a path already profiled keeps its first profile."""

    @abc.abstractmethod
    def version_profile(self, table: TableName, version: int) -> TableProfile | None:
        """The profile of one table version, if it was computed."""

    @abc.abstractmethod
    def save_version_profile(self, table: TableName, version: int, profile: TableProfile) -> None:
        """Keep the profile of a table version; a version already profiled keeps its first profile."""


class ProfileEngine(abc.ABC):
    """What reads files and computes their profiles: DuckDB on this machine, Spark on a cluster."""

    name: str

    @abc.abstractmethod
    def profile_files(self, files: Sequence[DataFile], partition_column: str) -> dict[str, TableProfile]:
        """One profile per file (keyed by its path relative to the lake root), its partition set."""

    def close(self) -> None:
        """Give back what the engine holds (a Spark session and its cluster cores); most hold nothing."""


class QueryEngine(abc.ABC):
    """Read-only SQL over the lake's tables."""

    @abc.abstractmethod
    def query(
        self, sql: str, tables: Mapping[str, TableSnapshot], *, limit: int, timeout_seconds: float
    ) -> tuple[list[str], list[tuple[object, ...]], bool]:
        """Column names, at most ``limit`` rows and whether more were cut; refuses anything but one SELECT."""


class CheckStore(abc.ABC):
    """The findings of the commit checks (domain/checks.py), quarantined commits among them."""

    @abc.abstractmethod
    def record(
        self, table: TableName, version: int | None, run_id: str, findings: Sequence[Finding], *, quarantined: bool
    ) -> None:
        """Keep the findings of one commit (a quarantined one has no version)."""

    @abc.abstractmethod
    def after(self, check_id: int, limit: int) -> list[CheckRecord]:
        """Findings recorded after ``check_id``, oldest first (a monitor's cursor)."""

    @abc.abstractmethod
    def quarantined(self, table: TableName | None = None) -> list[CheckRecord]:
        """Findings of commits in quarantine now (not released)."""

    @abc.abstractmethod
    def release(self, table: TableName, run_id: str) -> None:
        """The run's quarantine is over (its commit was accepted after all)."""
