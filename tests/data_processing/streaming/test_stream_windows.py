"""Window maths of restaurant_realtime, driven by event times only (the event time is the clock)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_processing.registry import FeatureGroupRegistry
from data_processing.settings import Settings
from data_processing.streaming.group import EntityState, load_streaming_group
from data_processing.streaming.windows import LastN, SlidingCount
from tests.data_processing.streaming.stream_data import (
    all_events,
    assert_same_features,
    order_events,
    reference_features,
)

T0 = datetime(2025, 3, 3, 12, 0)
GROUP = load_streaming_group(FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir()), "restaurant_realtime")


def placed(event_id: str, minutes: float) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return {"event_id": event_id, "event_type": "order_placed", "event_time": at, "restaurant_id": "r-1"}


def delivered(event_id: str, minutes: float, delivery_minutes: float) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return {"event_id": event_id, "event_type": "order_delivered", "event_time": at, "restaurant_id": "r-1",
            "delivery_minutes": delivery_minutes}  # fmt: skip


def replay(events: list[dict[str, Any]]) -> EntityState:
    state = GROUP.new_state(None)
    for event in events:
        state.apply(event)
    return state


def test_orders_last_1h_counts_the_hour_up_to_the_newest_event_time() -> None:
    state = replay([placed("a", 0), placed("b", 30), placed("c", 59)])
    assert state.features()["orders_last_1h"] == 3

    state.apply(placed("d", 60))  # (T0, T0+60m]: "a" placed exactly one hour earlier leaves the window
    assert state.features()["orders_last_1h"] == 3
    assert state.clock == T0 + timedelta(minutes=60)

    state.apply(delivered("x", 150, 20.0))  # any event moves the clock: the hour is empty
    assert state.features()["orders_last_1h"] == 0


def test_a_late_event_counts_only_if_inside_the_window() -> None:
    state = replay([placed("a", 90)])
    assert state.apply(placed("late", 45)) is True
    assert state.apply(placed("too-late", 30)) is False  # exactly at clock - 1h: outside

    assert state.features()["orders_last_1h"] == 2
    assert state.clock == T0 + timedelta(minutes=90)


def test_avg_delivery_of_the_last_20_deliveries_by_delivered_time() -> None:
    events = [delivered(f"d{i}", i, float(i)) for i in range(25)]
    random.Random(3).shuffle(events)  # arrival order does not matter, delivered time does

    state = replay(events)

    assert state.features()["avg_delivery_minutes_last_20"] == pytest.approx(sum(range(5, 25)) / 20)
    assert replay([placed("a", 0)]).features()["avg_delivery_minutes_last_20"] is None


def test_a_redelivered_event_changes_nothing() -> None:
    history = [placed("a", 0), delivered("d1", 10, 30.0), placed("b", 20), delivered("d2", 40, 50.0)]
    state = replay(history)
    before = (state.features(), state.clock, state.snapshot())

    assert [state.apply(event) for event in history] == [False, False, False, False]
    assert (state.features(), state.clock, state.snapshot()) == before


def test_an_evicted_delivery_redelivered_stays_out() -> None:
    state = replay([delivered(f"d{i}", i, float(i)) for i in range(21)])  # d0 evicted by the 21st

    assert state.apply(delivered("d0", 0, 0.0)) is False
    assert state.features()["avg_delivery_minutes_last_20"] == pytest.approx(sum(range(1, 21)) / 20)


def test_state_survives_a_snapshot_round_trip() -> None:
    state = replay([placed("a", 0), delivered("d1", 10, 30.0), placed("b", 20)])

    restored = GROUP.new_state(state.snapshot())

    assert (restored.features(), restored.clock) == (state.features(), state.clock)
    assert restored.apply(placed("b", 20)) is False  # the ids are remembered too


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"event_type": "order_placed", "event_time": "2025-03-03T12:00:00"}, "event_id"),
        ({"event_id": "x", "event_type": "order_placed", "event_time": "yesterday"}, "event_time"),
        ({"event_id": "x", "event_type": "order_cancelled", "event_time": "2025-03-03T12:00:00"}, "event_type"),
        ({"event_id": "x", "event_type": "order_delivered", "event_time": "2025-03-03T12:00:00"}, "delivery_minutes"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field_and_changes_nothing(event: dict[str, Any], field: str) -> None:
    state = replay([placed("a", 0)])
    before = state.snapshot()

    with pytest.raises(ValueError, match=f"^{field}: "):
        state.apply(event)
    assert state.snapshot() == before


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=15))
def test_any_order_with_any_redeliveries_equals_the_reference(rng: random.Random, duplicates: int) -> None:
    events = all_events(order_events(40, restaurants=2, seed=rng.randint(0, 10**6)))
    delivery = events + [rng.choice(events) for _ in range(duplicates)]
    rng.shuffle(delivery)
    states: dict[str, EntityState] = {}

    for event in delivery:
        states.setdefault(event["restaurant_id"], GROUP.new_state(None)).apply(event)

    expected = reference_features(events)
    got = {r: {**s.features(), "feature_time": s.clock} for r, s in states.items()}
    assert got.keys() == expected.keys()
    for restaurant, values in expected.items():
        assert_same_features(got[restaurant], values)


def test_sliding_count_and_last_n_report_whether_they_changed() -> None:
    window = SlidingCount(timedelta(minutes=10))
    assert window.add("a", T0, T0) is True
    assert window.add("a", T0, T0) is False
    assert window.advance(T0 + timedelta(minutes=10)) is True
    assert window.count() == 0

    last = LastN(2)
    assert [last.add(i, T0 + timedelta(minutes=m), m) for i, m in [("a", 1), ("b", 2), ("c", 0)]] == [True, True, False]
    assert last.mean() == 1.5
