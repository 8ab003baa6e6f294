"""Point-in-time join correctness on tiny hand-made data."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from data_processing.jobs.training_set import GroupRows, build_training_set, point_in_time_join
from data_processing.registry import FeatureGroupRegistry
from data_processing.settings import Settings
from tests.data_processing.pit.specs import ETD, ETD_FEATURE_SET

GROUP = FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir()).get("restaurant_stats")
FEATURES: dict[str, tuple[str, ...]] = {"restaurant_stats": ("order_count_7d",)}
JOB_TIME = datetime(2025, 3, 1)  # created_at is the (late) job time: must not hide any row


def _features(rows: list[tuple[str, datetime, int]], created_at: datetime = JOB_TIME) -> GroupRows:
    table = pa.table(
        {
            "restaurant_id": [r[0] for r in rows],
            "feature_time": pa.array([r[1] for r in rows], pa.timestamp("us")),
            "created_at": pa.array([created_at] * len(rows), pa.timestamp("us")),
            "order_count_7d": pa.array([r[2] for r in rows], pa.int64()),
            "avg_prep_minutes_7d": pa.array([10.0] * len(rows)),
            "avg_delivery_minutes_7d": pa.array([30.0] * len(rows)),
        }
    )
    return GroupRows(GROUP, table)


def _orders(rows: list[tuple[str, str, datetime]]) -> pa.Table:
    return pa.table(
        {
            "order_id": [r[0] for r in rows],
            "restaurant_id": [r[1] for r in rows],
            "placed_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
        }
    )


def _join(orders: pa.Table, features: GroupRows) -> dict[str, int | None]:
    joined = point_in_time_join(orders, "placed_at", [features], FEATURES, time_zone="UTC")
    return dict(
        zip(
            joined.column("order_id").to_pylist(),
            joined.column("restaurant_stats__order_count_7d").to_pylist(),
            strict=True,
        )
    )


FEATURE_ROWS = [("r-1", datetime(2025, 1, 10), 5), ("r-1", datetime(2025, 1, 11), 6), ("r-2", datetime(2025, 1, 11), 9)]


def test_each_order_gets_the_newest_row_at_or_before_its_time() -> None:
    orders = _orders(
        [
            ("at-exactly", "r-1", datetime(2025, 1, 11)),
            ("just-before", "r-1", datetime(2025, 1, 10, 23, 59, 59)),
            ("later", "r-1", datetime(2025, 1, 12, 8)),
        ]
    )
    assert _join(orders, _features(FEATURE_ROWS)) == {"at-exactly": 6, "just-before": 5, "later": 6}


def test_rows_from_the_future_are_never_used() -> None:
    orders = _orders([("too-early", "r-2", datetime(2025, 1, 10, 23))])
    assert _join(orders, _features(FEATURE_ROWS)) == {"too-early": None}


def test_rows_older_than_the_ttl_expire() -> None:
    ttl = GROUP.ttl
    orders = _orders(
        [
            ("at-ttl", "r-1", datetime(2025, 1, 11) + ttl),
            ("past-ttl", "r-1", datetime(2025, 1, 11) + ttl + timedelta(seconds=1)),
        ]
    )
    assert _join(orders, _features(FEATURE_ROWS)) == {"at-ttl": 6, "past-ttl": None}


def test_orders_without_features_are_kept_in_their_order() -> None:
    orders = _orders([("b", "r-unknown", datetime(2025, 1, 11, 9)), ("a", "r-2", datetime(2025, 1, 11, 9))])
    joined = point_in_time_join(orders, "placed_at", [_features(FEATURE_ROWS)], FEATURES, time_zone="UTC")
    assert joined.column("order_id").to_pylist() == ["b", "a"]
    assert joined.column("restaurant_stats__order_count_7d").to_pylist() == [None, 9]


def test_a_rerun_duplicate_row_resolves_to_the_newest_created_at() -> None:
    old = _features([("r-1", datetime(2025, 1, 11), 1)], created_at=datetime(2025, 2, 1)).rows
    new = _features([("r-1", datetime(2025, 1, 11), 2)], created_at=datetime(2025, 2, 2)).rows
    both = GroupRows(GROUP, pa.concat_tables([new, old]))
    assert _join(_orders([("o", "r-1", datetime(2025, 1, 11, 12))]), both) == {"o": 2}


def test_training_set_has_keys_features_in_model_order_and_label() -> None:
    orders = _orders([("o-1", "r-1", datetime(2025, 1, 11, 19, 30))]).append_column("city_id", pa.array(["c-1"]))
    orders = orders.append_column("country_code", pa.array(["ES"])).append_column("n_items", pa.array([2]))
    orders = orders.append_column("subtotal", pa.array([18.5])).append_column("delivery_minutes", pa.array([41.0]))

    table = build_training_set(orders, [_features(FEATURE_ROWS)], ETD)

    assert table.column_names == [
        "order_id", "restaurant_id", "country_code", "city_id", "placed_at", "nominal_date",
        *ETD_FEATURE_SET.columns, "label",
    ]  # fmt: skip
    assert table.to_pylist()[0] == (
        {
            "order_id": "o-1", "restaurant_id": "r-1", "city_id": "c-1", "country_code": "ES",
            "placed_at": datetime(2025, 1, 11, 19, 30, tzinfo=UTC), "nominal_date": "2025-01-11",
            "order__hour_of_day": 19.0, "order__day_of_week": 5.0, "order__n_items": 2.0, "order__subtotal": 18.5,
            "restaurant_stats__order_count_7d": 6, "restaurant_stats__avg_prep_minutes_7d": 10.0,
            "restaurant_stats__avg_delivery_minutes_7d": 30.0, "derived__prep_share_7d": 10.0 / 30.0,
            "derived__log_order_count_7d": math.log(7), "label": 41.0,
        }
    )  # fmt: skip
