"""Ports of the data lake: the catalog store and the file storage, in domain terms."""

from __future__ import annotations

import abc

from data_lake.domain.commits import CommitRecord, PlannedCommit, TableSnapshot, TableSummary
from data_lake.domain.tables import TableName


class CatalogRepository(abc.ABC):
    """Where table versions, their files and their lineage are recorded."""

    @abc.abstractmethod
    def snapshot(self, table: TableName) -> TableSnapshot | None:
        """The table at its latest version with its active files, or ``None`` if it was never committed."""

    @abc.abstractmethod
    def commits(self, table: TableName) -> list[CommitRecord]:
        """Every commit of ``table``, oldest first."""

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
