"""The two order event types of docs/contracts.md and the rules an event must obey to enter the lake.

Validation is strict on purpose: a bad event is quarantined with a one-line reason instead of
poisoning raw tables that every downstream job trusts. Timestamps are ISO-8601 local wall-clock
times without a zone (a documented simplification of the contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ORDER_PLACED_TOPIC = "etd.order_placed"
ORDER_DELIVERED_TOPIC = "etd.order_delivered"
TOPICS = (ORDER_PLACED_TOPIC, ORDER_DELIVERED_TOPIC)
KEY_FIELD = "order_id"
PARTITION_COLUMN = "nominal_date"

#: how a field is checked and stored: non-empty string, ISO timestamp, integer >= 1, number >= 0
FieldKind = Literal["id", "timestamp", "count", "amount"]


@dataclass(frozen=True)
class EventSchema:
    topic: str
    event_type: str
    table: str  # the raw lake table this topic lands in
    fields: tuple[tuple[str, FieldKind], ...]
    time_field: str  # the field event_time must equal

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.fields]


ORDER_PLACED = EventSchema(
    topic=ORDER_PLACED_TOPIC,
    event_type="order_placed",
    table="raw.order_placed",
    fields=(
        ("event_id", "id"),
        ("event_type", "id"),
        ("event_time", "timestamp"),
        ("order_id", "id"),
        ("restaurant_id", "id"),
        ("city_id", "id"),
        ("country_code", "id"),
        ("placed_at", "timestamp"),
        ("n_items", "count"),
        ("subtotal", "amount"),
    ),
    time_field="placed_at",
)

ORDER_DELIVERED = EventSchema(
    topic=ORDER_DELIVERED_TOPIC,
    event_type="order_delivered",
    table="raw.order_delivered",
    fields=(
        ("event_id", "id"),
        ("event_type", "id"),
        ("event_time", "timestamp"),
        ("order_id", "id"),
        ("restaurant_id", "id"),
        ("placed_at", "timestamp"),
        ("delivered_at", "timestamp"),
        ("prep_minutes", "amount"),
        ("delivery_minutes", "amount"),
    ),
    time_field="delivered_at",
)

SCHEMAS: dict[str, EventSchema] = {schema.topic: schema for schema in (ORDER_PLACED, ORDER_DELIVERED)}


class InvalidEvent(ValueError):
    """An event that breaks its schema; the message is the one-line reason recorded in quarantine."""


def validate_event(schema: EventSchema, value: Any) -> dict[str, Any]:
    """Return the event as a row (timestamps parsed, numbers typed, unknown keys dropped) or raise InvalidEvent."""
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"event is a {type(value).__name__}, not a JSON object")
    row = {name: _parse_field(name, kind, value.get(name)) for name, kind in schema.fields}
    if row["event_type"] != schema.event_type:
        raise InvalidEvent(f"event_type: expected {schema.event_type!r}, got {row['event_type']!r}")
    if row["event_time"] != row[schema.time_field]:
        raise InvalidEvent(f"event_time: must equal {schema.time_field}")
    if schema is ORDER_DELIVERED:
        _check_delivery(row)
    row[PARTITION_COLUMN] = nominal_date(row["placed_at"])
    return row


def nominal_date(placed_at: datetime) -> str:
    """The partition of an order's rows: the local calendar date it was placed."""
    return placed_at.date().isoformat()


def _check_delivery(row: dict[str, Any]) -> None:
    if row["delivered_at"] < row["placed_at"]:
        raise InvalidEvent("delivered_at: earlier than placed_at")
    if row["prep_minutes"] > row["delivery_minutes"]:
        raise InvalidEvent("prep_minutes: longer than delivery_minutes")
    elapsed = (row["delivered_at"] - row["placed_at"]).total_seconds() / 60
    if abs(elapsed - row["delivery_minutes"]) > 0.05:  # the label must be what the timestamps say
        raise InvalidEvent(f"delivery_minutes: {row['delivery_minutes']} but delivered_at - placed_at is {elapsed:.2f}")


def _parse_field(name: str, kind: FieldKind, raw: Any) -> Any:
    if raw is None:
        raise InvalidEvent(f"{name}: missing")
    if kind == "id":
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidEvent(f"{name}: expected a non-empty string, got {raw!r}")
        return raw
    if kind == "timestamp":
        return _parse_timestamp(name, raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:  # raw != raw: NaN
        raise InvalidEvent(f"{name}: expected a number, got {raw!r}")
    if kind == "count":
        if not float(raw).is_integer() or raw < 1:
            raise InvalidEvent(f"{name}: expected an integer >= 1, got {raw!r}")
        return int(raw)
    if raw < 0 or raw == float("inf"):
        raise InvalidEvent(f"{name}: expected a finite number >= 0, got {raw!r}")
    return float(raw)


def _parse_timestamp(name: str, raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise InvalidEvent(f"{name}: expected an ISO-8601 string, got {raw!r}")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidEvent(f"{name}: not an ISO-8601 timestamp: {raw!r}") from None
    if parsed.tzinfo is not None:
        raise InvalidEvent(f"{name}: must be local wall-clock time without a zone, got {raw!r}")
    return parsed
