"""The commit use case over fakes at the ports: versions, lineage, footers, owners, overwrites, races, refusals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from lake_fakes import InMemoryCatalog, InMemoryStorage, TickingClock

from data_lake.domain.commits import DataFile, plan_commit
from data_lake.domain.tables import TableName
from data_lake.errors import (
    ConcurrentCommit,
    HoldNotFound,
    InvalidCommit,
    NotTableOwner,
    SchemaConflict,
    TableNotFound,
    VersionFilesGone,
    VersionNotFound,
)
from data_lake.services import CatalogService

MakeFile = Callable[..., DataFile]
SCHEMA = [("order_id", "string"), ("minutes", "double")]
JOB = "process-orders"


def commit(
    service: CatalogService,
    files: list[DataFile],
    *,
    mode: str = "append",
    schema: list[tuple[str, str]] = SCHEMA,
    job: str = JOB,
    caller: str = "data_processing",
) -> int:
    request = service.build_request(
        "processed.orders", partition_column="nominal_date", schema=schema, files=files, mode=mode, job=job,
        inputs=["raw.order_placed@v1"], caller=caller,
    )  # fmt: skip
    return service.commit(request).version


def committed_paths(service: CatalogService) -> list[str]:
    return [file.path for file in service.table("processed.orders").snapshot.files]


def test_commits_move_staged_files_in_and_record_lineage_with_the_caller(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    first = stored_file("processed.orders", "2024-05-01", 0, rows=4, run="a")
    assert commit(service, [first]) == 1
    assert commit(service, [stored_file("processed.orders", "2024-05-01", 1, rows=6, run="b"),
                            stored_file("processed.orders", "2024-05-02", 2, rows=1, run="b")]) == 2  # fmt: skip

    details = service.table("processed.orders")
    assert details.snapshot.version == 2 and details.snapshot.rows == 11
    assert [(p.value, p.rows, p.files) for p in details.partitions] == [("2024-05-01", 10, 2), ("2024-05-02", 1, 1)]
    assert [(c.version, c.caller, c.job, c.inputs, c.rows) for c in details.commits] == [
        (1, "data_processing", JOB, ("raw.order_placed@v1",), 4),
        (2, "data_processing", JOB, ("raw.order_placed@v1",), 7),
    ]
    assert committed_paths(service)[0] == "processed/orders/nominal_date=2024-05-01/part-a-0.parquet"
    assert not storage.exists(first.path)  # moved, not copied


def test_overwrite_partitions_deletes_only_superseded_files_after_recording(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a"),
                     stored_file("processed.orders", "2024-05-02", 1, run="a")])  # fmt: skip
    old_day, other_day = committed_paths(service)

    commit(service, [stored_file("processed.orders", "2024-05-01", 2, rows=3, run="b")], mode="overwrite_partitions")

    assert not storage.exists(old_day)
    assert storage.exists(other_day)
    assert service.table("processed.orders").snapshot.rows == 13


def test_superseded_files_stay_readable_for_the_retention_period(
    catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    """A reader that listed version 1 before the overwrite still finds its files; the first commit after the
    retention period (TickingClock: a minute per reading) deletes them, and only them."""
    clock, retention = TickingClock(), timedelta(minutes=10)
    service = CatalogService(catalog, storage, clock=clock, retention=retention)
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    [first] = committed_paths(service)
    commit(service, [stored_file("processed.orders", "2024-05-01", 1, run="b")], mode="overwrite")
    overwritten_at = service.table("processed.orders").commits[-1].at
    assert storage.exists(first) and first not in committed_paths(service)

    for index in range(2, 20):
        commit(service, [stored_file("processed.orders", "2024-05-02", index, run=f"r{index}")])
        if not storage.exists(first):
            break
        assert clock.now - overwritten_at < retention, "kept past the retention period"
    assert not storage.exists(first) and index > 2
    assert all(storage.exists(path) for path in committed_paths(service))
    assert catalog.expired_files(TableName.parse("processed.orders"), clock.now.replace(year=2100)) == []


def test_missing_or_unreadable_staged_files_are_refused_and_nothing_changes(
    service: CatalogService, catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    present = stored_file("processed.orders", "2024-05-01", 0)
    missing = DataFile("processed/orders/_staging/r1/nominal_date=2024-05-01/ghost.parquet", "2024-05-01", 1)
    with pytest.raises(InvalidCommit, match=r"files.1.path: no staged file at .*ghost.parquet"):
        commit(service, [present, missing])
    storage.files[missing.path] = None
    with pytest.raises(InvalidCommit, match="not a readable Parquet file"):
        commit(service, [present, missing])
    assert catalog.tables == {}
    assert storage.exists(present.path)  # still staged: the writer may retry


def test_row_counts_and_schema_come_from_the_footer_not_the_request(
    service: CatalogService, catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    lying = stored_file("processed.orders", "2024-05-01", 0, rows=10)
    with pytest.raises(InvalidCommit, match=r"files\.0\.rows: declared 4800, but the file's footer says 10"):
        commit(service, [replace(lying, rows=4800)])
    with pytest.raises(InvalidCommit, match=r"files.0.rows: must be 0..10+$"):
        commit(service, [replace(lying, rows=2**63)])
    with pytest.raises(InvalidCommit, match="column 'minutes' is declared string but file 0 holds double"):
        commit(service, [lying], schema=[("order_id", "string"), ("minutes", "string")])
    with pytest.raises(InvalidCommit, match=r"columns the commit does not declare: \['minutes'\]"):
        commit(service, [lying], schema=[("order_id", "string")])
    assert catalog.tables == {}


def test_committed_files_can_never_be_named_by_a_commit(service: CatalogService, stored_file: MakeFile) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    [existing] = committed_paths(service)

    with pytest.raises(InvalidCommit, match="must be a staged file processed/orders/_staging/<run>"):
        commit(service, [DataFile(existing, "2024-05-01", 10)], mode="overwrite")
    assert committed_paths(service) == [existing]


def test_only_the_owner_writes_and_only_the_owning_job_overwrites(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    [existing] = committed_paths(service)
    attack = stored_file("processed.orders", "2024-05-01", 1, run="b")

    with pytest.raises(NotTableOwner, match=r"processed\.orders is written by data_processing, not data_collection"):
        commit(service, [attack], mode="overwrite", caller="data_collection")
    with pytest.raises(NotTableOwner, match="only the owning job 'process-orders' may overwrite"):
        commit(service, [attack], mode="overwrite", job="attacker")
    assert storage.exists(existing) and storage.exists(attack.path)

    assert commit(service, [attack], job="backfill") == 2  # the owner may append from another job
    assert commit(service, [stored_file("processed.orders", "2024-05-02", 2, run="c")], mode="overwrite") == 3


def test_a_retried_run_is_answered_with_its_version_once(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    first = stored_file("processed.orders", "2024-05-01", 0, run="s1-9")
    assert commit(service, [first]) == 1
    again = stored_file("processed.orders", "2024-05-01", 0, run="s1-9")  # the writer lost the answer, re-staged

    request = service.build_request("processed.orders", partition_column="nominal_date", schema=SCHEMA, files=[again],
                                    mode="append", job=JOB, inputs=[], caller="data_processing")  # fmt: skip
    replayed = service.commit(request)

    assert (replayed.version, replayed.replayed) == (1, True)
    assert service.table("processed.orders").snapshot.rows == 10
    assert not storage.exists(again.path)


def test_a_changed_column_type_is_a_conflict_and_nothing_changes(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    [existing] = committed_paths(service)
    staged = stored_file("processed.orders", "2024-05-01", 1, run="b")
    storage.put(staged.path, rows=10, columns=(("order_id", "string"), ("minutes", "string")))
    with pytest.raises(SchemaConflict, match="minutes"):
        commit(service, [staged], mode="overwrite_partitions", schema=[("order_id", "string"), ("minutes", "string")])
    assert service.table("processed.orders").snapshot.version == 1
    assert storage.exists(existing)  # an overwrite that was refused deletes nothing
    assert storage.exists(staged.path)  # and its files went back to staging


def test_losing_a_race_once_is_retried_on_the_new_version(
    service: CatalogService, catalog: InMemoryCatalog, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    rival = service.build_request(
        "processed.orders", partition_column="nominal_date", schema=SCHEMA, mode="append", job="rival", inputs=[],
        files=[stored_file("processed.orders", "2024-05-03", 9, run="rival")], caller="data_processing",
    )  # fmt: skip
    catalog.interlopers.append(
        plan_commit(catalog.snapshot(rival.table), rival, catalog.tables["processed.orders"].updated_at)
    )

    assert commit(service, [stored_file("processed.orders", "2024-05-02", 1, run="b")]) == 3
    assert [c.job for c in service.table("processed.orders").commits] == [JOB, "rival", JOB]


def test_losing_every_attempt_is_a_conflict(
    service: CatalogService, catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    snapshot = catalog.tables["processed.orders"]
    rival = service.build_request(
        "processed.orders", partition_column="nominal_date", schema=SCHEMA, mode="append", job="rival", inputs=[],
        files=[stored_file("processed.orders", "2024-05-03", 9, run="rival")], caller="data_processing",
    )  # fmt: skip
    first = plan_commit(snapshot, rival, snapshot.updated_at)
    second = replace(first, expected_version=2, version=3, added=())
    catalog.interlopers.extend([first, second])
    mine = stored_file("processed.orders", "2024-05-02", 1, run="b")

    with pytest.raises(ConcurrentCommit, match="changed during the commit 2 times"):
        commit(service, [mine])
    assert catalog.tables["processed.orders"].version == 3  # the rivals' versions, none lost or duplicated
    assert storage.exists(mine.path)  # back in staging


def test_unknown_mode_and_unknown_table(service: CatalogService, stored_file: MakeFile) -> None:
    with pytest.raises(InvalidCommit, match="mode: 'upsert' is not one of append"):
        commit(service, [stored_file("processed.orders", "2024-05-01", 0)], mode="upsert")
    with pytest.raises(TableNotFound, match=r"processed\.orders does not exist"):
        service.table("processed.orders")


def test_tables_lists_every_table_with_its_counts(service: CatalogService, stored_file: MakeFile) -> None:
    commit(
        service, [stored_file("processed.orders", "2024-05-01", 0), stored_file("processed.orders", "2024-05-02", 1)]
    )
    [summary] = service.tables()
    assert (summary.table.qualified, summary.version, summary.rows, summary.partitions) == (
        "processed.orders",
        1,
        20,
        2,
    )


def test_a_held_version_outlives_the_retention_period_and_only_it(
    catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    """A training run holds the version it read: once later commits replace it, its files stay (its model can be
    rebuilt from them) while an unheld version's go at the first commit after the retention (0 here)."""
    service = CatalogService(catalog, storage, clock=TickingClock(), retention=timedelta(0))
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    [held] = committed_paths(service)
    service.hold("processed.orders", 1, "etd training run r1")
    commit(service, [stored_file("processed.orders", "2024-05-01", 1, run="b")], mode="overwrite")
    [unheld] = committed_paths(service)
    commit(service, [stored_file("processed.orders", "2024-05-01", 2, run="c")], mode="overwrite")

    assert storage.exists(held) and service.table("processed.orders", 1).snapshot.version == 1
    assert not storage.exists(unheld)
    with pytest.raises(VersionFilesGone):
        service.hold("processed.orders", 2, "too late")
    with pytest.raises(VersionNotFound):
        service.hold("processed.orders", 9, "no such version")


