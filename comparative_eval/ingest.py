"""The consumer of the prediction log and the outcome topics (at-least-once, idempotent by event id).

Per batch: poll every topic, store the parsed events in ONE transaction (known event ids are ignored), commit
it, and only then commit the consumers' offsets. A crash in between replays the batch, which changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from comparative_eval.domain.events import (
    DELIVERED_TOPIC,
    FEEDBACK_TOPIC,
    PREDICTIONS_TOPIC,
    Outcome,
    Prediction,
    read_delivered,
    read_feedback,
    read_prediction,
)
from comparative_eval.metrics import EvalMetrics
from comparative_eval.ports import UnitOfWorkFactory
from strata_kernel.contracts.events import InvalidEvent
from strata_kernel.eventlog import Event, EventConsumer, EventLog

log = logging.getLogger(__name__)

TOPICS = (PREDICTIONS_TOPIC, DELIVERED_TOPIC, FEEDBACK_TOPIC)
GROUP_PREFIX = "comparative_eval"
_OUTCOME_READERS: dict[str, Callable[[dict[str, Any]], Outcome | None]] = {
    DELIVERED_TOPIC: read_delivered,
    FEEDBACK_TOPIC: read_feedback,
}


class Ingestor:
    def __init__(
        self,
        event_log: EventLog,
        uow_factory: UnitOfWorkFactory,
        metrics: EvalMetrics | None = None,
        max_batch_events: int = 1000,
        poll_timeout_seconds: float = 0.05,
    ) -> None:
        self._uow = uow_factory
        self._metrics = metrics
        self._max = max_batch_events
        self._timeout = poll_timeout_seconds
        # one group per topic, like data_processing's stream workers; opened on the first batch, so a process that
        # never leads the ingest (strata_kernel.background lease) never joins the groups
        self._event_log = event_log
        self._consumers: list[EventConsumer] = []
        self._lock = threading.Lock()  # the service's thread and a request may not share consumers

    def run_once(self) -> int:
        """One batch; returns the number of events polled (0: caught up)."""
        with self._lock:
            if not self._consumers:
                self._consumers = self._open()
            events: list[Event] = []
            for consumer in self._consumers:
                events.extend(consumer.poll(max_records=self._max, timeout_seconds=self._timeout / len(TOPICS)))
            if not events:
                return 0
            predictions, outcomes, counts = _parse(events)
            try:
                with self._uow() as uow:
                    joined = Counter(uow.samples.add_predictions(predictions))
                    joined.update(uow.samples.add_outcomes(outcomes))
                    uow.commit()
            except Exception:
                self._rewind()  # these events were polled but not stored: read them again
                raise
            for consumer in self._consumers:
                consumer.commit()
        if self._metrics is not None:
            for (topic, outcome), count in counts.items():
                self._metrics.events.labels(topic, outcome).inc(count)
            for route, count in joined.items():
                self._metrics.joined_samples.labels(route).inc(count)
        return len(events)

    def _open(self) -> list[EventConsumer]:
        return [self._event_log.consumer(topic, f"{GROUP_PREFIX}.{topic}") for topic in TOPICS]

    def _rewind(self) -> None:
        """Reopen the consumers at their committed offsets (a consumer never re-reads what it returned)."""
        for consumer in self._consumers:
            consumer.close()
        self._consumers = self._open()

    def drain(self, max_batches: int = 1_000_000) -> int:
        """Consume until a poll finds nothing; returns the number of events read."""
        total = 0
        for _ in range(max_batches):
            count = self.run_once()
            if not count:
                break
            total += count
        return total

    def close(self) -> None:
        with self._lock:
            for consumer in self._consumers:
                consumer.close()
            self._consumers = []


def _parse(events: list[Event]) -> tuple[list[Prediction], list[Outcome], Counter[tuple[str, str]]]:
    predictions: list[Prediction] = []
    outcomes: list[Outcome] = []
    counts: Counter[tuple[str, str]] = Counter()
    for event in events:
        try:
            if event.topic == PREDICTIONS_TOPIC:
                predictions.append(read_prediction(event.value))
            else:
                outcome = _OUTCOME_READERS[event.topic](event.value)
                if outcome is None:  # an order placed without a quote: nothing to join
                    counts[(event.topic, "skipped")] += 1
                    continue
                outcomes.append(outcome)
        except (InvalidEvent, ValueError, TypeError, KeyError) as exc:
            log.warning("skipping invalid event at %s@%d: %s", event.topic, event.offset, exc)
            counts[(event.topic, "invalid")] += 1
            continue
        counts[(event.topic, "stored")] += 1
    return predictions, outcomes, counts
