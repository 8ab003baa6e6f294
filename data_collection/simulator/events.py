"""Turn simulated orders into the event stream of docs/contracts.md, in event-time order.

Events are built chunk by chunk (never 2 million dicts at once) from a single merged ordering of both
event types, so the stream interleaves placements and deliveries the way a live system would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from data_collection.simulator.orders import Orders
from data_collection.simulator.world import World
from strata_kernel.contracts.events import OrderDelivered, OrderPlaced

Batch = tuple[str, list[dict[str, Any]]]


def event_batches(world: World, orders: Orders, chunk_size: int = 10_000) -> Iterator[Batch]:
    """Yield ``(topic, events)`` pairs; concatenated per topic they are that topic's events in event-time order."""
    times = np.concatenate([orders.placed_at, orders.delivered_at])
    is_delivery = np.concatenate([np.zeros(len(orders), bool), np.ones(len(orders), bool)])
    merged = np.argsort(times, kind="stable")  # stable: a placement precedes a delivery at the same second
    columns = _Columns(world)
    for begin in range(0, len(merged), chunk_size):
        chunk = merged[begin : begin + chunk_size]
        delivered = chunk[is_delivery[chunk]] - len(orders)
        placed = chunk[~is_delivery[chunk]]
        if len(placed):
            yield OrderPlaced.SHAPE.topic.name, columns.placed_events(orders, placed)
        if len(delivered):
            yield OrderDelivered.SHAPE.topic.name, columns.delivered_events(orders, delivered)


class _Columns:
    """Per-restaurant string columns, looked up by fancy indexing instead of per-event dict access."""

    def __init__(self, world: World) -> None:
        codes = np.array([code for code, _ in world.countries], dtype=object)
        city = world.restaurant_city
        self.restaurant_id = np.array(world.restaurant_ids, dtype=object)
        self.city_id = np.array(world.city_ids, dtype=object)[city]
        self.country_code = codes[world.city_country[city]]

    def placed_events(self, orders: Orders, index: np.ndarray) -> list[dict[str, Any]]:
        restaurant = orders.restaurant[index]
        rows = zip(
            index.tolist(),
            orders.placed_at[index].astype("datetime64[s]").tolist(),  # datetime objects, to the second
            self.restaurant_id[restaurant].tolist(),
            self.city_id[restaurant].tolist(),
            self.country_code[restaurant].tolist(),
            orders.n_items[index].tolist(),
            orders.subtotal[index].tolist(),
            strict=True,
        )
        return [
            OrderPlaced(event_id=f"{_order_id(i)}:placed", order_id=_order_id(i), restaurant_id=r, city_id=c,
                        country_code=k, placed_at=at, n_items=n, subtotal=s).to_wire()
            for i, at, r, c, k, n, s in rows
        ]  # fmt: skip

    def delivered_events(self, orders: Orders, index: np.ndarray) -> list[dict[str, Any]]:
        rows = zip(
            index.tolist(),
            self.restaurant_id[orders.restaurant[index]].tolist(),
            orders.placed_at[index].astype("datetime64[s]").tolist(),
            orders.delivered_at[index].astype("datetime64[s]").tolist(),
            orders.prep_minutes[index].tolist(),
            orders.delivery_minutes[index].tolist(),
            strict=True,
        )
        return [
            OrderDelivered(event_id=f"{_order_id(i)}:delivered", order_id=_order_id(i), restaurant_id=r,
                           placed_at=at, delivered_at=done, prep_minutes=p, delivery_minutes=d).to_wire()
            for i, r, at, done, p, d in rows
        ]  # fmt: skip


def _order_id(index: int) -> str:
    return f"o-{index + 1:08d}"
