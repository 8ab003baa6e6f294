from __future__ import annotations

import numpy as np

from data_processing.domain.etd_features import day_of_week, hour_of_day, order_context_features
from data_processing.domain.features import FeatureRef
from tests.data_processing.pit.specs import ETD_FEATURE_SET


def test_hour_and_weekday_of_known_local_times() -> None:
    placed_at = np.array(["2025-01-06T13:45:10", "2025-01-12T23:59:59", "2025-01-08T00:00:00"], dtype="datetime64[s]")

    assert hour_of_day(placed_at).tolist() == [13.0, 23.0, 0.0]
    assert day_of_week(placed_at).tolist() == [0.0, 6.0, 2.0]  # Monday, Sunday, Wednesday


def test_timestamps_before_1970_still_give_valid_hours_and_days() -> None:
    placed_at = np.array(["1969-12-31T22:30:00"], dtype="datetime64[us]")

    assert hour_of_day(placed_at).tolist() == [22.0]
    assert day_of_week(placed_at).tolist() == [2.0]  # a Wednesday


def test_batch_and_single_row_give_identical_features() -> None:
    rng = np.random.default_rng(7)
    placed_at = np.datetime64("2025-01-06T00:00:00", "us") + rng.integers(0, 86400 * 60, 1000).astype("timedelta64[s]")
    n_items = rng.integers(1, 10, 1000)
    subtotal = rng.uniform(5, 80, 1000).round(2)

    batch = order_context_features(placed_at, n_items, subtotal)
    for i in (0, 17, 999):
        single = order_context_features(placed_at[i : i + 1], n_items[i : i + 1], subtotal[i : i + 1])
        assert {name: values[0] for name, values in single.items()} == {name: v[i] for name, v in batch.items()}


def test_etd_feature_set_is_four_order_features_then_restaurant_stats_then_derived() -> None:
    assert ETD_FEATURE_SET.columns == (
        "order__hour_of_day",
        "order__day_of_week",
        "order__n_items",
        "order__subtotal",
        "restaurant_stats__order_count_7d",
        "restaurant_stats__avg_prep_minutes_7d",
        "restaurant_stats__avg_delivery_minutes_7d",
        "derived__prep_share_7d",
        "derived__log_order_count_7d",
    )
    assert ETD_FEATURE_SET.stored_groups() == {
        "restaurant_stats": ("order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")
    }


def test_canonical_expression_round_trip_and_rejection() -> None:
    ref = FeatureRef.parse("@restaurant_stats:avg_prep_minutes_7d")
    assert (ref.column, ref.expression) == (
        "restaurant_stats__avg_prep_minutes_7d",
        "@restaurant_stats:avg_prep_minutes_7d",
    )
    for bad in ("restaurant_stats:x", "@restaurant_stats", "@a__b:c", "@:x"):
        try:
            FeatureRef.parse(bad)
        except ValueError as exc:
            assert bad in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
