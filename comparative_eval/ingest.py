"""The consumer of the prediction log and the outcome topics (at-least-once, idempotent by event id).

Per batch: poll every topic, store the parsed events in ONE transaction (known event ids are ignored), commit
it, and only then commit the consumers' offsets. A crash in between replays the batch, which changes nothing.
``events_total{topic,outcome}`` counts each event read: ``stored`` (a row written), ``duplicate`` (held already: a
batch delivered again, a producer's retry, or an outcome of a request that has one of its kind; or an invalid or
skipped event at an offset this process counted already), ``invalid``, ``skipped`` (an order delivered without a
quote). Invalid and skipped events are not stored, so their copies are recognised by offset: the ingestor keeps, per
topic and partition, the offset after the last event it counted. A copy delivered to another process (after a
restart, or to the partition's new owner after a rebalance) counts there again.
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
from comparative_eval.ports import Added, UnitOfWorkFactory
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
        self._counted_to: dict[tuple[str, int], int] = {}  # (topic, partition) -> offset after the last one counted

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
            predictions, outcomes, read, counts = _parse(events, self._counted_to)
            try:
                with self._uow() as uow:
                    added_predictions = uow.samples.add_predictions(predictions)
                    added_outcomes = uow.samples.add_outcomes(outcomes)
                    uow.commit()
            except Exception:
                self._rewind()  # these events were polled but not stored: read them again
                raise
            for consumer in self._consumers:
                consumer.commit()
            for event in events:
                at = (event.topic, event.partition)
                self._counted_to[at] = max(self._counted_to.get(at, 0), event.offset + 1)
        joined = Counter(added_predictions.joined) + Counter(added_outcomes.joined)
        counts.update(_stored_or_duplicate(read, added_predictions, added_outcomes))
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


def _parse(
    events: list[Event], counted_to: dict[tuple[str, int], int]
) -> tuple[list[Prediction], list[Outcome], list[tuple[str, str]], Counter[tuple[str, str]]]:
    """The predictions and outcomes read, ``(topic, event id)`` of each in the batch's order, and the count of the
    events not read by (topic, outcome): invalid or skipped, or duplicate if one was counted at its offset already."""
    predictions: list[Prediction] = []
    outcomes: list[Outcome] = []
    read: list[tuple[str, str]] = []
    counts: Counter[tuple[str, str]] = Counter()
    for event in events:
        try:
            if event.topic == PREDICTIONS_TOPIC:
                prediction = read_prediction(event.value)
                predictions.append(prediction)
                read.append((event.topic, prediction.event_id))
                continue
            outcome = _OUTCOME_READERS[event.topic](event.value)
        except (InvalidEvent, ValueError, TypeError, KeyError) as exc:
            log.warning("skipping invalid event at %s@%d: %s", event.topic, event.offset, exc)
            counts[(event.topic, _unless_counted(event, "invalid", counted_to))] += 1
            continue
        if outcome is None:  # an order placed without a quote: nothing to join
            counts[(event.topic, _unless_counted(event, "skipped", counted_to))] += 1
            continue
        outcomes.append(outcome)
        read.append((event.topic, outcome.event_id))
    return predictions, outcomes, read, counts


def _unless_counted(event: Event, outcome: str, counted_to: dict[tuple[str, int], int]) -> str:
    """``outcome``, or ``duplicate`` for an event at an offset counted already (a batch delivered again)."""
    return "duplicate" if event.offset < counted_to.get((event.topic, event.partition), 0) else outcome


def _stored_or_duplicate(read: list[tuple[str, str]], predictions: Added, outcomes: Added) -> Counter[tuple[str, str]]:
    """Each event read counted ``stored`` when the store wrote its row, else ``duplicate``: held already, or a copy
    within the batch of the one stored."""
    counts: Counter[tuple[str, str]] = Counter()
    written = {"predictions": set(predictions.stored), "outcomes": set(outcomes.stored)}
    for topic, event_id in read:
        rows = written["predictions" if topic == PREDICTIONS_TOPIC else "outcomes"]
        counts[(topic, "stored" if event_id in rows else "duplicate")] += 1
        rows.discard(event_id)
    return counts
