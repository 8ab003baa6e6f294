"""Use cases: publish a simulation to the event log, and collect order events into the raw lake zone.

The collector is at-least-once: a batch's offsets are committed only after the lake commit succeeded.
A failed batch is dropped from memory and the consumer reopened, so the same events come again;
duplicate event_ids inside one batch are dropped here, across batches downstream (processed.orders): the
collector keeps no event ids between batches, so an event delivered again lands and counts as collected again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_collection.domain.events import KEY_FIELD, EventSchema, InvalidEvent, validate_event
from data_collection.domain.status import BatchResult
from data_collection.ports import BatchObserver, Quarantine, QuarantinedEvent, RawLake
from strata_kernel.eventlog import Event, EventConsumer, EventLog

log = logging.getLogger(__name__)

JOB_NAME = "data_collection.collect"


def publish_batches(event_log: EventLog, batches: Iterable[tuple[str, list[dict[str, Any]]]], size: int) -> int:
    """Publish ``(topic, events)`` pairs in per-topic batches of ``size``; returns the number of events."""
    buffers: dict[str, list[dict[str, Any]]] = {}
    published = 0
    for topic, events in batches:
        buffer = buffers.setdefault(topic, [])
        buffer.extend(events)
        while len(buffer) >= size:
            event_log.publish(topic, buffer[:size], key_field=KEY_FIELD)
            published += size
            del buffer[:size]
    for topic, buffer in buffers.items():
        event_log.publish(topic, buffer, key_field=KEY_FIELD)
        published += len(buffer)
    return published


def write_json_atomically(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class CollectorConfig:
    group: str = "data_collection"
    flush_events: int = 50_000  # flush a batch at this size, or sooner when the topic is idle
    poll_records: int = 5_000
    poll_timeout_seconds: float = 0.5  # an empty poll this long means "idle"
    #: one consumer group per topic (``<group>.<topic>``): Kafka rebalances a group across every topic its members
    #: read whenever one joins, and the collector's per-topic consumers would stall each other (measured on tansu:
    #: minutes of rejoining). The local log keeps offsets per topic anyway (its group files stay as they were).
    group_per_topic: bool = False


class TopicCollector:
    """Drains one topic batch by batch: validate, dedupe, land in the lake, quarantine the bad, then commit."""

    def __init__(
        self, schema: EventSchema, event_log: EventLog, lake: RawLake, quarantine: Quarantine, config: CollectorConfig
    ) -> None:
        self.schema = schema
        self._event_log = event_log
        self._lake = lake
        self._quarantine = quarantine
        self._config = config
        self._consumer: EventConsumer | None = None

    def collect_batch(self) -> BatchResult | None:
        """Land the next batch; ``None`` when the topic is idle. On failure nothing is committed."""
        consumer = self._open_consumer()
        events = self._poll_batch(consumer)
        if not events:
            return None
        try:
            result = self._land(events)
        except Exception:
            self.reset()  # forget the uncommitted position: the batch will be delivered again
            raise
        consumer.commit()
        return result

    def drained(self) -> bool:
        """Nothing left to read (a consumer still joining its Kafka group has read nothing yet)."""
        return self._open_consumer().caught_up()

    def reset(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _open_consumer(self) -> EventConsumer:
        if self._consumer is None:
            topic, group = self.schema.topic, self._config.group
            self._consumer = self._event_log.consumer(
                topic, f"{group}.{topic}" if self._config.group_per_topic else group
            )
        return self._consumer

    def _poll_batch(self, consumer: EventConsumer) -> list[Event]:
        events: list[Event] = []
        while len(events) < self._config.flush_events:
            wanted = min(self._config.poll_records, self._config.flush_events - len(events))
            polled = consumer.poll(max_records=wanted, timeout_seconds=self._config.poll_timeout_seconds)
            if not polled:
                break
            events.extend(polled)
        return events

    def _land(self, events: Sequence[Event]) -> BatchResult:
        rows, rejected, duplicates = self._sort_out(events)
        version = None
        if rows:
            inputs = [f"topic:{self.schema.topic}"]
            version = self._lake.append(self.schema, rows, job=JOB_NAME, inputs=inputs)
        if rejected:
            self._quarantine.put(rejected)
            for bad in rejected[:3]:
                log.warning("quarantined %s@%s: %s", bad.topic, bad.offset, bad.reason)
        return BatchResult(self.schema.topic, len(rows), len(rejected), duplicates, version)

    def _sort_out(self, events: Sequence[Event]) -> tuple[list[dict[str, Any]], list[QuarantinedEvent], int]:
        rows: list[dict[str, Any]] = []
        rejected: list[QuarantinedEvent] = []
        seen: set[str] = set()
        for event in events:
            try:
                row = validate_event(self.schema, event.value)
            except InvalidEvent as exc:
                rejected.append(QuarantinedEvent(event.topic, event.offset, str(exc), event.value))
                continue
            if row["event_id"] not in seen:
                seen.add(row["event_id"])
                rows.append(row)
        return rows, rejected, len(events) - len(rows) - len(rejected)


class Collector:
    """Round-robin over the order topics, telling observers about every batch."""

    def __init__(self, topics: Sequence[TopicCollector], observers: Sequence[BatchObserver] = ()) -> None:
        self._topics = list(topics)
        self._observers = list(observers)

    def step(self) -> int:
        """One batch from each topic; returns the number of events handled (0 = all idle)."""
        handled = 0
        for topic in self._topics:
            try:
                result = topic.collect_batch()
            except Exception as exc:
                reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                for observer in self._observers:
                    observer.record_failure(topic.schema.topic, reason)
                raise
            if result is not None:
                handled += result.collected + result.quarantined + result.duplicates
                log.info(
                    "landed %d events of %s (lake version %s), quarantined %d, dropped %d duplicates",
                    result.collected, result.topic, result.lake_version, result.quarantined, result.duplicates,
                )  # fmt: skip
                for observer in self._observers:
                    observer.record_batch(result)
        return handled

    def run_until_idle(self, join_timeout_seconds: float = 300.0) -> int:
        """Drain every topic; returns the number of events handled. A failed batch raises (and stays uncommitted).

        Idle means an empty round with every topic read to its end: against Kafka a round is also empty while a
        consumer is still joining its group (seconds); that wait is bounded by ``join_timeout_seconds``."""
        total = 0
        deadline = time.monotonic() + join_timeout_seconds
        while True:
            handled = self.step()
            total += handled
            if handled:
                continue
            if all(topic.drained() for topic in self._topics) or time.monotonic() > deadline:
                return total

    def close(self) -> None:
        for topic in self._topics:
            topic.reset()
