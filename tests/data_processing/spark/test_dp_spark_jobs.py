"""Spark jobs on tiny data: restaurant_stats by hand, process-orders (also on orders the collector landed twice),
and online/offline consistency."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from data_collection.adapters.lake import LakeClientRawLake
from data_collection.bootstrap import bootstrap as collection_bootstrap
from data_collection.domain.events import ORDER_DELIVERED_TOPIC, ORDER_PLACED_TOPIC, ORDER_TOPICS
from data_collection.settings import Settings as CollectionSettings
from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.domain.orders import OrderContext
from data_processing.jobs.build_features import run_build_features
from data_processing.jobs.process_orders import ORDER_COLUMNS, run_process_orders
from data_processing.jobs.training_set import GroupRows, point_in_time_join, run_training_set
from data_processing.registry import FeatureGroupRegistry
from data_processing.settings import Settings
from strata_kernel.contracts.events import OrderDelivered, OrderPlaced
from strata_kernel.eventlog.local import LocalEventLog
from strata_kernel.lake import LakeClient, committed_files
from tests.data_processing.fakes import FakeCatalog, RecordingInferenceEngine
from tests.data_processing.orders_data import ORDERS, seed_raw
from tests.data_processing.pit.specs import ETD, ETD_FEATURE_SET, etd_estimator
from tests.support import RebalancedEventLog, committed_rows

pytestmark = pytest.mark.spark
REGISTRY = FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir())
STATS = ("order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")


def _orders_frame(spark: Any) -> Any:
    rows = [(rid, placed + timedelta(minutes=d), p, d) for _, rid, placed, p, d in ORDERS]
    return spark.createDataFrame(rows, "restaurant_id string, delivered_at timestamp_ntz, prep_minutes double, "
                                       "delivery_minutes double")  # fmt: skip


def test_restaurant_stats_aggregates_the_seven_days_before_each_day(spark: Any) -> None:
    compute = REGISTRY.transform("restaurant_stats")
    # r-1 deliveries: 01-06 12:00, 01-08 20:00, 01-13 23:00 -> default as_of = 01-14 (day after the newest)
    rows = {
        (r.restaurant_id, r.feature_time): tuple(r[s] for s in STATS) for r in compute(_orders_frame(spark)).collect()
    }

    assert rows[("r-1", datetime(2025, 1, 7))] == (1, 10.0, 30.0)
    assert rows[("r-1", datetime(2025, 1, 13))] == (2, 15.0, 35.0)  # window [01-06, 01-13)
    assert rows[("r-1", datetime(2025, 1, 14))] == (2, 25.0, 45.0)  # window [01-07, 01-14)
    assert ("r-1", datetime(2025, 1, 6)) not in rows  # a delivery at 12:00 is not in the day's own snapshot
    assert max(day for _, day in rows) == datetime(2025, 1, 14)
    assert len([1 for rid, _ in rows if rid == "r-1"]) == 8  # 01-07 .. 01-14


def _read(lake: LakeClient, table: str) -> Any:
    return committed_rows(lake.table(table))


def test_process_orders_deduplicates_joins_and_records_lineage(
    spark: Any, lake: tuple[LakeClient, FakeCatalog]
) -> None:
    client, catalog = lake
    seed_raw(client)

    result = run_process_orders(spark, client)

    rows = sorted(_read(client, "processed.orders"), key=lambda r: r["order_id"])
    assert [r["order_id"] for r in rows] == ["o-1", "o-2", "o-3", "o-4"]  # o-5 never delivered
    assert set(rows[0]) == set(ORDER_COLUMNS)
    assert (rows[0]["placed_at"], rows[0]["delivery_minutes"], rows[0]["nominal_date"]) == (
        datetime(2025, 1, 6, 11, 30), 30.0, "2025-01-06")  # fmt: skip
    assert result["rows"] == 4
    commit = catalog.tables["processed.orders"]["commits"][-1]
    assert (commit["mode"], commit["inputs"]) == ("overwrite", ["raw.order_placed@v1", "raw.order_delivered@v1"])
    assert not list(client.table_dir("processed.orders").glob("_staging/**/*.parquet"))  # all moved in


def test_orders_the_collector_landed_twice_after_a_refused_commit_are_processed_once(
    spark: Any, lake: tuple[LakeClient, FakeCatalog], tmp_path: Path
) -> None:
    """data_collection commits a batch's offsets after the lake commit; a rebalance refuses that commit (a warning,
    strata_kernel.eventlog.kafka) and the batch comes again. The raw zone is at-least-once and lands it twice;
    processed.orders, the table the features and training sets are built from, holds each order once."""
    client, _ = lake
    log = RebalancedEventLog(LocalEventLog(tmp_path / "eventlog"), ORDER_TOPICS)
    placed = [OrderPlaced(event_id=f"e-{oid}", order_id=oid, restaurant_id=rid, city_id="c-1", country_code="ES",
                          placed_at=at, n_items=2, subtotal=20.5) for oid, rid, at, _, _ in ORDERS]  # fmt: skip
    delivered = [OrderDelivered(event_id=f"d-{oid}", order_id=oid, restaurant_id=rid, placed_at=at,
                                delivered_at=at + timedelta(minutes=minutes), prep_minutes=prep,
                                delivery_minutes=minutes) for oid, rid, at, prep, minutes in ORDERS]  # fmt: skip
    log.publish(ORDER_PLACED_TOPIC, [event.to_wire() for event in placed])
    log.publish(ORDER_DELIVERED_TOPIC, [event.to_wire() for event in delivered])
    settings = CollectionSettings(var_dir=tmp_path / "var", poll_timeout_seconds=0.05)
    collector = collection_bootstrap(settings, event_log=log, lake=LakeClientRawLake(client)).collector()

    assert collector.run_until_idle() == 2 * 2 * len(ORDERS)  # each event twice
    collector.close()
    assert sorted(log.refused) == sorted(ORDER_TOPICS)
    assert len(_read(client, "raw.order_placed")) == len(_read(client, "raw.order_delivered")) == 2 * len(ORDERS)

    run_process_orders(spark, client)

    rows = _read(client, "processed.orders")
    assert sorted(r["order_id"] for r in rows) == sorted(oid for oid, *_ in ORDERS)


def test_online_values_equal_the_training_join_right_after_the_newest_feature_time(
    spark: Any, lake: tuple[LakeClient, FakeCatalog], tmp_path: Path
) -> None:
    client, catalog = lake
    seed_raw(client)
    run_process_orders(spark, client)
    store = SqliteOnlineStore(tmp_path / "online.db")

    built = run_build_features(spark, client, REGISTRY, store, "restaurant_stats", now=datetime(2025, 3, 1))
    training = run_training_set(client, ETD)

    # o-1..o-4 delivered; ETD trains only on orders placed 7 days or more after the first (its burn-in): o-3
    assert (built["online_version"], training["rows"]) == (1, 1)
    inputs = catalog.tables["processed.etd_training_set"]["commits"][-1]["inputs"]
    assert inputs[:2] == ["processed.orders@v1", "features.restaurant_stats@v1"]
    assert inputs[2].startswith("feature_set:processed/etd_training_set/_feature_sets/")
    info = client.table("features.restaurant_stats")
    relation = duckdb.sql("SELECT * FROM read_parquet(?)", params=[committed_files(info)])
    assert relation is not None  # None only for a statement that returns no rows, never a SELECT
    offline = relation.to_arrow_table()
    engine = RecordingInferenceEngine()
    estimator = etd_estimator(store, engine)
    for restaurant in ("r-1", "r-2"):
        newest = store.current_version("restaurant_stats")
        online = store.get("restaurant_stats", restaurant)
        assert newest is not None and online is not None
        placed_at = online["feature_time"] + timedelta(minutes=1)
        estimator.estimate(OrderContext(restaurant, "c-1", "ES", placed_at, n_items=2, subtotal=20.5))
        probe = duckdb.sql(f"SELECT 'probe' AS order_id, '{restaurant}' AS restaurant_id, "
                           f"TIMESTAMP '{placed_at}' AS placed_at")  # fmt: skip
        assert probe is not None
        spine = probe.to_arrow_table()
        joined = point_in_time_join(spine, "placed_at", [GroupRows(REGISTRY.get("restaurant_stats"), offline)],
                                    ETD_FEATURE_SET.stored_groups(), time_zone="UTC").to_pylist()[0]  # fmt: skip
        served = engine.instances[-1]
        stored = [c for c in ETD_FEATURE_SET.columns if c.startswith("restaurant_stats__")]
        assert {c: served[c] for c in stored} == {c: joined[c] for c in stored}
        assert served["restaurant_stats__order_count_7d"] is not None
