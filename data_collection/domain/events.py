"""The event types of docs/contracts.md the collector lands (orders, help-centre questions and feedback) and the
rules an event must obey to enter the lake.

Validation is strict on purpose: a bad event is quarantined with a one-line reason instead of
poisoning raw tables that every downstream job trusts. Order timestamps are ISO-8601 local wall-clock
times without a zone (a documented simplification of the contract); help-centre events may carry a zone
(business logic stamps them in UTC), which is converted to UTC wall-clock time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

ORDER_PLACED_TOPIC = "etd.order_placed"
ORDER_DELIVERED_TOPIC = "etd.order_delivered"
HELP_QUESTIONS_TOPIC = "help.questions"
HELP_FEEDBACK_TOPIC = "help.feedback"
ORDER_TOPICS = (ORDER_PLACED_TOPIC, ORDER_DELIVERED_TOPIC)
HELP_TOPICS = (HELP_QUESTIONS_TOPIC, HELP_FEEDBACK_TOPIC)
TOPICS = (*ORDER_TOPICS, *HELP_TOPICS)
KEY_FIELD = "order_id"
PARTITION_COLUMN = "nominal_date"

#: how a field is checked and stored: non-empty string, local ISO timestamp, integer >= 1, number >= 0, any ISO
#: timestamp (a zone is converted to UTC), boolean, free text (may be empty), list of strings
FieldKind = Literal["id", "timestamp", "count", "amount", "instant", "flag", "text", "strings"]


@dataclass(frozen=True, kw_only=True)
class TableSchema:
    """The columns of a raw table (besides ``nominal_date``); ``nullable`` fields may be missing or null."""

    table: str
    fields: tuple[tuple[str, FieldKind], ...]
    nullable: frozenset[str] = frozenset()

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.fields]


@dataclass(frozen=True, kw_only=True)
class EventSchema(TableSchema):
    topic: str
    event_type: str
    time_field: str  # the field event_time must equal
    nominal_field: str = "placed_at"  # the field whose date is the row's partition
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # fields restricted to a set of values


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
        ("quote_request_id", "id"),  # issue 6: the ETD quote the order was placed with (older events lack it)
    ),
    nullable=frozenset({"quote_request_id"}),
    time_field="delivered_at",
)

_ANSWER_SOURCES = ("predefined", "model", "unknown", "fallback", "blocked")

HELP_QUESTION = EventSchema(
    topic=HELP_QUESTIONS_TOPIC,
    event_type="help_question",
    table="raw.help_questions",
    fields=(
        ("event_id", "id"),
        ("event_type", "id"),
        ("event_time", "instant"),
        ("question_id", "id"),
        ("session_id", "id"),
        ("kind", "id"),
        ("predefined_id", "id"),
        ("text", "text"),
        ("answer_source", "id"),
        ("article_id", "id"),
        ("confidence", "amount"),
        ("model", "id"),
        ("model_version", "id"),
        ("request_id", "id"),
    ),
    # session_id: a predefined question asked outside a chat session has none
    nullable=frozenset({"session_id", "predefined_id", "article_id", "confidence", "model", "model_version"}),
    time_field="event_time",
    nominal_field="event_time",
    choices=(("kind", ("predefined", "free_text")), ("answer_source", _ANSWER_SOURCES)),
)

HELP_FEEDBACK = EventSchema(
    topic=HELP_FEEDBACK_TOPIC,
    event_type="help_feedback",
    table="raw.help_feedback",
    fields=(
        ("event_id", "id"),
        ("event_type", "id"),
        ("event_time", "instant"),
        ("feedback_id", "id"),
        ("question_id", "id"),
        ("helpful", "flag"),
        ("answer_source", "id"),
        ("model", "id"),
        ("model_version", "id"),
        ("request_id", "id"),
    ),
    nullable=frozenset({"model", "model_version"}),
    time_field="event_time",
    nominal_field="event_time",
    choices=(("answer_source", _ANSWER_SOURCES),),
)

SCHEMAS: dict[str, EventSchema] = {
    schema.topic: schema for schema in (ORDER_PLACED, ORDER_DELIVERED, HELP_QUESTION, HELP_FEEDBACK)
}


class InvalidEvent(ValueError):
    """An event that breaks its schema; the message is the one-line reason recorded in quarantine."""


def validate_event(schema: EventSchema, value: Any) -> dict[str, Any]:
    """Return the event as a row (timestamps parsed, numbers typed, unknown keys dropped) or raise InvalidEvent."""
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"event is a {type(value).__name__}, not a JSON object")
    row = parse_row(schema, value)
    if row["event_type"] != schema.event_type:
        raise InvalidEvent(f"event_type: expected {schema.event_type!r}, got {row['event_type']!r}")
    if row["event_time"] != row[schema.time_field]:
        raise InvalidEvent(f"event_time: must equal {schema.time_field}")
    for name, allowed in schema.choices:
        if row[name] not in allowed:
            raise InvalidEvent(f"{name}: expected one of {', '.join(allowed)}, got {row[name]!r}")
    if schema is ORDER_DELIVERED:
        _check_delivery(row)
    row[PARTITION_COLUMN] = nominal_date(row[schema.nominal_field])
    return row


def parse_row(schema: TableSchema, value: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's fields of ``value``, typed; a nullable field may be missing (it becomes None)."""
    row: dict[str, Any] = {}
    for name, kind in schema.fields:
        raw = value.get(name)
        row[name] = None if raw is None and name in schema.nullable else _parse_field(name, kind, raw)
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
    if kind in ("id", "text"):
        if not isinstance(raw, str) or (kind == "id" and not raw.strip()):
            raise InvalidEvent(f"{name}: expected a non-empty string, got {raw!r}")
        return raw
    if kind == "timestamp":
        return _parse_timestamp(name, raw)
    if kind == "instant":
        return _parse_instant(name, raw)
    if kind == "flag":
        if not isinstance(raw, bool):
            raise InvalidEvent(f"{name}: expected true or false, got {raw!r}")
        return raw
    if kind == "strings":
        if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
            raise InvalidEvent(f"{name}: expected a list of strings, got {raw!r}")
        return list(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:  # raw != raw: NaN
        raise InvalidEvent(f"{name}: expected a number, got {raw!r}")
    if kind == "count":
        if not float(raw).is_integer() or raw < 1:
            raise InvalidEvent(f"{name}: expected an integer >= 1, got {raw!r}")
        return int(raw)
    if raw < 0 or raw == float("inf"):
        raise InvalidEvent(f"{name}: expected a finite number >= 0, got {raw!r}")
    return float(raw)


def _parse_instant(name: str, raw: Any) -> datetime:
    parsed = _parse_iso(name, raw)
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)


def _parse_timestamp(name: str, raw: Any) -> datetime:
    parsed = _parse_iso(name, raw)
    if parsed.tzinfo is not None:
        raise InvalidEvent(f"{name}: must be local wall-clock time without a zone, got {raw!r}")
    return parsed


def _parse_iso(name: str, raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise InvalidEvent(f"{name}: expected an ISO-8601 string, got {raw!r}")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidEvent(f"{name}: not an ISO-8601 timestamp: {raw!r}") from None
