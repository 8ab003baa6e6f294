"""Tiny hand-made order events for the data_processing job tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa

from strata_kernel.lake import LakeClient

# (order_id, restaurant_id, placed_at, prep_minutes, delivery_minutes); delivered_at = placed_at + delivery
ORDERS = [
    ("o-1", "r-1", datetime(2025, 1, 6, 11, 30), 10.0, 30.0),
    ("o-2", "r-1", datetime(2025, 1, 8, 19, 20), 20.0, 40.0),
    ("o-3", "r-1", datetime(2025, 1, 13, 22, 10), 30.0, 50.0),
    ("o-4", "r-2", datetime(2025, 1, 12, 12, 0), 12.0, 24.0),
]


def placed_events() -> pa.Table:
    rows = [
        {"event_id": f"e-{oid}", "event_type": "order_placed", "event_time": placed, "order_id": oid,
         "restaurant_id": rid, "city_id": "c-1", "country_code": "ES", "placed_at": placed, "n_items": 2,
         "subtotal": 20.5, "nominal_date": placed.date().isoformat()}
        for oid, rid, placed, _, _ in ORDERS
    ]  # fmt: skip
    rows.append(dict(rows[0]))  # at-least-once: the same event twice
    rows.append({**rows[1], "event_id": "e-o-5", "order_id": "o-5"})  # placed, never delivered
    return _table(rows)


def delivered_events() -> pa.Table:
    rows = []
    for oid, rid, placed, prep, delivery in ORDERS:
        delivered = placed + timedelta(minutes=delivery)
        rows.append({"event_id": f"d-{oid}", "event_type": "order_delivered", "event_time": delivered,
                     "order_id": oid, "restaurant_id": rid, "placed_at": placed, "delivered_at": delivered,
                     "prep_minutes": prep, "delivery_minutes": delivery,
                     "nominal_date": placed.date().isoformat()})  # fmt: skip
    rows.append(dict(rows[2]))
    return _table(rows)


def _table(rows: list[dict[str, object]]) -> pa.Table:
    table = pa.Table.from_pylist(rows)
    return table.cast(pa.schema([f.with_type(pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f
                                 for f in table.schema]))  # fmt: skip


def seed_raw(lake: LakeClient) -> None:
    for name, table in (("raw.order_placed", placed_events()), ("raw.order_delivered", delivered_events())):
        lake.write_arrow(name, table, partition_column="nominal_date", job="test seed", inputs=[])
