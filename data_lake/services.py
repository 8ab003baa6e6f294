"""Use cases of the data lake catalog: commit files as a new table version, describe tables."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from data_lake.domain.commits import (
    CommitRecord,
    CommitRequest,
    DataFile,
    Lineage,
    Mode,
    PartitionStats,
    PlannedCommit,
    StaleVersion,
    TableSnapshot,
    TableSummary,
    partition_stats,
    plan_commit,
    validate_files,
)
from data_lake.domain.schema import parse_schema
from data_lake.domain.tables import TableName
from data_lake.errors import ConcurrentCommit, InvalidCommit, TableNotFound
from data_lake.ports import CatalogRepository, LakeStorage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TableDetails:
    snapshot: TableSnapshot
    partitions: list[PartitionStats]
    commits: list[CommitRecord]


class CatalogService:
    def __init__(
        self,
        repository: CatalogRepository,
        storage: LakeStorage,
        *,
        clock: Clock = utc_now,
        attempts: int = 2,
        after_commit: Callable[[PlannedCommit], None] | None = None,
    ) -> None:
        self._repository = repository
        self._storage = storage
        self._clock = clock
        self._attempts = max(attempts, 1)  # 2 = the first try plus one retry after losing a race
        self._after_commit = after_commit  # e.g. profile the new version; must not raise

    def build_request(
        self,
        table: str,
        *,
        partition_column: str,
        schema: Sequence[tuple[str, str]],
        files: Sequence[DataFile],
        mode: str,
        job: str,
        inputs: Sequence[str],
    ) -> CommitRequest:
        """Turn raw values into a valid request, or raise a 400 naming the first bad field."""
        name = TableName.parse(table)
        try:
            parsed_mode = Mode(mode)
        except ValueError:
            choices = ", ".join(m.value for m in Mode)
            raise InvalidCommit(f"mode: {mode!r} is not one of {choices}", field="mode") from None
        valid_files = validate_files(name, partition_column, files)  # first: "no files" explains an empty schema
        return CommitRequest(
            table=name,
            partition_column=partition_column,
            schema=parse_schema(schema),
            files=valid_files,
            mode=parsed_mode,
            lineage=Lineage.of(job, inputs),
        )

    def commit(self, request: CommitRequest) -> PlannedCommit:
        """Record ``request`` as the table's next version, then delete files an overwrite replaced."""
        self._check_files_exist(request.files)
        planned = self._record_with_retry(request)
        for path in planned.superseded:
            try:
                self._storage.delete(path)
            except OSError as exc:  # the version is recorded; a leftover file is only wasted space
                log.warning("could not delete superseded file %s: %s", path, exc)
        log.info("committed %s v%d (%d rows, %s)", request.table.qualified, planned.version, planned.rows, request.mode)
        if self._after_commit is not None:
            self._after_commit(planned)
        return planned

    def _check_files_exist(self, files: Sequence[DataFile]) -> None:
        for index, file in enumerate(files):
            field = f"files.{index}.path"
            if not self._storage.exists(file.path):
                raise InvalidCommit(f"{field}: {file.path!r} does not exist under the lake root", field=field)
            if self._storage.size(file.path) == 0:
                raise InvalidCommit(f"{field}: {file.path!r} is empty, not a Parquet file", field=field)

    def _record_with_retry(self, request: CommitRequest) -> PlannedCommit:
        for attempt in range(1, self._attempts + 1):
            planned = plan_commit(self._repository.snapshot(request.table), request, self._clock())
            try:
                self._repository.record(planned)
                return planned
            except StaleVersion as exc:
                log.info("commit to %s lost a race (attempt %d): %s", request.table.qualified, attempt, exc)
        raise ConcurrentCommit(f"{request.table.qualified} changed during the commit {self._attempts} times; try again")

    def table(self, table: str) -> TableDetails:
        name = TableName.parse(table)
        snapshot = self._repository.snapshot(name)
        if snapshot is None:
            raise TableNotFound(f"table {name.qualified} does not exist", field="table")
        return TableDetails(snapshot, partition_stats(snapshot.files), self._repository.commits(name))

    def tables(self) -> list[TableSummary]:
        return self._repository.summaries()

    def check_ready(self) -> str | None:
        self._repository.ping()
        return None
