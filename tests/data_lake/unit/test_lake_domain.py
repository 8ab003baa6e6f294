"""Rules of table names, file paths, schemas and versions (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from data_lake.domain.commits import (
    CommitRequest,
    DataFile,
    Lineage,
    Mode,
    Owner,
    TableSnapshot,
    check_writer,
    plan_commit,
    validate_files,
)
from data_lake.domain.schema import Column, evolve_schema, parse_schema, type_kind
from data_lake.domain.tables import TableName
from data_lake.errors import InvalidCommit, InvalidTableName, NotTableOwner, SchemaConflict

ORDERS = TableName("processed", "orders")
AT = datetime(2024, 5, 1, tzinfo=UTC)


def test_table_name_parses_zone_and_name() -> None:
    name = TableName.parse("processed.etd_training_set")
    assert (name.zone, name.name, name.location) == ("processed", "etd_training_set", "processed/etd_training_set")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("gold.orders", "unknown zone 'gold'"),
        ("orders", "must be '<zone>.<name>'"),
        ("raw.Orders", "must start with a letter"),
        ("raw.", "must start with a letter"),
        ("raw.a/b", "must start with a letter"),
    ],
)
def test_bad_table_names_are_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(InvalidTableName, match=fragment):
        TableName.parse(text)


def test_a_commit_names_staged_files_and_the_catalog_names_their_place() -> None:
    staged = DataFile("processed/orders/_staging/run-7/nominal_date=2024-05-01/part-0.parquet", "2024-05-01", 3)
    [file] = validate_files(ORDERS, "nominal_date", [staged])
    assert (file.source, file.target, file.rows) == (
        staged.path,
        "processed/orders/nominal_date=2024-05-01/part-run-7-0.parquet",
        3,
    )


@pytest.mark.parametrize(
    ("path", "partition", "fragment"),
    [
        ("processed/orders/nominal_date=2024-05-01/p.parquet", "2024-05-01", "must be a staged file"),
        ("processed/other/_staging/r/nominal_date=2024-05-01/p.parquet", "2024-05-01", "must be a staged file"),
        ("processed/orders/_staging/r/../../nominal_date=2024-05-01/p.parquet", "2024-05-01", "plain relative path"),
        ("/processed/orders/_staging/r/nominal_date=2024-05-01/p.parquet", "2024-05-01", "plain relative path"),
        ("processed/orders/_staging/r/p.parquet", "2024-05-01", "must be a staged file"),
        ("processed/orders/_staging/.r/nominal_date=2024-05-01/p.parquet", "2024-05-01", "unusable run directory"),
        ("processed/orders/_staging/r/nominal_date=_x/p.parquet", "_x", "not under a nominal_date=<value>"),
        ("processed/orders/_staging/r/day=2024-05-01/p.parquet", "2024-05-01", "not under a nominal_date=<value>"),
        ("processed/orders/_staging/r/nominal_date=2024-05-01/p.csv", "2024-05-01", "unusable run directory or file"),
        ("processed/orders/_staging/r/nominal_date=2024-05-02/p.parquet", "2024-05-01", "does not match the directory"),
    ],
)
def test_misplaced_files_are_refused_naming_the_field(path: str, partition: str, fragment: str) -> None:
    with pytest.raises(InvalidCommit, match=fragment) as caught:
        validate_files(ORDERS, "nominal_date", [DataFile(path, partition, 1)])
    assert caught.value.field is not None and caught.value.field.startswith("files.0.")


def test_empty_file_list_duplicates_and_two_runs_are_refused() -> None:
    with pytest.raises(InvalidCommit, match="at least one file"):
        validate_files(ORDERS, "nominal_date", [])
    twice = _file("2024-05-01", "p", 1)
    with pytest.raises(InvalidCommit, match="listed twice"):
        validate_files(ORDERS, "nominal_date", [twice, twice])
    other_run = DataFile("processed/orders/_staging/other/nominal_date=2024-05-01/q.parquet", "2024-05-01", 1)
    with pytest.raises(InvalidCommit, match="one staging run"):
        validate_files(ORDERS, "nominal_date", [twice, other_run])


def test_the_owner_is_the_first_commits_caller_and_job() -> None:
    owner = Owner("data_collection", "data_collection.collect")
    check_writer(ORDERS, None, Lineage.of("anything", [], "data_lake"), Mode.OVERWRITE)  # a new table: the first wins
    check_writer(ORDERS, owner, Lineage.of("data_collection.collect", [], "data_collection"), Mode.OVERWRITE)
    check_writer(ORDERS, owner, Lineage.of("data_collection.backfill", [], "data_collection"), Mode.APPEND)
    with pytest.raises(NotTableOwner, match="written by data_collection, not data_processing"):
        check_writer(ORDERS, owner, Lineage.of("data_collection.collect", [], "data_processing"), Mode.APPEND)
    with pytest.raises(NotTableOwner, match="only the owning job"):
        check_writer(ORDERS, owner, Lineage.of("attacker", [], "data_collection"), Mode.OVERWRITE_PARTITIONS)
    legacy = Owner(None, "data_collection.collect")  # recorded before callers were authenticated: the job decides
    check_writer(ORDERS, legacy, Lineage.of("data_collection.collect", [], "data_lake"), Mode.OVERWRITE)


@pytest.mark.parametrize(
    ("before", "after"),
    [("int32", "int64"), ("timestamp[ms]", "timestamp[us]"), ("string", "large_string"), ("float", "double")],
)
def test_width_and_unit_changes_keep_the_column_kind(before: str, after: str) -> None:
    assert type_kind(before) == type_kind(after)


@pytest.mark.parametrize("type_name", ["timestamp[ns]", "timestamp[ns, tz=UTC]", "TIMESTAMP[NS, tz=Europe/Madrid]"])
def test_nanosecond_timestamps_are_refused_naming_the_column(type_name: str) -> None:
    with pytest.raises(InvalidCommit, match=r"'placed_at' is .*nanosecond timestamps cannot be read") as caught:
        parse_schema([("order_id", "string"), ("placed_at", type_name)])
    assert caught.value.field == "schema.1.type"
    assert parse_schema([("placed_at", "timestamp[us, tz=UTC]")])  # microseconds, with or without a zone, are fine


def test_new_columns_are_added_and_a_changed_kind_is_a_conflict() -> None:
    v1 = (Column("order_id", "string"), Column("rows", "int64"))
    assert evolve_schema(v1, (Column("order_id", "string"), Column("extra", "double")), replace=False) == (
        *v1,
        Column("extra", "double"),
    )
    with pytest.raises(SchemaConflict, match="'rows' changes type from int64 to string"):
        evolve_schema(v1, (Column("rows", "string"),), replace=False)


def _request(mode: Mode, *files: DataFile) -> CommitRequest:
    schema = (Column("order_id", "string"),)
    staged = validate_files(ORDERS, "nominal_date", files)
    lineage = Lineage.of("job", ["raw.a@v1", "raw.a@v1"], "data_processing")
    return CommitRequest(ORDERS, "nominal_date", schema, staged, mode, lineage, "run")


def _file(day: str, name: str, rows: int) -> DataFile:
    return DataFile(f"processed/orders/_staging/run/nominal_date={day}/{name}.parquet", day, rows)


def _committed(day: str, name: str, rows: int) -> DataFile:
    return DataFile(f"processed/orders/nominal_date={day}/{name}.parquet", day, rows)


def _snapshot(*files: DataFile) -> TableSnapshot:
    return TableSnapshot(ORDERS, "nominal_date", (Column("order_id", "string"),), 3, files, AT)


def test_lineage_keeps_inputs_once_in_order() -> None:
    assert _request(Mode.APPEND, _file("2024-05-01", "a", 1)).lineage.inputs == ("raw.a@v1",)


def test_overwrite_partitions_supersedes_only_the_partitions_written() -> None:
    current = _snapshot(_committed("2024-05-01", "old", 5), _committed("2024-05-02", "keep", 7))
    planned = plan_commit(current, _request(Mode.OVERWRITE_PARTITIONS, _file("2024-05-01", "new", 2)), AT)
    assert planned.version == 4 and planned.expected_version == 3
    assert planned.superseded == ("processed/orders/nominal_date=2024-05-01/old.parquet",)
    assert (planned.rows, planned.table_rows) == (2, 9)


def test_overwrite_supersedes_every_file_of_the_current_version_and_only_those() -> None:
    current = _snapshot(_committed("2024-05-01", "old", 5), _committed("2024-05-02", "older", 7))
    planned = plan_commit(current, _request(Mode.OVERWRITE, _file("2024-05-02", "new", 4)), AT)
    assert planned.superseded == (
        "processed/orders/nominal_date=2024-05-01/old.parquet",
        "processed/orders/nominal_date=2024-05-02/older.parquet",
    )
    assert planned.added[0].path == "processed/orders/nominal_date=2024-05-02/part-run-0.parquet"
    assert planned.table_rows == 4


def test_a_run_already_in_the_table_is_refused() -> None:
    existing = DataFile("processed/orders/nominal_date=2024-05-01/part-run-0.parquet", "2024-05-01", 5)
    with pytest.raises(InvalidCommit, match=r"its run is already part of processed\.orders"):
        plan_commit(_snapshot(existing), _request(Mode.OVERWRITE, _file("2024-05-01", "again", 5)), AT)


def test_changing_the_partition_column_is_a_conflict() -> None:
    current = TableSnapshot(ORDERS, "day", (), 1, (), AT)
    with pytest.raises(SchemaConflict, match="partitioned by 'day'"):
        plan_commit(current, _request(Mode.APPEND, _file("2024-05-01", "a", 1)), AT)
