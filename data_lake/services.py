"""Use cases of the data lake catalog: commit files as a new table version, describe tables."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from data_lake.domain.checks import schema_findings
from data_lake.domain.commits import (
    CommitRecord,
    CommitRequest,
    DataFile,
    Hold,
    Lineage,
    Mode,
    PartitionStats,
    PlannedCommit,
    StagedFile,
    StaleVersion,
    TableSnapshot,
    TableSummary,
    check_file_facts,
    check_writer,
    partition_stats,
    plan_commit,
    validate_files,
)
from data_lake.domain.schema import evolve_schema, parse_schema
from data_lake.domain.tables import TableName
from data_lake.errors import (
    CommitQuarantined,
    ConcurrentCommit,
    HoldNotFound,
    InvalidCommit,
    TableNotFound,
    VersionFilesGone,
    VersionNotFound,
)
from data_lake.ports import CatalogRepository, CheckStore, LakeStorage
from strata_kernel.errors import Unavailable

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Committed:
    """What a commit became: a new version, or (``replayed``) the version the same staging run became before."""

    table: TableName
    version: int
    rows: int
    caller: str | None
    replayed: bool = False


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
        checks: CheckStore | None = None,
        retention: timedelta = timedelta(0),
    ) -> None:
        self._repository = repository
        self._storage = storage
        self._clock = clock
        self._attempts = max(attempts, 1)  # 2 = the first try plus one retry after losing a race
        self._after_commit = after_commit  # e.g. profile the new version; must not raise
        self._checks = checks  # where quarantined commits are recorded (None: no schema-break check)
        self._retention = retention  # how long a file no version reads any more stays readable

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
        caller: str | None = None,
        accept_schema_change: bool = False,
        continuous: bool = False,
    ) -> CommitRequest:
        """Turn raw values into a valid request, or raise a 400 naming the first bad field.

        ``caller`` is the authenticated deployable (or operator): lineage names it, whatever ``job`` says."""
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
            lineage=Lineage.of(job, inputs, caller),
            run_id=files[0].path.split("/")[3],
            accept_schema_change=accept_schema_change,
            continuous=continuous,
        )

    def commit(self, request: CommitRequest) -> Committed:
        """Check the staged files (footers, schema, owner), move them in and record the table's next version,
        then delete the files superseded longer ago than the retention period. A run already recorded is answered
        with its version, once."""
        replayed = self._repository.commit_of_run(request.table, request.run_id)
        if replayed is not None:  # a retry of a commit whose answer was lost: its files are in the table already
            self._discard_staging(request)
            return Committed(request.table, replayed.version, replayed.rows, replayed.caller, replayed=True)
        check_writer(request.table, self._repository.owner(request.table), request.lineage, request.mode)
        self._check_staged_files(request)
        self._quarantine_if_breaking(request)
        self._move_in(request.files)
        try:
            planned = self._record_with_retry(request)
        except Exception:
            self._move_back(request.files)
            raise
        self._discard_staging(request)
        self._purge_expired(request.table)
        log.info("committed %s v%d (%d rows, %s) for %s", request.table.qualified, planned.version, planned.rows,
                 request.mode, request.lineage.caller)  # fmt: skip
        if self._after_commit is not None:
            self._after_commit(planned)
        return Committed(request.table, planned.version, planned.rows, request.lineage.caller)

    def _purge_expired(self, table: TableName) -> None:
        """Delete the files versions stopped reading more than the retention period ago (this commit's superseded
        files too when the retention is 0). Until then a reader that got an earlier version's file list from the
        catalog reads it whole: deleting them at once would fail its read half way."""
        try:
            expired = self._repository.expired_files(table, self._clock() - self._retention)
        except Unavailable as exc:  # the version is recorded; the next commit purges
            log.warning("could not list %s's expired files: %s", table.qualified, exc)
            return
        deleted = []
        for path in expired:
            try:
                self._storage.delete(path)
                deleted.append(path)
            except OSError as exc:  # a leftover file is only wasted space; tried again after the next commit
                log.warning("could not delete superseded file %s: %s", path, exc)
        if deleted:
            try:
                self._repository.mark_purged(table, deleted)
            except Unavailable as exc:  # deleted but not marked: deleting them again is harmless
                log.warning("could not mark %d files of %s purged: %s", len(deleted), table.qualified, exc)

    def _check_staged_files(self, request: CommitRequest) -> None:
        """Believe no writer: each staged file exists, and its footer's rows and columns are what it declared."""
        for index, file in enumerate(request.files):
            field = f"files.{index}.path"
            if not self._storage.exists(file.source):
                raise InvalidCommit(f"{field}: no staged file at {file.source!r}", field=field)
            try:
                facts = self._storage.parquet_facts(file.source)
            except (OSError, ValueError) as exc:
                raise InvalidCommit(f"{field}: {file.source!r} is not a readable Parquet file", field=field) from exc
            check_file_facts(index, file, facts, request.schema, request.partition_column)

    def _quarantine_if_breaking(self, request: CommitRequest) -> None:
        """An append or partition overwrite whose files lack columns of the table stays staged, with the reason
        recorded, unless the writer accepts the schema change (which releases an earlier quarantine of the same
        run). A full overwrite (only the owning job may) redefines the table: its findings are recorded, not held."""
        current = self._repository.snapshot(request.table)
        if self._checks is None or current is None:
            return
        evolve_schema(current.schema, request.schema, replace=request.mode is Mode.OVERWRITE)  # a kind change: 409
        findings = schema_findings(current.schema, request.schema, request.partition_column)
        breaking = [finding for finding in findings if finding.breaks_schema]
        if not breaking:
            return
        if request.mode is Mode.OVERWRITE:  # the owning job redefines its table: flagged (an alert), not blocked
            self._checks.record(request.table, None, request.run_id, findings, quarantined=False)
            return
        if request.accept_schema_change:
            self._checks.release(request.table, request.run_id)
            log.warning("%s: schema change accepted by %s: %s", request.table.qualified, request.lineage.caller,
                        "; ".join(f.detail for f in breaking))  # fmt: skip
            return
        if not any(r.run_id == request.run_id for r in self._checks.quarantined(request.table)):
            self._checks.record(request.table, None, request.run_id, findings, quarantined=True)
        staged = f"{request.table.location}/_staging/{request.run_id}"
        raise CommitQuarantined(
            f"{request.table.qualified}: commit quarantined, {'; '.join(f.detail for f in findings)}; its files stay "
            f"in {staged} (training does not read them); commit again with accept_schema_change=true to take it",
            field=breaking[0].field,
        )

    def _move_in(self, files: Sequence[StagedFile]) -> None:
        moved: list[StagedFile] = []
        try:
            for file in files:
                self._storage.move(file.source, file.target)
                moved.append(file)
        except OSError as exc:
            self._move_back(moved)
            raise InvalidCommit(f"files: could not move the staged files into the table ({type(exc).__name__})",
                                field="files") from exc  # fmt: skip

    def _move_back(self, files: Sequence[StagedFile]) -> None:
        """A refused commit leaves its files staged (the writer may retry or clean up), never in the table."""
        for file in files:
            try:
                self._storage.move(file.target, file.source)
            except OSError as exc:
                log.warning("could not return %s to staging: %s", file.target, exc)
                self._storage.delete(file.target)

    def _discard_staging(self, request: CommitRequest) -> None:
        for file in request.files:
            if self._storage.exists(file.source):
                self._storage.delete(file.source)
        self._storage.remove_empty_dirs(f"{request.table.location}/_staging/{request.run_id}")

    def _record_with_retry(self, request: CommitRequest) -> PlannedCommit:
        for attempt in range(1, self._attempts + 1):
            planned = plan_commit(self._repository.snapshot(request.table), request, self._clock())
            try:
                self._repository.record(planned)
                return planned
            except StaleVersion as exc:
                log.info("commit to %s lost a race (attempt %d): %s", request.table.qualified, attempt, exc)
        raise ConcurrentCommit(f"{request.table.qualified} changed during the commit {self._attempts} times; try again")

    def table(self, table: str, version: int | None = None) -> TableDetails:
        """The table at its latest version, or at ``version`` (a reader rebuilding what read it then) while that
        version's files are all still there: VersionFilesGone once a later commit's retention purged one."""
        name = TableName.parse(table)
        snapshot = self._snapshot(name, version)
        if version is not None:
            gone = [file.path for file in snapshot.files if not self._storage.exists(file.path)]
            if gone:
                raise VersionFilesGone(f"{name.qualified} v{version}: {len(gone)} of its files were deleted after "
                                       f"later commits replaced them (e.g. {gone[0]})", field="version")  # fmt: skip
        return TableDetails(snapshot, partition_stats(snapshot.files), self._repository.commits(name))

    def hold(self, table: str, version: int, holder: str) -> TableDetails:
        """Keep ``version``'s files past the retention period for ``holder`` (a training run: its model must be
        rebuildable from what it read); NotFound for an unknown version, VersionFilesGone if already purged."""
        details = self.table(table, version)
        self._repository.hold(TableName.parse(table), version, holder, self._clock())
        return details

    def holds(self, table: str) -> list[Hold]:
        """Who keeps which of the table's versions past the retention period; TableNotFound for an unknown table."""
        name = TableName.parse(table)
        self._snapshot(name, None)
        return self._repository.holds(name)

    def release(self, table: str, version: int, holder: str) -> None:
        """Drop ``holder``'s hold on ``version``: once no holder keeps it, the first commit after the retention
        period deletes its replaced files, as for any version. NotFound for an unknown table, version or hold."""
        name = TableName.parse(table)
        self._snapshot(name, version)
        if not self._repository.release(name, version, holder):
            raise HoldNotFound(f"{name.qualified} v{version} is not held by {holder!r}", field="holder")
        log.info("released the hold of %r on %s v%d", holder, name.qualified, version)

    def _snapshot(self, name: TableName, version: int | None) -> TableSnapshot:
        """The table at its latest version or at ``version``; TableNotFound / VersionNotFound (files not checked)."""
        snapshot = self._repository.snapshot(name) if version is None else self._repository.snapshot_at(name, version)
        if snapshot is None and version is not None and self._repository.snapshot(name) is not None:
            raise VersionNotFound(f"table {name.qualified} has no version {version}", field="version")
        if snapshot is None:
            raise TableNotFound(f"table {name.qualified} does not exist", field="table")
        return snapshot

    def tables(self) -> list[TableSummary]:
        return self._repository.summaries()

    def check_ready(self) -> str | None:
        self._repository.ping()
        return None
