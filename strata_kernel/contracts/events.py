"""The event payloads of every topic (see :mod:`.topics`), with the typed-field rules consumers check them by.

An order event's times are the city's local wall-clock time without a zone; help-centre and prediction events
carry instants (a zone is converted to UTC). Each payload has ``event_id`` (consumers de-duplicate by it) and
``event_time``. Producers build the dataclass and publish ``to_wire()``; consumers call ``from_wire(value)``,
which raises :class:`InvalidEvent` (a 400-class error) with a one-line reason naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from strata_kernel.contracts import topics
from strata_kernel.contracts.routing import ROUTES
from strata_kernel.contracts.topics import Topic
from strata_kernel.contracts.wire import is_number, utc_instant
from strata_kernel.errors import BadRequest

#: how a field is checked: non-empty string, local ISO timestamp (no zone), integer >= 1, number >= 0, any ISO
#: timestamp (a zone is converted to UTC), boolean, free text (may be empty), list of strings
FieldKind = Literal["id", "timestamp", "count", "amount", "instant", "flag", "text", "strings"]
Fields = tuple[tuple[str, FieldKind], ...]

QuestionKind = Literal["predefined", "free_text"]
QUESTION_KINDS: tuple[QuestionKind, ...] = ("predefined", "free_text")
AnswerSource = Literal["predefined", "model", "unknown", "fallback", "blocked"]
ANSWER_SOURCES: tuple[AnswerSource, ...] = ("predefined", "model", "unknown", "fallback", "blocked")


class InvalidEvent(BadRequest):
    """An event that breaks its contract; the message is a one-line reason (what a quarantine records)."""

    code = "invalid_event"


@dataclass(frozen=True, kw_only=True)
class EventShape:
    """The wire fields of one event type and the rules every consumer may rely on."""

    topic: Topic
    event_type: str
    fields: Fields
    #: fields that may be missing or null
    nullable: frozenset[str] = frozenset()
    #: the field ``event_time`` must equal
    time_field: str = "event_time"
    #: fields restricted to a set of values
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.fields]


def read_event(shape: EventShape, value: Any) -> dict[str, Any]:
    """Every field of ``shape`` typed (timestamps parsed, numbers typed, unknown keys dropped), or InvalidEvent."""
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"event is a {type(value).__name__}, not a JSON object")
    row = parse_fields(shape.fields, shape.nullable, value)
    if row["event_type"] != shape.event_type:
        raise InvalidEvent(f"event_type: expected {shape.event_type!r}, got {row['event_type']!r}", field="event_type")
    if row["event_time"] != row[shape.time_field]:
        raise InvalidEvent(f"event_time: must equal {shape.time_field}", field="event_time")
    for name, allowed in shape.choices:
        if row[name] not in allowed:
            raise InvalidEvent(f"{name}: expected one of {', '.join(allowed)}, got {row[name]!r}", field=name)
    return row


def parse_fields(fields: Fields, nullable: frozenset[str], value: Mapping[str, Any]) -> dict[str, Any]:
    """The named fields of ``value``, typed; a nullable field may be missing (it becomes None)."""
    row: dict[str, Any] = {}
    for name, kind in fields:
        raw = value.get(name)
        row[name] = None if raw is None and name in nullable else parse_field(name, kind, raw)
    return row


def parse_field(name: str, kind: FieldKind, raw: Any) -> Any:
    if raw is None:
        raise InvalidEvent(f"{name}: missing", field=name)
    if kind in ("id", "text"):
        if not isinstance(raw, str) or (kind == "id" and not raw.strip()):
            raise InvalidEvent(f"{name}: expected a non-empty string, got {raw!r}", field=name)
        return raw
    if kind == "timestamp":
        return _local_timestamp(name, raw)
    if kind == "instant":
        return _instant(name, raw)
    if kind == "flag":
        if not isinstance(raw, bool):
            raise InvalidEvent(f"{name}: expected true or false, got {raw!r}", field=name)
        return raw
    if kind == "strings":
        if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
            raise InvalidEvent(f"{name}: expected a list of strings, got {raw!r}", field=name)
        return list(raw)
    if not is_number(raw) or raw != raw:  # raw != raw: NaN
        raise InvalidEvent(f"{name}: expected a number, got {raw!r}", field=name)
    if kind == "count":
        if not float(raw).is_integer() or raw < 1:
            raise InvalidEvent(f"{name}: expected an integer >= 1, got {raw!r}", field=name)
        return int(raw)
    if raw < 0 or raw == float("inf"):
        raise InvalidEvent(f"{name}: expected a finite number >= 0, got {raw!r}", field=name)
    return float(raw)


def _instant(name: str, raw: Any) -> datetime:
    parsed = _iso(name, raw)
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)


def _local_timestamp(name: str, raw: Any) -> datetime:
    parsed = _iso(name, raw)
    if parsed.tzinfo is not None:
        raise InvalidEvent(f"{name}: must be local wall-clock time without a zone, got {raw!r}", field=name)
    return parsed


def _iso(name: str, raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise InvalidEvent(f"{name}: expected an ISO-8601 string, got {raw!r}", field=name)
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidEvent(f"{name}: not an ISO-8601 timestamp: {raw!r}", field=name) from None


def _typed(shape: EventShape, value: Any, *, keep_event_time: bool) -> dict[str, Any]:
    row = read_event(shape, value)
    del row["event_type"]
    if not keep_event_time:  # an order's event_time is its placed_at / delivered_at
        del row["event_time"]
    return row


# ------------------------------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced:
    """``etd.order_placed``: an order was placed (its nominal time for ETD)."""

    SHAPE: ClassVar[EventShape] = EventShape(
        topic=topics.ORDER_PLACED,
        event_type="order_placed",
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

    event_id: str
    order_id: str
    restaurant_id: str
    city_id: str
    country_code: str
    placed_at: datetime
    n_items: int
    subtotal: float

    @property
    def event_time(self) -> datetime:
        return self.placed_at

    def to_wire(self) -> dict[str, Any]:
        at = self.placed_at.isoformat()
        return {
            "event_id": self.event_id,
            "event_type": "order_placed",
            "event_time": at,
            "order_id": self.order_id,
            "restaurant_id": self.restaurant_id,
            "city_id": self.city_id,
            "country_code": self.country_code,
            "placed_at": at,
            "n_items": self.n_items,
            "subtotal": self.subtotal,
        }

    @classmethod
    def from_wire(cls, value: Any) -> OrderPlaced:
        return cls(**_typed(cls.SHAPE, value, keep_event_time=False))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDelivered:
    """``etd.order_delivered``: the truth of an ETD (``delivery_minutes`` from placed_at to delivered_at)."""

    SHAPE: ClassVar[EventShape] = EventShape(
        topic=topics.ORDER_DELIVERED,
        event_type="order_delivered",
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
            ("quote_request_id", "id"),
        ),
        nullable=frozenset({"quote_request_id"}),
        time_field="delivered_at",
    )

    event_id: str
    order_id: str
    restaurant_id: str
    placed_at: datetime
    delivered_at: datetime
    prep_minutes: float
    delivery_minutes: float
    #: the request id of the ETD quote the order was placed with (orders placed without a quote have none)
    quote_request_id: str | None = None

    @property
    def event_time(self) -> datetime:
        return self.delivered_at

    def to_wire(self) -> dict[str, Any]:
        done = self.delivered_at.isoformat()
        body = {
            "event_id": self.event_id,
            "event_type": "order_delivered",
            "event_time": done,
            "order_id": self.order_id,
            "restaurant_id": self.restaurant_id,
            "placed_at": self.placed_at.isoformat(),
            "delivered_at": done,
            "prep_minutes": self.prep_minutes,
            "delivery_minutes": self.delivery_minutes,
        }
        if self.quote_request_id is not None:
            body["quote_request_id"] = self.quote_request_id
        return body

    @classmethod
    def from_wire(cls, value: Any) -> OrderDelivered:
        return cls(**_typed(cls.SHAPE, value, keep_event_time=False))


# ------------------------------------------------------------------------------------------------- help centre


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpQuestionAsked:
    """``help.questions``: a question and the answer it got, published after the answer is stored."""

    SHAPE: ClassVar[EventShape] = EventShape(
        topic=topics.HELP_QUESTIONS,
        event_type="help_question",
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
        choices=(("kind", QUESTION_KINDS), ("answer_source", ANSWER_SOURCES)),
    )

    event_id: str
    event_time: datetime
    question_id: str
    session_id: str | None
    kind: QuestionKind
    predefined_id: str | None
    text: str
    answer_source: AnswerSource
    article_id: str | None
    confidence: float | None
    model: str | None
    model_version: str | None
    #: the request id of the answer (joins it with inference.predictions)
    request_id: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": "help_question",
            "event_time": self.event_time.isoformat(timespec="seconds"),
            "question_id": self.question_id,
            "session_id": self.session_id,
            "kind": self.kind,
            "predefined_id": self.predefined_id,
            "text": self.text,
            "answer_source": self.answer_source,
            "article_id": self.article_id,
            "confidence": self.confidence,
            "model": self.model,
            "model_version": self.model_version,
            "request_id": self.request_id,
        }

    @classmethod
    def from_wire(cls, value: Any) -> HelpQuestionAsked:
        return cls(**_typed(cls.SHAPE, value, keep_event_time=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpFeedbackGiven:
    """``help.feedback``: "Did I answer your question?" — ``request_id`` is the judged answer's."""

    SHAPE: ClassVar[EventShape] = EventShape(
        topic=topics.HELP_FEEDBACK,
        event_type="help_feedback",
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
        choices=(("answer_source", ANSWER_SOURCES),),
    )

    event_id: str
    event_time: datetime
    feedback_id: str
    question_id: str
    helpful: bool
    answer_source: AnswerSource
    model: str | None
    model_version: str | None
    request_id: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": "help_feedback",
            "event_time": self.event_time.isoformat(timespec="seconds"),
            "feedback_id": self.feedback_id,
            "question_id": self.question_id,
            "helpful": self.helpful,
            "answer_source": self.answer_source,
            "model": self.model,
            "model_version": self.model_version,
            "request_id": self.request_id,
        }

    @classmethod
    def from_wire(cls, value: Any) -> HelpFeedbackGiven:
        return cls(**_typed(cls.SHAPE, value, keep_event_time=True))


