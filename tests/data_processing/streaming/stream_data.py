"""Order events for streaming tests, and a brute-force reference of restaurant_realtime's features."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from strata_kernel.eventlog import EventLog

PLACED, DELIVERED = "etd.order_placed", "etd.order_delivered"
START = datetime(2025, 3, 3, 11, 0)


def order_events(orders: int, restaurants: int = 3, seed: int = 7, start: datetime = START) -> dict[str, list[dict]]:
    """``{topic: events}``, each topic in event-time order, like the simulator publishes them."""
    rng = random.Random(seed)
    placed: list[dict[str, Any]] = []
    delivered: list[dict[str, Any]] = []
    at = start
    for n in range(orders):
        at += timedelta(seconds=rng.randint(30, 900))
        restaurant = f"r-{rng.randrange(restaurants):06d}"
        order = {"order_id": f"o-{n:05d}", "restaurant_id": restaurant, "placed_at": at.isoformat()}
        placed.append({**order, "event_id": f"p-{n:05d}", "event_type": "order_placed", "event_time": at.isoformat(),
                       "city_id": "c-0001", "country_code": "DE", "n_items": 2, "subtotal": 21.5})  # fmt: skip
        if n % 5 != 4:  # some orders are still on their way
            minutes = round(rng.uniform(12, 70), 2)
            done = (at + timedelta(minutes=minutes)).isoformat()
            delivered.append({**order, "event_id": f"d-{n:05d}", "event_type": "order_delivered",
                              "event_time": done, "delivered_at": done, "prep_minutes": 9.0,
                              "delivery_minutes": minutes})  # fmt: skip
    delivered.sort(key=lambda e: e["event_time"])
    return {PLACED: placed, DELIVERED: delivered}


def publish(log: EventLog, events: Mapping[str, list[dict]]) -> None:
    for topic, batch in events.items():
        log.publish(topic, batch, key_field="order_id")


def reference_features(events: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """From scratch, in no particular order, deduplicated by event id: the definition in the YAML, literally."""
    unique = {e["event_id"]: e for e in events}.values()
    by_restaurant: dict[str, list[Mapping[str, Any]]] = {}
    for event in unique:
        by_restaurant.setdefault(event["restaurant_id"], []).append(event)
    result = {}
    for restaurant, items in by_restaurant.items():
        clock = max(datetime.fromisoformat(e["event_time"]) for e in items)
        placed = [e for e in items if e["event_type"] == "order_placed"
                  and clock - timedelta(hours=1) < datetime.fromisoformat(e["event_time"]) <= clock]  # fmt: skip
        deliveries = sorted((datetime.fromisoformat(e["event_time"]), e["event_id"], e["delivery_minutes"])
                            for e in items if e["event_type"] == "order_delivered")[-20:]  # fmt: skip
        mean = sum(d[2] for d in deliveries) / len(deliveries) if deliveries else None
        result[restaurant] = {"orders_last_1h": len(placed), "avg_delivery_minutes_last_20": mean,
                              "feature_time": clock}  # fmt: skip
    return result


def all_events(events: Mapping[str, list[dict]]) -> list[dict]:
    return [event for batch in events.values() for event in batch]


def assert_same_features(got: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Integers and times exactly; means up to float rounding (sums in another order)."""
    assert got["orders_last_1h"] == expected["orders_last_1h"]
    assert got["feature_time"] == expected["feature_time"]
    assert got["avg_delivery_minutes_last_20"] == pytest.approx(expected["avg_delivery_minutes_last_20"])
