"""Hand-made point-in-time cases and a brute-force reference join, shared by the numpy and Spark tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

import pyarrow as pa

from data_processing.domain.feature_groups import FeatureGroup
from tests.data_processing.pit.specs import REGISTRY

BATCH = REGISTRY.get("restaurant_stats")  # ttl 2d, created_at = job time
#: a group that records when each value became known (as the streaming worker does), ttl 1h
STREAM = dataclasses.replace(BATCH, name="live", kind="streaming", ttl=timedelta(hours=1))
T0 = datetime(2025, 1, 10, 12)
FeatureRow = tuple[str, datetime, datetime, int]  # entity, event time, created_at, value
Order = tuple[str, str, datetime]  # order id, entity, placed_at


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def feature_table(rows: Sequence[FeatureRow], group: FeatureGroup = STREAM) -> pa.Table:
    return pa.table(
        {
            group.entity: pa.array([r[0] for r in rows], pa.string()),
            group.nominal_time: pa.array([r[1] for r in rows], pa.timestamp("us")),
            "created_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "value": pa.array([r[3] for r in rows], pa.int64()),
        }
    )


def order_table(orders: Sequence[Order], entity: str = "restaurant_id") -> pa.Table:
    return pa.table(
        {
            "order_id": [o[0] for o in orders],
            entity: pa.array([o[1] for o in orders], pa.string()),
            "placed_at": pa.array([o[2] for o in orders], pa.timestamp("us")),
        }
    )


def reference_join(
    orders: Sequence[Order], rows: Sequence[FeatureRow], ttl: timedelta, *, honour_created_at: bool
) -> dict[str, int | None]:
    """The rule, written the slow obvious way: order id -> value (None when no row qualifies)."""
    result: dict[str, int | None] = {}
    for order_id, entity, t in orders:
        available = [r for r in rows if r[0] == entity and r[1] <= t and (r[2] <= t or not honour_created_at)]
        best = max(available, key=lambda r: (r[1], r[2]), default=None)
        result[order_id] = best[3] if best is not None and t - best[1] <= ttl else None
    return result


# --- hand-made cases: (name, feature rows, orders, expected values of a STREAM join) ---
STREAM_ROWS: list[FeatureRow] = [
    ("r-1", minutes(0), minutes(0), 1),
    ("r-1", minutes(10), minutes(10), 2),
    ("r-1", minutes(20), minutes(45), 3),  # late-arriving: event 12:20, known only at 12:45
    ("r-2", minutes(0), minutes(1), 7),
]
STREAM_ORDERS: list[Order] = [
    ("equal-time", "r-1", minutes(10)),  # a row at exactly t is usable
    ("before-first", "r-1", minutes(-1)),
    ("late-row-hidden", "r-1", minutes(30)),  # the 12:20 value is not known yet at 12:30
    ("late-row-known", "r-1", minutes(45)),
    ("created-after-t", "r-2", minutes(0)),  # event at t, but created a minute later
    ("ttl-edge", "r-2", minutes(60)),  # event 12:00 + 1h ttl: still valid
    ("ttl-expired", "r-2", minutes(61)),
    ("unknown-entity", "r-9", minutes(30)),
]
STREAM_EXPECTED: dict[str, int | None] = {
    "equal-time": 2,
    "before-first": None,
    "late-row-hidden": 2,
    "late-row-known": 3,
    "created-after-t": None,
    "ttl-edge": 7,  # age exactly the ttl: still valid
    "ttl-expired": None,
    "unknown-entity": None,
}
