"""Feature group restaurant_realtime: the streaming function (see restaurant_realtime.yaml for the metadata).

``compute(snapshot=None)`` returns one restaurant's window state; the worker (data_processing.streaming)
feeds it the restaurant's order events in any order, any number of times, and persists ``snapshot()``.
Values are as of ``clock``, the newest event time applied: ``orders_last_1h`` counts orders placed in
``(clock - 1h, clock]``, ``avg_delivery_minutes_last_20`` averages the 20 newest deliveries by delivered_at.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from data_processing.streaming.windows import LastN, SlidingCount

ORDERS_WINDOW = timedelta(hours=1)
LAST_DELIVERIES = 20


class RestaurantWindows:
    def __init__(self, snapshot: Mapping[str, Any] | None = None) -> None:
        snapshot = snapshot or {}
        self.clock: datetime | None = datetime.fromisoformat(snapshot["clock"]) if snapshot.get("clock") else None
        self.placed = SlidingCount.restore(ORDERS_WINDOW, snapshot.get("placed", {}))
        self.delivered = LastN.restore(LAST_DELIVERIES, snapshot.get("delivered", []))

    def apply(self, event: Mapping[str, Any]) -> bool:
        """Apply one order event; True if the features or their time changed. Raises ValueError if malformed."""
        event_type, event_id, time = _required(event)
        minutes = _delivery_minutes(event) if event_type == "order_delivered" else None
        clock = time if self.clock is None or time > self.clock else self.clock
        moved = clock != self.clock
        if moved:
            self.clock = clock
            self.placed.advance(clock)
        if minutes is None:
            changed = self.placed.add(event_id, time, clock)
        else:
            changed = self.delivered.add(event_id, time, minutes)
        return moved or changed

    def features(self) -> dict[str, int | float | None]:
        return {"orders_last_1h": self.placed.count(), "avg_delivery_minutes_last_20": self.delivered.mean()}

    def snapshot(self) -> dict[str, Any]:
        return {
            "clock": self.clock.isoformat() if self.clock else None,
            "placed": self.placed.snapshot(),
            "delivered": self.delivered.snapshot(),
        }


def compute(snapshot: Mapping[str, Any] | None = None) -> RestaurantWindows:
    """A restaurant's window state: empty, or restored from a ``snapshot()`` after a restart."""
    return RestaurantWindows(snapshot)


def _required(event: Mapping[str, Any]) -> tuple[str, str, datetime]:
    event_type = event.get("event_type")
    if event_type not in ("order_placed", "order_delivered"):
        raise ValueError(f"event_type: {event_type!r} is not order_placed or order_delivered")
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("event_id: missing")
    try:
        time = datetime.fromisoformat(str(event["event_time"]))
    except (KeyError, ValueError):
        raise ValueError(f"event_time: {event.get('event_time')!r} is not an ISO-8601 time") from None
    return event_type, event_id, time.replace(tzinfo=None)


def _delivery_minutes(event: Mapping[str, Any]) -> float:
    value = event.get("delivery_minutes")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"delivery_minutes: {value!r} is not a non-negative number")
    return float(value)
