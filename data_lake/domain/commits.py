"""A commit: new files for a table, with lineage, turned into the next version of that table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from data_lake.domain.schema import Column, evolve_schema
from data_lake.domain.tables import TableName, check_partition_column, partition_of_path
from data_lake.errors import InvalidCommit, SchemaConflict

MAX_LINEAGE_TEXT = 500


class Mode(StrEnum):
    APPEND = "append"
    OVERWRITE_PARTITIONS = "overwrite_partitions"
    OVERWRITE = "overwrite"


class StaleVersion(Exception):
    """The table moved on between reading it and recording a commit; the commit may be planned again."""


@dataclass(frozen=True, slots=True)
class DataFile:
    path: str  # relative to the lake root, POSIX
    partition: str
    rows: int


@dataclass(frozen=True, slots=True)
class Lineage:
    job: str
    inputs: tuple[str, ...]

    @classmethod
    def of(cls, job: str, inputs: Iterable[str]) -> Lineage:
        job = job.strip()
        if not job or len(job) > MAX_LINEAGE_TEXT:
            raise InvalidCommit(f"job: must be 1..{MAX_LINEAGE_TEXT} characters", field="job")
        unique: dict[str, None] = {}
        for index, value in enumerate(inputs):
            if not value.strip() or len(value) > MAX_LINEAGE_TEXT:
                raise InvalidCommit(
                    f"inputs.{index}: must be 1..{MAX_LINEAGE_TEXT} characters", field=f"inputs.{index}"
                )
            unique[value.strip()] = None
        return cls(job, tuple(unique))


@dataclass(frozen=True, slots=True)
class CommitRequest:
    table: TableName
    partition_column: str
    schema: tuple[Column, ...]
    files: tuple[DataFile, ...]
    mode: Mode
    lineage: Lineage

    @property
    def rows(self) -> int:
        return sum(file.rows for file in self.files)


def validate_files(table: TableName, partition_column: str, files: Sequence[DataFile]) -> tuple[DataFile, ...]:
    """Every file sits in its own partition's directory of this table, once, with a sane row count."""
    check_partition_column(partition_column)
    if not files:
        raise InvalidCommit("files: at least one file is required", field="files")
    seen: set[str] = set()
    for index, file in enumerate(files):
        field = f"files.{index}"
        value = partition_of_path(table, partition_column, file.path, f"{field}.path")
        if value != file.partition:
            raise InvalidCommit(
                f"{field}.partition: {file.partition!r} does not match the directory {partition_column}={value}",
                field=f"{field}.partition",
            )
        if file.rows < 0:
            raise InvalidCommit(f"{field}.rows: must be >= 0", field=f"{field}.rows")
        if file.path in seen:
            raise InvalidCommit(f"{field}.path: {file.path!r} is listed twice", field=f"{field}.path")
        seen.add(file.path)
    return tuple(files)


@dataclass(frozen=True, slots=True)
class TableSnapshot:
    """A table as of its latest version: what readers see."""

    table: TableName
    partition_column: str
    schema: tuple[Column, ...]
    version: int
    files: tuple[DataFile, ...]  # active files only
    updated_at: datetime

    @property
    def rows(self) -> int:
        return sum(file.rows for file in self.files)


@dataclass(frozen=True, slots=True)
class PlannedCommit:
    """Everything the catalog records atomically for one commit."""

    table: TableName
    expected_version: int  # 0 for a table that does not exist yet
    version: int
    partition_column: str
    schema: tuple[Column, ...]
    mode: Mode
    lineage: Lineage
    added: tuple[DataFile, ...]
    superseded: tuple[str, ...]  # paths of files the new version no longer contains
    rows: int  # rows in this commit
    table_rows: int  # rows of the table after it
    at: datetime


def plan_commit(current: TableSnapshot | None, request: CommitRequest, at: datetime) -> PlannedCommit:
    """The next version of ``current`` after ``request``; raises on a schema or partitioning conflict."""
    previous_files = current.files if current is not None else ()
    previous_schema = current.schema if current is not None else ()
    if current is not None and current.partition_column != request.partition_column:
        raise SchemaConflict(
            f"{request.table.qualified} is partitioned by {current.partition_column!r}, "
            f"not {request.partition_column!r}",
            field="partition_column",
        )
    schema = evolve_schema(previous_schema, request.schema, replace=request.mode is Mode.OVERWRITE)
    superseded = _superseded(previous_files, request)
    new_paths = {file.path for file in request.files}
    kept = [file for file in previous_files if file.path not in superseded and file.path not in new_paths]
    return PlannedCommit(
        table=request.table,
        expected_version=current.version if current is not None else 0,
        version=(current.version if current is not None else 0) + 1,
        partition_column=request.partition_column,
        schema=schema,
        mode=request.mode,
        lineage=request.lineage,
        added=request.files,
        superseded=tuple(sorted(superseded)),
        rows=request.rows,
        table_rows=sum(file.rows for file in kept) + request.rows,
        at=at,
    )


def _superseded(previous: Sequence[DataFile], request: CommitRequest) -> set[str]:
    new_paths = {file.path for file in request.files}
    if request.mode is Mode.APPEND:
        for index, file in enumerate(request.files):
            if file.path in {old.path for old in previous}:
                raise InvalidCommit(
                    f"files.{index}.path: {file.path!r} is already part of {request.table.qualified}",
                    field=f"files.{index}.path",
                )
        return set()
    if request.mode is Mode.OVERWRITE:
        replaced = list(previous)
    else:
        partitions = {file.partition for file in request.files}
        replaced = [file for file in previous if file.partition in partitions]
    # a file re-committed under the same path is replaced in the catalog but must stay on disk
    return {file.path for file in replaced if file.path not in new_paths}


@dataclass(frozen=True, slots=True)
class PartitionStats:
    value: str
    rows: int
    files: int


def partition_stats(files: Iterable[DataFile]) -> list[PartitionStats]:
    rows: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for file in files:
        rows[file.partition] += file.rows
        counts[file.partition] += 1
    return [PartitionStats(value, rows[value], counts[value]) for value in sorted(rows)]


@dataclass(frozen=True, slots=True)
class CommitRecord:
    version: int
    job: str
    inputs: tuple[str, ...]
    mode: Mode
    rows: int
    at: datetime


@dataclass(frozen=True, slots=True)
class TableSummary:
    table: TableName
    version: int
    rows: int
    partitions: int
    updated_at: datetime
