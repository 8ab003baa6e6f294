"""The request-context features of a declared model: one code path for 1M training rows and 1 served row."""

from __future__ import annotations

import numpy as np

from data_processing.domain.context import context_features, day_of_week, hour_of_day
from strata_kernel.contracts.model_spec import ContextField
from tests.data_processing.pit.specs import ETD_FEATURE_SET

FIELDS = (ContextField("n_items", "int64"), ContextField("subtotal", "float64"), ContextField("bike", "string"),
          ContextField("member", "bool"))  # fmt: skip


def test_hour_and_weekday_of_known_local_times() -> None:
    local = np.array(
        ["2025-01-06T13:45:10", "2025-01-12T23:59:59", "2025-01-08T00:00:00", "NaT"], dtype="datetime64[s]"
    )
    assert hour_of_day(local)[:3].tolist() == [13.0, 23.0, 0.0]
    assert day_of_week(local)[:3].tolist() == [0.0, 6.0, 2.0]  # Monday, Sunday, Wednesday
    assert np.isnan(hour_of_day(local)[3]) and np.isnan(day_of_week(local)[3])


def test_timestamps_before_1970_still_give_valid_hours_and_days() -> None:
    local = np.array(["1969-12-31T22:30:00"], dtype="datetime64[us]")
    assert (hour_of_day(local).tolist(), day_of_week(local).tolist()) == ([22.0], [2.0])  # a Wednesday


def test_numbers_are_floats_text_and_booleans_stay_categories_and_batch_equals_single_rows() -> None:
    rng = np.random.default_rng(7)
    local = np.datetime64("2025-01-06T00:00:00", "us") + rng.integers(0, 86400 * 60, 100).astype("timedelta64[s]")
    values = {"n_items": rng.integers(1, 10, 100), "subtotal": rng.uniform(5, 80, 100).round(2),
              "bike": np.array(["classic", None, "electric", "cargo"] * 25, dtype=object),
              "member": np.array([True, False, None, True] * 25, dtype=object)}  # fmt: skip
    batch = context_features("trip", FIELDS, local, values)
    assert list(batch) == ["trip__hour_of_day", "trip__day_of_week", "trip__n_items", "trip__subtotal",
                           "trip__bike", "trip__member"]  # fmt: skip
    assert batch["trip__n_items"].dtype == np.float64
    assert batch["trip__bike"][:3].tolist() == ["classic", None, "electric"]
    assert batch["trip__member"][:3].tolist() == ["true", "false", None]
    for i in (0, 17, 99):
        single = context_features("trip", FIELDS, local[i : i + 1], {k: v[i : i + 1] for k, v in values.items()})
        for name, column in single.items():
            assert column[0] == batch[name][i] or (column[0] != column[0] and batch[name][i] != batch[name][i])


def test_etd_declares_four_order_features_then_restaurant_stats_then_derived() -> None:
    assert ETD_FEATURE_SET.columns == (
        "order__hour_of_day", "order__day_of_week", "order__n_items", "order__subtotal",
        "restaurant_stats__order_count_7d", "restaurant_stats__avg_prep_minutes_7d",
        "restaurant_stats__avg_delivery_minutes_7d", "derived__prep_share_7d", "derived__log_order_count_7d",
    )  # fmt: skip
    assert ETD_FEATURE_SET.context == "order" and list(ETD_FEATURE_SET.stored_groups()) == ["restaurant_stats"]
