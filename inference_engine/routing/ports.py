"""Interfaces routing needs, in domain terms: where predictions are logged, where routing records come from."""

from __future__ import annotations

import abc
from typing import Any, NamedTuple


class PredictionEntry(NamedTuple):
    """One answered (or failed) route of a request, as captured on the request thread: no formatting there."""

    at: float  # time.time() when the answer was ready
    request_id: str
    model: str
    version: int
    route: str  # "stable" | "canary" | "shadow"
    routing_key: str
    node: str | None
    instance: Any  # the first instance (the request's own dict: never mutated after the request)
    prediction: Any  # the first prediction: a float, or the chatbot's answer dict
    latency_ms: float
    error: str | None = None  # None = outcome "ok"


class PredictionLog(abc.ABC):
    """The ``inference.predictions`` topic, written off the request path."""

    @abc.abstractmethod
    def record(self, entry: PredictionEntry) -> None:
        """Queue one entry; never blocks and never raises (a full queue drops the entry and counts it)."""

    def close(self) -> None:
        """Publish what is queued and stop."""


class NullPredictionLog(PredictionLog):
    """Logs nothing (a deployment that turned the prediction log off)."""

    def record(self, entry: PredictionEntry) -> None:
        return None


class RoutingSource(abc.ABC):
    """Where the current routing record of a model is kept (comparative_eval)."""

    @abc.abstractmethod
    def current(self, model: str) -> dict[str, Any] | None:
        """The model's current routing record as sent, None when it has none; Unavailable when unreachable."""

    def close(self) -> None:
        """Release connections."""
