"""The commit use case over fakes at the ports: versions, lineage, overwrites, races, refusals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from lake_fakes import InMemoryCatalog, InMemoryStorage

from data_lake.domain.commits import DataFile, plan_commit
from data_lake.errors import ConcurrentCommit, InvalidCommit, SchemaConflict, TableNotFound
from data_lake.services import CatalogService

MakeFile = Callable[..., DataFile]
SCHEMA = [("order_id", "string"), ("delivery_minutes", "double")]


def commit(
    service: CatalogService, files: list[DataFile], *, mode: str = "append", schema: list[tuple[str, str]] = SCHEMA
) -> int:
    request = service.build_request(
        "processed.orders",
        partition_column="nominal_date",
        schema=schema,
        files=files,
        mode=mode,
        job="process-orders",
        inputs=["raw.order_placed@v1"],
    )
    return service.commit(request).version


def test_commits_make_versions_with_lineage_and_partition_counts(
    service: CatalogService, stored_file: MakeFile
) -> None:
    assert commit(service, [stored_file("processed.orders", "2024-05-01", 0, rows=4)]) == 1
    assert (
        commit(
            service,
            [
                stored_file("processed.orders", "2024-05-01", 1, rows=6),
                stored_file("processed.orders", "2024-05-02", 2, rows=1),
            ],
        )
        == 2
    )

    details = service.table("processed.orders")
    assert details.snapshot.version == 2 and details.snapshot.rows == 11
    assert [(p.value, p.rows, p.files) for p in details.partitions] == [("2024-05-01", 10, 2), ("2024-05-02", 1, 1)]
    assert [(c.version, c.job, c.inputs, c.rows) for c in details.commits] == [
        (1, "process-orders", ("raw.order_placed@v1",), 4),
        (2, "process-orders", ("raw.order_placed@v1",), 7),
    ]


def test_overwrite_partitions_deletes_superseded_files_after_recording(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    old = stored_file("processed.orders", "2024-05-01", 0)
    other_day = stored_file("processed.orders", "2024-05-02", 1)
    commit(service, [old, other_day])
    new = stored_file("processed.orders", "2024-05-01", 2, rows=3)

    commit(service, [new], mode="overwrite_partitions")

    assert not storage.exists(old.path)
    assert storage.exists(other_day.path) and storage.exists(new.path)
    assert service.table("processed.orders").snapshot.rows == 13


def test_missing_or_empty_file_is_refused_and_nothing_changes(
    service: CatalogService, catalog: InMemoryCatalog, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    present = stored_file("processed.orders", "2024-05-01", 0)
    missing = DataFile("processed/orders/nominal_date=2024-05-01/ghost.parquet", "2024-05-01", 1)
    with pytest.raises(InvalidCommit, match=r"files.1.path: .*ghost.parquet' does not exist"):
        commit(service, [present, missing])
    storage.put(missing.path, size=0)
    with pytest.raises(InvalidCommit, match="is empty"):
        commit(service, [present, missing])
    assert catalog.tables == {}


def test_a_changed_column_type_is_a_conflict_and_nothing_changes(
    service: CatalogService, storage: InMemoryStorage, stored_file: MakeFile
) -> None:
    first = stored_file("processed.orders", "2024-05-01", 0)
    commit(service, [first])
    with pytest.raises(SchemaConflict, match="delivery_minutes"):
        commit(
            service,
            [stored_file("processed.orders", "2024-05-01", 1)],
            mode="overwrite",
            schema=[("order_id", "string"), ("delivery_minutes", "string")],
        )
    assert service.table("processed.orders").snapshot.version == 1
    assert storage.exists(first.path)  # an overwrite that was refused deletes nothing


def test_losing_a_race_once_is_retried_on_the_new_version(
    service: CatalogService, catalog: InMemoryCatalog, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0)])
    rival = service.build_request(
        "processed.orders",
        partition_column="nominal_date",
        schema=SCHEMA,
        files=[stored_file("processed.orders", "2024-05-03", 9)],
        mode="append",
        job="rival",
        inputs=[],
    )
    catalog.interlopers.append(
        plan_commit(catalog.snapshot(rival.table), rival, catalog.tables["processed.orders"].updated_at)
    )

    assert commit(service, [stored_file("processed.orders", "2024-05-02", 1)]) == 3
    assert [c.job for c in service.table("processed.orders").commits] == ["process-orders", "rival", "process-orders"]


def test_losing_every_attempt_is_a_conflict(
    service: CatalogService, catalog: InMemoryCatalog, stored_file: MakeFile
) -> None:
    commit(service, [stored_file("processed.orders", "2024-05-01", 0)])
    snapshot = catalog.tables["processed.orders"]
    rival = service.build_request(
        "processed.orders",
        partition_column="nominal_date",
        schema=SCHEMA,
        files=[stored_file("processed.orders", "2024-05-03", 9)],
        mode="append",
        job="rival",
        inputs=[],
    )
    first = plan_commit(snapshot, rival, snapshot.updated_at)
    second = replace(first, expected_version=2, version=3, added=())
    catalog.interlopers.extend([first, second])

    with pytest.raises(ConcurrentCommit, match="changed during the commit 2 times"):
        commit(service, [stored_file("processed.orders", "2024-05-02", 1)])
    assert catalog.tables["processed.orders"].version == 3  # the rivals' versions, none lost or duplicated


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
