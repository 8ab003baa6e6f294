"""The topics comparative_eval consumes (strata_kernel.contracts.events), read into the values it judges by.

``inference.predictions`` gives one logged prediction; ``etd.order_delivered`` (with ``quote_request_id``) and
``help.feedback`` give outcomes joined later on the prediction's ``request_id``. An invalid event raises the
contract's ``InvalidEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strata_kernel.contracts import topics
from strata_kernel.contracts.events import HelpFeedbackGiven, OrderDelivered, PredictionLogged
from strata_kernel.contracts.routing import ROUTES
from strata_kernel.contracts.wire import utc_instant

PREDICTIONS_TOPIC = topics.PREDICTIONS.name
DELIVERED_TOPIC = topics.ORDER_DELIVERED.name
FEEDBACK_TOPIC = topics.HELP_FEEDBACK.name
__all__ = ["DELIVERED_TOPIC", "FEEDBACK_TOPIC", "PREDICTIONS_TOPIC", "ROUTES", "Outcome", "Prediction"]

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Prediction:
    event_id: str
    request_id: str
    model: str
    version: str
    route: str
    event_time: datetime  # UTC, naive
    ok: bool
    latency_ms: float | None
    value: float | None  # numeric prediction (ETD minutes); None for a label
    label: str | None  # non-numeric prediction (the chatbot's article_id)
    instance: dict[str, Any] | None
    node: str | None
    error: str | None


@dataclass(frozen=True)
class Outcome:
    event_id: str
    kind: str  # "etd" | "feedback"
    request_id: str
    truth: float | None  # delivery_minutes
    helpful: bool | None


def parse_time(value: Any) -> datetime:
    """ISO-8601 -> naive UTC. A string without zone is taken as UTC (the engine logs UTC)."""
    return utc_instant(value)


def read_prediction(value: dict[str, Any]) -> Prediction:
    logged = PredictionLogged.from_wire(value)
    label = logged.prediction if isinstance(logged.prediction, str) else None
    return Prediction(
        event_id=logged.event_id,
        request_id=logged.request_id,
        model=logged.model,
        version=logged.version,
        route=logged.route,
        event_time=logged.event_time.replace(tzinfo=None),
        ok=logged.ok,
        latency_ms=logged.latency_ms,
        value=None if label is not None else logged.prediction,  # type: ignore[arg-type]
        label=label,
        instance=logged.instance,
        node=logged.node,
        error=logged.error[:MAX_ERROR_CHARS] if logged.error else None,
    )


def read_delivered(value: dict[str, Any]) -> Outcome | None:
    """An order delivered after an ETD quote; ``None`` when it carries no ``quote_request_id`` (nothing to join)."""
    delivered = OrderDelivered.from_wire(value)
    if not delivered.quote_request_id:
        return None
    return Outcome(delivered.event_id, "etd", delivered.quote_request_id, delivered.delivery_minutes, None)


def read_feedback(value: dict[str, Any]) -> Outcome | None:
    feedback = HelpFeedbackGiven.from_wire(value)
    return Outcome(feedback.event_id, "feedback", feedback.request_id, None, feedback.helpful)