# ------------------------------------------------------------------------------------------------- predictions


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictionLogged:
    """``inference.predictions``: one answered (or failed) route of a request, logged off the request path."""

    TOPIC: ClassVar[Topic] = topics.PREDICTIONS

    event_id: str
    event_time: datetime  # UTC, with its zone
    request_id: str
    model: str
    version: str
    route: str  # "stable" | "canary" | "shadow"
    routing_key: str | None = None
    node: str | None = None
    #: the request's first instance
    instance: dict[str, Any] | None = None
    #: the first prediction: a number (ETD minutes), or a label (the chatbot's article id), None when none
    prediction: float | str | None = None
    latency_ms: float | None = None
    outcome: str = "ok"  # "ok" | "error"
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_time": self.event_time.isoformat(timespec="milliseconds"),
            "request_id": self.request_id,
            "model": self.model,
            "version": self.version,
            "route": self.route,
            "routing_key": self.routing_key,
            "node": self.node,
            "instance": self.instance,
            "prediction": self.prediction,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "outcome": self.outcome,
            "error": self.error,
        }

    @classmethod
    def from_wire(cls, value: Any) -> PredictionLogged:
        """Strict on what joins and judges need (ids, model, version, route, time); tolerant elsewhere: a
        prediction that is neither a finite number nor a string, or a latency that is not a number, reads as
        None; a missing outcome as "ok"."""
        if not isinstance(value, Mapping):
            raise InvalidEvent(f"event is a {type(value).__name__}, not a JSON object")
        route = value.get("route")
        if route not in ROUTES:
            raise InvalidEvent(f"route must be one of {ROUTES}, got {route!r}", field="route")
        raw = value.get("prediction")
        prediction: float | str | None = raw if isinstance(raw, str) else None
        if is_number(raw) and math.isfinite(raw):
            prediction = float(raw)
        latency, instance, node, error = (value.get(key) for key in ("latency_ms", "instance", "node", "error"))
        try:
            event_time = utc_instant(value.get("event_time")).replace(tzinfo=UTC)
        except ValueError as exc:
            raise InvalidEvent(f"event_time: {exc}", field="event_time") from None
        return cls(
            event_id=_required_text(value, "event_id"),
            request_id=_required_text(value, "request_id"),
            model=_required_text(value, "model"),
            version=str(value.get("version") or "").strip() or _missing("version"),
            route=route,
            event_time=event_time,
            routing_key=None if value.get("routing_key") is None else str(value.get("routing_key")),
            node=node if isinstance(node, str) else None,
            instance=instance if isinstance(instance, dict) else None,
            prediction=prediction,
            latency_ms=float(latency) if is_number(latency) else None,
            outcome="ok" if value.get("outcome", "ok") == "ok" else "error",
            error=str(error) if error else None,
        )


def _required_text(value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    if found is None or str(found) == "":
        _missing(key)
    return str(found)


def _missing(key: str) -> str:
    raise InvalidEvent(f"missing {key}", field=key)


#: every event type by topic name
EVENTS: dict[str, Any] = {
    topics.ORDER_PLACED.name: OrderPlaced,
    topics.ORDER_DELIVERED.name: OrderDelivered,
    topics.HELP_QUESTIONS.name: HelpQuestionAsked,
    topics.HELP_FEEDBACK.name: HelpFeedbackGiven,
    topics.PREDICTIONS.name: PredictionLogged,
}
