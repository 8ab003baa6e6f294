"""The raw tables the collector lands events into, and the rules an event must obey to enter the lake.

The events themselves — topics, fields, types and the rules every consumer relies on — are the published
language's (strata_kernel.contracts.events); this module adds where each lands (table, partition) and the
collector's own checks. Validation is strict on purpose: a bad event is quarantined with a one-line reason instead
of poisoning raw tables that every downstream job trusts. Order timestamps are ISO-8601 local wall-clock times
without a zone (a documented simplification of the contract); help-centre events may carry a zone (business logic
stamps them in UTC), which is converted to UTC wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strata_kernel.contracts import topics
from strata_kernel.contracts.events import (
    EventShape,
    FieldKind,
    HelpFeedbackGiven,
    HelpQuestionAsked,
    InvalidEvent,
    OrderDelivered,
    OrderPlaced,
    read_event,
)

ORDER_PLACED_TOPIC = topics.ORDER_PLACED.name
ORDER_DELIVERED_TOPIC = topics.ORDER_DELIVERED.name
HELP_QUESTIONS_TOPIC = topics.HELP_QUESTIONS.name
HELP_FEEDBACK_TOPIC = topics.HELP_FEEDBACK.name
ORDER_TOPICS = (ORDER_PLACED_TOPIC, ORDER_DELIVERED_TOPIC)
HELP_TOPICS = (HELP_QUESTIONS_TOPIC, HELP_FEEDBACK_TOPIC)
TOPICS = (*ORDER_TOPICS, *HELP_TOPICS)
#: the simulator's order topics are keyed by the order
KEY_FIELD = topics.ORDER_PLACED.key_field
PARTITION_COLUMN = "nominal_date"


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
    """The raw table of one topic: the event's published shape, landed with every field as a column."""

    shape: EventShape
    nominal_field: str = "placed_at"  # the field whose date is the row's partition

    @classmethod
    def of(cls, shape: EventShape, *, table: str, nominal_field: str = "placed_at") -> EventSchema:
        return cls(table=table, fields=shape.fields, nullable=shape.nullable, shape=shape, nominal_field=nominal_field)

    @property
    def topic(self) -> str:
        return self.shape.topic.name

    @property
    def event_type(self) -> str:
        return self.shape.event_type


ORDER_PLACED = EventSchema.of(OrderPlaced.SHAPE, table="raw.order_placed")
ORDER_DELIVERED = EventSchema.of(OrderDelivered.SHAPE, table="raw.order_delivered")
HELP_QUESTION = EventSchema.of(HelpQuestionAsked.SHAPE, table="raw.help_questions", nominal_field="event_time")
HELP_FEEDBACK = EventSchema.of(HelpFeedbackGiven.SHAPE, table="raw.help_feedback", nominal_field="event_time")

SCHEMAS: dict[str, EventSchema] = {
    schema.topic: schema for schema in (ORDER_PLACED, ORDER_DELIVERED, HELP_QUESTION, HELP_FEEDBACK)
}


def validate_event(schema: EventSchema, value: Any) -> dict[str, Any]:
    """Return the event as a row (timestamps parsed, numbers typed, unknown keys dropped) or raise InvalidEvent."""
    row = read_event(schema.shape, value)
    if schema is ORDER_DELIVERED:
        _check_delivery(row)
    row[PARTITION_COLUMN] = nominal_date(row[schema.nominal_field])
    return row


def nominal_date(placed_at: datetime) -> str:
    """The partition of an order's rows: the local calendar date it was placed."""
    return placed_at.date().isoformat()


def _check_delivery(row: dict[str, Any]) -> None:
    if row["delivered_at"] < row["placed_at"]:
        raise InvalidEvent("delivered_at: earlier than placed_at", field="delivered_at")
    if row["prep_minutes"] > row["delivery_minutes"]:
        raise InvalidEvent("prep_minutes: longer than delivery_minutes", field="prep_minutes")
    elapsed = (row["delivered_at"] - row["placed_at"]).total_seconds() / 60
    if abs(elapsed - row["delivery_minutes"]) > 0.05:  # the label must be what the timestamps say
        raise InvalidEvent(
            f"delivery_minutes: {row['delivery_minutes']} but delivered_at - placed_at is {elapsed:.2f}",
            field="delivery_minutes",
        )
