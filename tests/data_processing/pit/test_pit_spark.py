"""Point-in-time join on Spark: the same hand-made cases, a few property examples, and the Spark training
set equal to the single-machine one."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_processing.jobs.pit_spark import SparkGroupRows, spark_point_in_time_join
from data_processing.jobs.training_set import run_training_set
from strata_kernel.lake import LakeClient, committed_files
from tests.data_processing.fakes import FakeCatalog
from tests.data_processing.pit.cases import (
    BATCH,
    STREAM,
    STREAM_EXPECTED,
    STREAM_ORDERS,
    STREAM_ROWS,
    FeatureRow,
    Order,
    feature_table,
    minutes,
    order_table,
    reference_join,
)
from tests.data_processing.pit.specs import ETD

pytestmark = pytest.mark.spark


def _frame(spark: Any, table: pa.Table) -> Any:
    return spark.createDataFrame(table.to_pylist(), schema=_ddl(table)) if table.num_rows else \
        spark.createDataFrame([], schema=_ddl(table))  # fmt: skip


def _ddl(table: pa.Table) -> str:
    kinds = {
        pa.string(): "string",
        pa.int64(): "bigint",
        pa.float64(): "double",
        pa.timestamp("us"): "timestamp_ntz",
        pa.timestamp("us", tz="UTC"): "timestamp_ltz",
    }
    return ", ".join(f"{field.name} {kinds[field.type]}" for field in table.schema)


def _join(spark: Any, orders: list[Order], rows: list[FeatureRow], group=STREAM, honour=None) -> dict:
    item = SparkGroupRows(group, _frame(spark, feature_table(rows, group)), honour)
    joined = spark_point_in_time_join(_frame(spark, order_table(orders)), "placed_at", [item], {group.name: ("value",)},
                                      time_zone="UTC")  # fmt: skip
    return {row["order_id"]: row[f"{group.name}__value"] for row in joined.collect()}


def test_stream_group_honours_event_time_created_at_and_ttl(spark: Any) -> None:
    assert _join(spark, STREAM_ORDERS, STREAM_ROWS) == STREAM_EXPECTED


def test_batch_group_ignores_the_job_time_in_created_at(spark: Any) -> None:
    job_time = minutes(60 * 24 * 30)
    rows = [("r-1", minutes(0), job_time, 1), ("r-1", minutes(60), job_time, 2)]
    orders = [("o-1", "r-1", minutes(30)), ("o-2", "r-1", minutes(60)), ("o-3", "r-1", minutes(-5))]
    assert _join(spark, orders, rows, BATCH) == {"o-1": 1, "o-2": 2, "o-3": None}


_times = st.integers(0, 8).map(lambda m: minutes(m * 10))
_rows = st.lists(
    st.tuples(st.sampled_from(["r-1", "r-2"]), _times, st.integers(0, 3), st.integers(-99, 99)),
    max_size=12,
    unique_by=lambda r: (r[0], r[1], r[2]),
)
_orders = st.lists(st.tuples(st.sampled_from(["r-1", "r-2", "r-3"]), _times), min_size=1, max_size=12)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_rows, _orders, st.booleans())
def test_matches_the_brute_force_reference(spark: Any, raw_rows: list, raw_orders: list, honour: bool) -> None:
    rows = [(e, t, t + timedelta(minutes=15 * lag), v) for e, t, lag, v in raw_rows]
    orders = [(f"o-{i}", e, t) for i, (e, t) in enumerate(raw_orders)]
    group = dataclasses.replace(STREAM, ttl=timedelta(minutes=45))
    assert _join(spark, orders, rows, group, honour) == reference_join(
        orders, rows, group.ttl, honour_created_at=honour
    )


def test_a_local_time_spine_against_utc_features_gets_the_oracles_answer(spark: Any) -> None:
    from tests.data_processing.pit import test_pit_time_zones as zones

    spine = zones._spine([o[2] for o in zones.LOCAL_ORDERS], pa.timestamp("us"))
    item = SparkGroupRows(zones.GROUP, _frame(spark, zones._features()))
    joined = spark_point_in_time_join(_frame(spark, spine), "placed_at", [item], {"station": ("value",)},
                                      time_zone="Europe/Madrid")  # fmt: skip
    assert {row["order_id"]: row["station__value"] for row in joined.collect()} == zones._oracle()


def _seed(client: LakeClient) -> None:
    # the history starts 10 days before the 12 orders trained on: its first week is ETD's burn-in (never trained on)
    placed = [datetime(2024, 12, 31, 8)] + [datetime(2025, 1, 10, 8) + timedelta(hours=5 * i) for i in range(12)]
    orders = pa.table(
        {
            "order_id": ["o-early"] + [f"o-{i}" for i in range(12)],
            "restaurant_id": ["r-0"] + [f"r-{i % 3}" for i in range(12)],
            "city_id": ["c-1"] * 13,
            "country_code": ["ES"] * 13,
            "placed_at": pa.array(placed, pa.timestamp("us")),
            "n_items": pa.array([1] + [1 + i % 4 for i in range(12)], pa.int64()),
            "subtotal": [9.5] + [9.5 + i for i in range(12)],
            "delivery_minutes": [25.0] + [25.0 + i for i in range(12)],
            "nominal_date": [p.date().isoformat() for p in placed],
        }
    )
    days = [datetime(2025, 1, 9) + timedelta(days=d) for d in range(3)]
    stats = pa.table(
        {
            "restaurant_id": [f"r-{r}" for r in (0, 1) for _ in days],
            "feature_time": pa.array(days * 2, pa.timestamp("us")),
            "created_at": pa.array([datetime(2025, 3, 1)] * 6, pa.timestamp("us")),
            "order_count_7d": pa.array([4, 5, 6, 0, 1, 2], pa.int64()),
            "avg_prep_minutes_7d": [10.0, 11.0, None, 7.0, 8.0, 9.0],
            "avg_delivery_minutes_7d": [30.0, 33.0, 35.0, 20.0, 0.0, 22.0],
            "nominal_date": [d.date().isoformat() for d in days * 2],
        }
    )
    client.write_arrow("processed.orders", orders, partition_column="nominal_date", job="seed", inputs=[])
    client.write_arrow("features.restaurant_stats", stats, partition_column="nominal_date", job="seed", inputs=[])


def test_spark_training_set_equals_the_single_machine_one(spark: Any, lake: tuple[LakeClient, FakeCatalog]) -> None:
    client, catalog = lake
    _seed(client)

    local = run_training_set(client, ETD)
    local_rows = _training_rows(client)
    on_spark = run_training_set(client, ETD, spark=lambda: spark, spark_min_rows=None)
    spark_rows = _training_rows(client)

    assert (local["engine"], on_spark["engine"], on_spark["rows"]) == ("local", "spark", 12)
    assert spark_rows == local_rows
    assert sum(row["restaurant_stats__order_count_7d"] is None for row in spark_rows) == 4  # r-2 has no stats
    assert on_spark["feature_set"] == local["feature_set"]
    assert (
        catalog.tables["processed.etd_training_set"]["commits"][-1]["inputs"][-1]
        == f"feature_set:{local['feature_set']}"
    )


def _training_rows(client: LakeClient) -> list[dict[str, Any]]:
    import duckdb

    files = committed_files(client.table("processed.etd_training_set"))  # the version's files, as readers read
    query = "SELECT * FROM read_parquet(?, hive_partitioning=false) ORDER BY order_id"
    relation = duckdb.sql(query, params=[files])
    assert relation is not None  # None only for a statement that returns no rows, never a SELECT
    return relation.to_arrow_table().to_pylist()
