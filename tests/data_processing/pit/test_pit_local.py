"""Point-in-time join on one machine (numpy): hand-made edge cases and a property test against brute force."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from data_processing.jobs.pit_join import GroupRows, match_rows, point_in_time_join
from strata_kernel.time_columns import micros
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


def _join(orders: list[Order], rows: list[FeatureRow], item_group=STREAM, honour: bool | None = None) -> dict:
    joined = point_in_time_join(
        order_table(orders), "placed_at", [GroupRows(item_group, feature_table(rows, item_group), honour)],
        {item_group.name: ("value",)}, time_zone="UTC",
    )  # fmt: skip
    return dict(zip(joined.column("order_id").to_pylist(), joined.column(f"{item_group.name}__value").to_pylist(),
                    strict=True))  # fmt: skip


def test_stream_group_honours_event_time_created_at_and_ttl() -> None:
    assert _join(STREAM_ORDERS, STREAM_ROWS) == STREAM_EXPECTED


def test_batch_group_ignores_the_job_time_in_created_at() -> None:
    job_time = minutes(60 * 24 * 30)  # the backfill ran a month later
    rows = [("r-1", minutes(0), job_time, 1), ("r-1", minutes(60), job_time, 2)]
    orders = [("o-1", "r-1", minutes(30)), ("o-2", "r-1", minutes(60)), ("o-3", "r-1", minutes(-5))]
    assert _join(orders, rows, BATCH) == {"o-1": 1, "o-2": 2, "o-3": None}


def test_a_recomputed_row_wins_only_once_it_exists() -> None:
    rows = [("r-1", minutes(0), minutes(0), 1), ("r-1", minutes(0), minutes(20), 2)]  # same event, corrected later
    orders = [("before-fix", "r-1", minutes(10)), ("after-fix", "r-1", minutes(20))]
    assert _join(orders, rows) == {"before-fix": 1, "after-fix": 2}


def test_spine_rows_are_kept_in_order_with_nulls_and_the_spine_untouched() -> None:
    orders = [("b", "r-9", minutes(5)), ("a", "r-1", minutes(5)), ("c", None, minutes(5)), ("d", "r-1", None)]
    spine = order_table(orders)  # type: ignore[arg-type]
    joined = point_in_time_join(spine, "placed_at", [GroupRows(STREAM, feature_table(STREAM_ROWS))],
                                {"live": ("value",)}, time_zone="UTC")  # fmt: skip
    assert joined.column("order_id").to_pylist() == ["b", "a", "c", "d"]
    assert joined.column("live__value").to_pylist() == [None, 1, None, None]
    assert joined.select(spine.column_names).equals(spine)


def test_no_feature_rows_at_all_gives_nulls() -> None:
    assert _join([("o", "r-1", minutes(0))], []) == {"o": None}


_times = st.integers(0, 12).map(lambda m: minutes(m * 10))
_rows = st.lists(
    st.tuples(st.sampled_from(["r-1", "r-2", "r-3"]), _times, st.integers(0, 3), st.integers(-1000, 1000)),
    max_size=25,
    unique_by=lambda r: (r[0], r[1], r[2]),
)
_orders = st.lists(st.tuples(st.sampled_from(["r-1", "r-2", "r-4"]), _times), max_size=25)


def _materialise(raw_rows: list[tuple], raw_orders: list[tuple]) -> tuple[list[FeatureRow], list[Order]]:
    rows = [(e, t, t + timedelta(minutes=15 * lag), v) for e, t, lag, v in raw_rows]
    orders = [(f"o-{i}", e, t) for i, (e, t) in enumerate(raw_orders)]
    return rows, orders


@settings(max_examples=150, deadline=None)
@given(_rows, _orders, st.booleans(), st.sampled_from([30, 60, 120]))
def test_matches_the_brute_force_reference(raw_rows: list, raw_orders: list, honour: bool, ttl: int) -> None:
    rows, orders = _materialise(raw_rows, raw_orders)
    group = dataclasses.replace(STREAM, ttl=timedelta(minutes=ttl))
    expected = reference_join(orders, rows, group.ttl, honour_created_at=honour)
    assert _join(orders, rows, group, honour) == expected


@settings(max_examples=120, deadline=None)
@given(_rows, _orders, st.booleans(), st.booleans(), st.integers(1, 3))
def test_every_key_layout_and_thread_split_matches_the_brute_force_reference(
    raw_rows: list[tuple[str, datetime, int, int]],
    raw_orders: list[tuple[str, datetime]],
    honour: bool,
    compact: bool,
    threads: int,
) -> None:
    """Times packed raw or as ranks, the spine searched whole or in chunks on threads: one answer."""
    rows, orders = _materialise(raw_rows, raw_orders)
    spine = order_table(orders)
    item = GroupRows(STREAM, feature_table(rows, STREAM), honour)
    times = micros(spine.column("placed_at"), zone="UTC", what="placed_at")
    match = match_rows(spine.column("restaurant_id"), times, item, threads=threads, compact_times=compact,
                       chunk_rows=4)  # fmt: skip
    values = [None if m < 0 else rows[m][3] for m in match.tolist()]
    expected = reference_join(orders, rows, STREAM.ttl, honour_created_at=honour)
    assert dict(zip([o[0] for o in orders], values, strict=True)) == expected


def test_duplicate_spine_keys_are_all_kept_with_the_same_answer() -> None:
    orders = [("a", "r-1", minutes(15)), ("b", "r-1", minutes(15)), ("c", "r-1", minutes(15))]
    assert _join(orders, STREAM_ROWS) == {"a": 2, "b": 2, "c": 2}


def test_entity_ids_of_another_type_are_matched_as_text() -> None:
    spine = pa.table({"order_id": ["o"], "restaurant_id": pa.array([7]), "placed_at": pa.array([minutes(5)])})
    table = feature_table([("7", minutes(0), minutes(0), 3)])
    joined = point_in_time_join(spine, "placed_at", [GroupRows(STREAM, table)], {"live": ("value",)}, time_zone="UTC")
    assert joined.column("live__value").to_pylist() == [3]


def test_keys_that_do_not_fit_one_integer_fall_back_to_time_ranks() -> None:
    """1,000 entities x three centuries of microseconds exceed 62 bits: times are ranked first, same answers."""
    early, late = datetime(1900, 1, 1), datetime(2200, 1, 1)
    rows: list[FeatureRow] = [(f"r-{i}", t, t + timedelta(minutes=i % 3), i)
                              for i in range(1000) for t in (early, late)]  # fmt: skip
    orders: list[Order] = [(f"o-{i}", f"r-{i * 7 % 1000}", t + timedelta(minutes=1))
                           for i, t in enumerate([early, late] * 500)]  # fmt: skip
    group = dataclasses.replace(STREAM, ttl=timedelta(days=1))
    for honour in (False, True):
        assert _join(orders, rows, group, honour) == reference_join(orders, rows, group.ttl, honour_created_at=honour)