def test_a_released_version_is_purged_by_the_next_commit_once_no_holder_keeps_it(
    catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    """Two training runs hold v1: releasing one keeps its files, releasing the other lets the next commit (retention
    0) delete them; the holds list shows who holds what, and a release of a hold that is not there is a 404."""
    service = CatalogService(catalog, storage, clock=TickingClock(), retention=timedelta(0))
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    [held] = committed_paths(service)
    service.hold("processed.orders", 1, "etd training run r1")
    service.hold("processed.orders", 1, "etd training run r2")
    commit(service, [stored_file("processed.orders", "2024-05-01", 1, run="b")], mode="overwrite")

    assert [(h.version, h.holder) for h in service.holds("processed.orders")] == [
        (1, "etd training run r1"), (1, "etd training run r2")]  # fmt: skip
    service.release("processed.orders", 1, "etd training run r1")
    commit(service, [stored_file("processed.orders", "2024-05-01", 2, run="c")], mode="overwrite")
    assert storage.exists(held)  # r2 still holds it

    service.release("processed.orders", 1, "etd training run r2")
    assert service.holds("processed.orders") == [] and storage.exists(held)  # a release deletes nothing itself
    commit(service, [stored_file("processed.orders", "2024-05-01", 3, run="d")], mode="overwrite")
    assert not storage.exists(held)
    with pytest.raises(VersionFilesGone):
        service.table("processed.orders", 1)


@pytest.mark.parametrize(
    ("table", "version", "holder", "error", "message"),
    [
        ("processed.orders", 1, "etd training run r9", HoldNotFound, "v1 is not held by 'etd training run r9'"),
        ("processed.orders", 1, "etd training run r1", HoldNotFound, "is not held by"),  # released already
        ("processed.orders", 7, "etd training run r1", VersionNotFound, "has no version 7"),
        ("processed.other", 1, "etd training run r1", TableNotFound, "table processed.other does not exist"),
    ],
    ids=["unknown-holder", "released-twice", "unknown-version", "unknown-table"],
)
def test_releasing_a_hold_that_is_not_there_says_what_is_missing(
    service: CatalogService, stored_file: MakeFile, table: str, version: int, holder: str,
    error: type[Exception], message: str,
) -> None:  # fmt: skip
    commit(service, [stored_file("processed.orders", "2024-05-01", 0, run="a")])
    service.hold("processed.orders", 1, "etd training run r1")
    service.release("processed.orders", 1, "etd training run r1")

    with pytest.raises(error, match=message):
        service.release(table, version, holder)


def test_the_holds_of_an_unknown_table_are_a_404(service: CatalogService) -> None:
    with pytest.raises(TableNotFound):
        service.holds("processed.nothing")
