"""The topics comparative_eval consumes, read into plain values (invalid events raise ``ValueError``).

``inference.predictions`` gives one logged prediction; ``etd.order_delivered`` (with ``quote_request_id``) and
``help.feedback`` give outcomes joined later on the prediction's ``request_id``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PREDICTIONS_TOPIC = "inference.predictions"
DELIVERED_TOPIC = "etd.order_delivered"
FEEDBACK_TOPIC = "help.feedback"
ROUTES = ("stable", "canary", "shadow")


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
    if not isinstance(value, str) or not value:
        raise ValueError(f"not an ISO-8601 time: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def read_prediction(value: dict[str, Any]) -> Prediction:
    route = value.get("route")
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    raw = value.get("prediction")
    number = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if number is not None and not math.isfinite(number):
        number = None
    latency = value.get("latency_ms")
    instance = value.get("instance")
    return Prediction(
        event_id=_text(value, "event_id"),
        request_id=_text(value, "request_id"),
        model=_text(value, "model"),
        version=str(value.get("version") or "").strip() or _missing("version"),
        route=route,
        event_time=parse_time(value.get("event_time")),
        ok=value.get("outcome", "ok") == "ok",
        latency_ms=float(latency) if isinstance(latency, int | float) and not isinstance(latency, bool) else None,
        value=number,
        label=raw if isinstance(raw, str) else None,
        instance=instance if isinstance(instance, dict) else None,
        node=value.get("node") if isinstance(value.get("node"), str) else None,
        error=str(value["error"])[:500] if value.get("error") else None,
    )


def read_delivered(value: dict[str, Any]) -> Outcome | None:
    """An order delivered after an ETD quote; ``None`` when it carries no ``quote_request_id`` (nothing to join)."""
    request_id = value.get("quote_request_id")
    if not request_id:
        return None
    minutes = value.get("delivery_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
        raise ValueError(f"delivery_minutes must be a number, got {minutes!r}")
    return Outcome(_text(value, "event_id"), "etd", str(request_id), float(minutes), None)


def read_feedback(value: dict[str, Any]) -> Outcome | None:
    request_id = value.get("request_id")
    if not request_id:
        return None
    helpful = value.get("helpful")
    if not isinstance(helpful, bool):
        raise ValueError(f"helpful must be a boolean, got {helpful!r}")
    return Outcome(_text(value, "event_id"), "feedback", str(request_id), None, helpful)


def _text(value: dict[str, Any], key: str) -> str:
    found = value.get(key)
    if found is None or str(found) == "":
        _missing(key)
    return str(found)


def _missing(key: str) -> str:
    raise ValueError(f"missing {key}")
