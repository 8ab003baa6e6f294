"""A commit: new files for a table, with lineage, turned into the next version of that table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from data_lake.domain.schema import Column, evolve_schema
from data_lake.domain.tables import StagedPath, TableName, check_partition_column, staged_path
from data_lake.errors import InvalidCommit, NotTableOwner, SchemaConflict

MAX_LINEAGE_TEXT = 500
#: a declared row count beyond this is refused before any file is read (the footer decides anyway)
MAX_FILE_ROWS = 10**12


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
class StagedFile:
    """A file of a commit: where the writer staged it, where it goes, and the row count the writer declared."""

    source: str
    target: str
    partition: str
    rows: int

    @property
    def data_file(self) -> DataFile:
        return DataFile(self.target, self.partition, self.rows)


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What a Parquet file's footer says: its rows and its columns (name, type) in order."""

    rows: int
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Lineage:
    """Who wrote a version: the authenticated caller (a deployable or the operator), its job and inputs."""

    job: str
    inputs: tuple[str, ...]
    caller: str | None = None  # None only for versions recorded before callers were authenticated

    @classmethod
    def of(cls, job: str, inputs: Iterable[str], caller: str | None = None) -> Lineage:
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
        return cls(job, tuple(unique), caller)


@dataclass(frozen=True, slots=True)
class CommitRequest:
    table: TableName
    partition_column: str
    schema: tuple[Column, ...]
    files: tuple[StagedFile, ...]
    mode: Mode
    lineage: Lineage
    run_id: str  # the staging run every file comes from: a retried commit of the same run is recorded once
    #: the writer knows its files lack columns of the table and wants them in anyway (releases a quarantine)
    accept_schema_change: bool = False
    #: a stream's flush: its size is the writer's flush timing (the row-count check does not judge it)
    continuous: bool = False

    @property
    def rows(self) -> int:
        return sum(file.rows for file in self.files)


def validate_files(table: TableName, partition_column: str, files: Sequence[DataFile]) -> tuple[StagedFile, ...]:
    """Every file is staged in one run directory of this table's staging area, once, with a sane row count."""
    check_partition_column(partition_column)
    if not files:
        raise InvalidCommit("files: at least one file is required", field="files")
    seen: set[str] = set()
    staged: list[StagedPath] = []
    for index, file in enumerate(files):
        field = f"files.{index}"
        found = staged_path(table, partition_column, file.path, f"{field}.path")
        if found.partition != file.partition:
            raise InvalidCommit(
                f"{field}.partition: {file.partition!r} does not match the directory "
                f"{partition_column}={found.partition}",
                field=f"{field}.partition",
            )
        if not 0 <= file.rows <= MAX_FILE_ROWS:
            raise InvalidCommit(f"{field}.rows: must be 0..{MAX_FILE_ROWS}", field=f"{field}.rows")
        if file.path in seen:
            raise InvalidCommit(f"{field}.path: {file.path!r} is listed twice", field=f"{field}.path")
        if staged and found.run_id != staged[0].run_id:
            raise InvalidCommit(
                f"{field}.path: every file of a commit comes from one staging run", field=f"{field}.path"
            )
        seen.add(file.path)
        staged.append(found)
    return tuple(
        StagedFile(place.source, place.target(table, partition_column, index), place.partition, file.rows)
        for index, (place, file) in enumerate(zip(staged, files, strict=True))
    )


def check_file_facts(index: int, file: StagedFile, facts: FileFacts, schema: Sequence[Column], partition: str) -> None:
    """The footer decides: the declared row count and schema must be what the file holds."""
    if facts.rows != file.rows:
        raise InvalidCommit(
            f"files.{index}.rows: declared {file.rows}, but the file's footer says {facts.rows}",
            field=f"files.{index}.rows",
        )
    held = {name: kind for name, kind in facts.columns if name != partition}
    declared = {column.name: column.type for column in schema if column.name != partition}
    for name, kind in declared.items():
        if name not in held:
            raise InvalidCommit(f"schema: column {name!r} is not in file {index}", field="schema")
        if held[name] != kind:
            raise InvalidCommit(
                f"schema: column {name!r} is declared {kind} but file {index} holds {held[name]}", field="schema"
            )
    extra = sorted(set(held) - set(declared))
    if extra:
        raise InvalidCommit(f"schema: file {index} has columns the commit does not declare: {extra}", field="schema")


@dataclass(frozen=True, slots=True)
class Owner:
    """Who owns a table: the caller and job of its first version (the caller is None for legacy versions)."""

    caller: str | None
    job: str


def check_writer(table: TableName, owner: Owner | None, lineage: Lineage, mode: Mode) -> None:
    """Only the owning deployable writes a table; only its owning job replaces what is there."""
    if owner is None:  # the first commit makes its caller and job the owner
        return
    if owner.caller is not None and lineage.caller != owner.caller:
        raise NotTableOwner(f"{table.qualified} is written by {owner.caller}, not {lineage.caller}")
    if mode is not Mode.APPEND and lineage.job != owner.job:
        raise NotTableOwner(
            f"only the owning job {owner.job!r} may {mode.value} {table.qualified}, not {lineage.job!r}", field="job"
        )


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
    run_id: str | None = None
    continuous: bool = False


def plan_commit(current: TableSnapshot | None, request: CommitRequest, at: datetime) -> PlannedCommit:
    """The next version of ``current`` after ``request``; raises on a schema or partitioning conflict.

    Only files of ``current`` can be superseded (and deleted after the commit): a commit never names an existing
    file, so it can never make the catalog delete what it does not replace."""
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
    kept = [file for file in previous_files if file.path not in superseded]
    return PlannedCommit(
        table=request.table,
        expected_version=current.version if current is not None else 0,
        version=(current.version if current is not None else 0) + 1,
        partition_column=request.partition_column,
        schema=schema,
        mode=request.mode,
        lineage=request.lineage,
        added=tuple(file.data_file for file in request.files),
        superseded=tuple(sorted(superseded)),
        rows=request.rows,
        table_rows=sum(file.rows for file in kept) + request.rows,
        at=at,
        run_id=request.run_id,
        continuous=request.continuous,
    )


def _superseded(previous: Sequence[DataFile], request: CommitRequest) -> set[str]:
    existing = {old.path for old in previous}
    for index, file in enumerate(request.files):
        if file.target in existing:  # the same run committed twice under another id: never replace a file by itself
            raise InvalidCommit(
                f"files.{index}.path: its run is already part of {request.table.qualified}", field=f"files.{index}.path"
            )
    if request.mode is Mode.APPEND:
        return set()
    if request.mode is Mode.OVERWRITE:
        return existing
    partitions = {file.partition for file in request.files}
    return {file.path for file in previous if file.partition in partitions}


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
    caller: str | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class TableSummary:
    table: TableName
    version: int
    rows: int
    partitions: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """Someone (a training run) keeps a table version's files past the retention period until it is released."""

    version: int
    holder: str
    held_at: datetime
