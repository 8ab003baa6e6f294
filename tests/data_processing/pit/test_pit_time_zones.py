"""Time zones in the point-in-time join: a local-time spine against UTC features gets the oracle's answer; a
naive column without a declared zone is refused naming it (it used to shift every match silently)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from data_processing.jobs.pit_join import GroupRows, point_in_time_join
from strata_kernel.contracts.time_zones import InvalidTimeColumn, NaiveTimeColumn
from tests.data_processing.pit.cases import STREAM, reference_join

MADRID = ZoneInfo("Europe/Madrid")
#: one hourly feature row per entity, in UTC, across the night Spain moves its clocks forward (30 March 2025)
UTC_ROWS = [
    (entity, datetime(2025, 3, 29, 20, tzinfo=UTC) + timedelta(hours=h), h * 10 + n)
    for n, entity in enumerate(["s-1", "s-2"])
    for h in range(12)
]
#: orders placed at local (Madrid) wall-clock times, before and after the change
LOCAL_ORDERS = [
    (f"o-{i}", entity, datetime(2025, 3, 29, 21, 30) + timedelta(minutes=50 * i))
    for i, entity in enumerate(["s-1", "s-2"] * 7)
    if (datetime(2025, 3, 29, 21, 30) + timedelta(minutes=50 * i)).strftime("%d %H") != "30 02"  # not in the gap
]
GROUP = dataclasses.replace(
    STREAM,
    name="station",
    entity="station_id",
    nominal_time="event_time",
    table="features.station",
    kind="batch",
    ttl=timedelta(hours=2),
    time_zone=None,
)


def _features(zone_aware: bool = True) -> pa.Table:
    kind = pa.timestamp("us", tz="UTC") if zone_aware else pa.timestamp("us")
    times = [t if zone_aware else t.replace(tzinfo=None) for _, t, _ in UTC_ROWS]
    return pa.table({"station_id": [r[0] for r in UTC_ROWS], "event_time": pa.array(times, kind),
                     "value": pa.array([r[2] for r in UTC_ROWS], pa.int64())})  # fmt: skip


def _spine(local_times: list[datetime], kind: pa.DataType) -> pa.Table:
    return pa.table({"order_id": [o[0] for o in LOCAL_ORDERS], "station_id": [o[1] for o in LOCAL_ORDERS],
                     "placed_at": pa.array(local_times, kind)})  # fmt: skip


def _oracle() -> dict[str, int | None]:
    """The brute-force rule on instants: each local time converted to UTC by hand."""
    orders = [(o, e, t.replace(tzinfo=MADRID).astimezone(UTC).replace(tzinfo=None)) for o, e, t in LOCAL_ORDERS]
    rows = [(e, t.replace(tzinfo=None), t.replace(tzinfo=None), v) for e, t, v in UTC_ROWS]
    return reference_join(orders, rows, GROUP.ttl, honour_created_at=False)


def _values(joined: pa.Table) -> dict[str, int | None]:
    return dict(zip(joined.column("order_id").to_pylist(), joined.column("station__value").to_pylist(), strict=True))


def _join(spine: pa.Table, group=GROUP, features: pa.Table | None = None, zone: str | None = None) -> dict:
    table = features if features is not None else _features()
    joined = point_in_time_join(spine, "placed_at", [GroupRows(group, table)], {group.name: ("value",)}, time_zone=zone)
    return _values(joined)


def test_a_naive_local_spine_with_its_declared_zone_gets_the_oracles_answer() -> None:
    naive = _spine([o[2] for o in LOCAL_ORDERS], pa.timestamp("us"))
    expected = _oracle()
    assert _join(naive, zone="Europe/Madrid") == expected
    assert sum(v is not None for v in expected.values()) >= 10  # the case is not vacuous
    # declaring the wrong zone is what the silent trap used to do: the answers differ
    assert _join(naive, zone="UTC") != expected


def test_an_aware_local_spine_needs_no_declaration_and_gets_the_same_answer() -> None:
    aware = _spine([o[2].replace(tzinfo=MADRID) for o in LOCAL_ORDERS], pa.timestamp("us", tz="Europe/Madrid"))
    assert _join(aware) == _oracle()
    assert _join(aware, zone="Asia/Tokyo") == _oracle()  # a declaration never overrides a stored zone


def test_naive_feature_rows_use_their_groups_declared_zone() -> None:
    aware = _spine([o[2].replace(tzinfo=MADRID) for o in LOCAL_ORDERS], pa.timestamp("us", tz="Europe/Madrid"))
    declared = dataclasses.replace(GROUP, time_zone="UTC")
    assert _join(aware, declared, _features(zone_aware=False)) == _oracle()


def test_a_naive_spine_without_a_zone_is_refused_naming_the_column() -> None:
    naive = _spine([o[2] for o in LOCAL_ORDERS], pa.timestamp("us"))
    with pytest.raises(NaiveTimeColumn, match=r"spine\.placed_at holds timestamps without a time zone"):
        _join(naive)


def test_naive_feature_rows_without_a_declared_zone_are_refused_naming_the_table() -> None:
    aware = _spine([o[2].replace(tzinfo=UTC) for o in LOCAL_ORDERS], pa.timestamp("us", tz="UTC"))
    with pytest.raises(NaiveTimeColumn, match=r"features\.station\.event_time"):
        _join(aware, features=_features(zone_aware=False))


def test_a_wall_clock_time_that_the_zone_skips_is_refused() -> None:
    gap = pa.table({"order_id": ["o"], "station_id": ["s-1"],
                    "placed_at": pa.array([datetime(2025, 3, 30, 2, 30)], pa.timestamp("us"))})  # fmt: skip
    with pytest.raises(InvalidTimeColumn, match="Europe/Madrid skips or repeats"):
        _join(gap, zone="Europe/Madrid")


def test_an_unknown_zone_is_refused_with_a_suggestion() -> None:
    naive = _spine([o[2] for o in LOCAL_ORDERS], pa.timestamp("us"))
    with pytest.raises(InvalidTimeColumn, match=r"unknown time zone 'madrid'.*Europe/Madrid"):
        _join(naive, zone="madrid")


def test_nanosecond_times_are_read_as_microseconds() -> None:
    naive = _spine([o[2] for o in LOCAL_ORDERS], pa.timestamp("us")).cast(
        pa.schema([("order_id", pa.string()), ("station_id", pa.string()), ("placed_at", pa.timestamp("ns"))])
    )
    assert _join(naive, zone="Europe/Madrid") == _oracle()
