"""Rules of table names, file paths, schemas and versions (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from data_lake.domain.commits import CommitRequest, DataFile, Lineage, Mode, TableSnapshot, plan_commit, validate_files
from data_lake.domain.schema import Column, evolve_schema, parse_schema, type_kind
from data_lake.domain.tables import TableName
from data_lake.errors import InvalidCommit, InvalidTableName, SchemaConflict

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


def test_file_must_sit_in_its_partition_directory_of_the_table() -> None:
    good = DataFile("processed/orders/nominal_date=2024-05-01/part-a-0.parquet", "2024-05-01", 3)
    assert validate_files(ORDERS, "nominal_date", [good]) == (good,)


@pytest.mark.parametrize(
    ("path", "partition", "fragment"),
    [
        ("processed/other/nominal_date=2024-05-01/p.parquet", "2024-05-01", "outside the table directory"),
        ("processed/orders/../other/nominal_date=2024-05-01/p.parquet", "2024-05-01", "plain relative path"),
        ("/processed/orders/nominal_date=2024-05-01/p.parquet", "2024-05-01", "plain relative path"),
        ("processed/orders/p.parquet", "2024-05-01", "nominal_date=<value>/<file>.parquet"),
        ("processed/orders/_staging/run/p.parquet", "2024-05-01", "nominal_date=<value>/<file>.parquet"),
        ("processed/orders/_x=1/p.parquet", "1", "hidden or staging"),
        ("processed/orders/day=2024-05-01/p.parquet", "2024-05-01", "not under a nominal_date=<value>"),
        ("processed/orders/nominal_date=2024-05-01/p.csv", "2024-05-01", "<file>.parquet"),
        ("processed/orders/nominal_date=2024-05-02/p.parquet", "2024-05-01", "does not match the directory"),
    ],
)
def test_misplaced_files_are_refused_naming_the_field(path: str, partition: str, fragment: str) -> None:
    with pytest.raises(InvalidCommit, match=fragment) as caught:
        validate_files(ORDERS, "nominal_date", [DataFile(path, partition, 1)])
    assert caught.value.field is not None and caught.value.field.startswith("files.0.")


def test_empty_file_list_and_duplicates_are_refused() -> None:
    with pytest.raises(InvalidCommit, match="at least one file"):
        validate_files(ORDERS, "nominal_date", [])
    twice = DataFile("processed/orders/nominal_date=2024-05-01/p.parquet", "2024-05-01", 1)
    with pytest.raises(InvalidCommit, match="listed twice"):
        validate_files(ORDERS, "nominal_date", [twice, twice])


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
    return CommitRequest(ORDERS, "nominal_date", schema, files, mode, Lineage.of("job", ["raw.a@v1", "raw.a@v1"]))


def _file(day: str, name: str, rows: int) -> DataFile:
    return DataFile(f"processed/orders/nominal_date={day}/{name}.parquet", day, rows)


def _snapshot(*files: DataFile) -> TableSnapshot:
    return TableSnapshot(ORDERS, "nominal_date", (Column("order_id", "string"),), 3, files, AT)


def test_lineage_keeps_inputs_once_in_order() -> None:
    assert _request(Mode.APPEND, _file("2024-05-01", "a", 1)).lineage.inputs == ("raw.a@v1",)


def test_overwrite_partitions_supersedes_only_the_partitions_written() -> None:
    current = _snapshot(_file("2024-05-01", "old", 5), _file("2024-05-02", "keep", 7))
    planned = plan_commit(current, _request(Mode.OVERWRITE_PARTITIONS, _file("2024-05-01", "new", 2)), AT)
    assert planned.version == 4 and planned.expected_version == 3
    assert planned.superseded == ("processed/orders/nominal_date=2024-05-01/old.parquet",)
    assert (planned.rows, planned.table_rows) == (2, 9)


def test_overwrite_supersedes_everything_but_a_file_committed_again() -> None:
    same = _file("2024-05-02", "same", 7)
    current = _snapshot(_file("2024-05-01", "old", 5), same)
    planned = plan_commit(current, _request(Mode.OVERWRITE, same), AT)
    assert planned.superseded == ("processed/orders/nominal_date=2024-05-01/old.parquet",)
    assert planned.table_rows == 7


def test_appending_a_file_already_in_the_table_is_refused() -> None:
    existing = _file("2024-05-01", "old", 5)
    with pytest.raises(InvalidCommit, match=r"already part of processed\.orders"):
        plan_commit(_snapshot(existing), _request(Mode.APPEND, existing), AT)


def test_changing_the_partition_column_is_a_conflict() -> None:
    current = TableSnapshot(ORDERS, "day", (), 1, (), AT)
    with pytest.raises(SchemaConflict, match="partitioned by 'day'"):
        plan_commit(current, _request(Mode.APPEND, _file("2024-05-01", "a", 1)), AT)
