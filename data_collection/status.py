"""What the collector has done so far, per topic: the numbers behind ``GET /v1/status``."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from data_collection.domain.status import BatchResult
from data_collection.ports import BatchObserver


@dataclass
class TopicStats:
    """Totals since the process started. ``collected``: rows appended to the raw table (an event delivered again in
    a later batch counts again); ``duplicates``: copies of an event id within one batch, dropped."""

    collected: int = 0
    quarantined: int = 0
    duplicates: int = 0
    batches: int = 0
    failed_batches: int = 0
    last_batch_at: str | None = None
    last_error: str | None = None


class CollectorStatus(BatchObserver):
    """Thread-safe running totals: the collector thread writes, HTTP handlers read snapshots."""

    def __init__(self, topics: Iterable[str] = ()) -> None:
        self._topics: dict[str, TopicStats] = {topic: TopicStats() for topic in topics}
        self._lock = threading.Lock()

    def record_batch(self, result: BatchResult) -> None:
        with self._lock:
            stats = self._topics.setdefault(result.topic, TopicStats())
            stats.collected += result.collected
            stats.quarantined += result.quarantined
            stats.duplicates += result.duplicates
            stats.batches += 1
            stats.last_batch_at = _now()
            stats.last_error = None

    def record_failure(self, topic: str, reason: str) -> None:
        with self._lock:
            stats = self._topics.setdefault(topic, TopicStats())
            stats.failed_batches += 1
            stats.last_error = reason

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {topic: asdict(stats) for topic, stats in self._topics.items()}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
