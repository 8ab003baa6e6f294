"""The streaming worker: poll the group's topics, apply events to window state, write, then commit offsets.

One batch, in this order (at-least-once, idempotent by event id):
1. apply the polled events to the in-memory states of their entities (duplicates change nothing);
2. save the changed snapshots and their feature rows (the outbox) in ONE state transaction;
3. upsert the rows into the online store and mark them published (``created_at`` = when readable online);
4. commit the event-log offsets.
A crash before 2 replays the batch from the log; after 2, the outbox finishes 3 at start-up and the
replayed events are recognised by id. A background thread appends published rows to the lake every
``offline_flush_seconds`` (they wait in the outbox while the lake is down), off the path to freshness.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data_processing.domain.online import OnlineRow
from data_processing.ports import OnlineStore
from data_processing.streaming.group import EntityState, StreamingGroup
from data_processing.streaming.metrics import StreamMetrics
from data_processing.streaming.offline import LakeSink
from data_processing.streaming.state_sqlite import FeatureRow, WindowStateStore
from strata_kernel.background import BackgroundLoop
from strata_kernel.errors import StrataError
from strata_kernel.eventlog import Event, EventConsumer

log = logging.getLogger(__name__)

FAULT_POINTS = frozenset({"", "after_state", "before_offsets"})


@dataclass(frozen=True)
class WorkerConfig:
    poll_timeout_seconds: float = 0.05
    max_batch_events: int = 500
    offline_flush_seconds: float = 5.0
    offline_flush_rows: int = 5000
    fault_point: str = ""  # see Settings.stream_fault_point
    fault_after_batches: int = 1


class StreamWorker:
    def __init__(
        self,
        group: StreamingGroup,
        consumers: Sequence[EventConsumer],  # one per topic of the group, in the order of its topics
        state: WindowStateStore,
        outbox: WindowStateStore,  # a second connection to the same file, for the lake-flushing thread
        online: OnlineStore,
        offline: LakeSink,
        metrics: StreamMetrics,
        config: WorkerConfig = WorkerConfig(),
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        if config.fault_point not in FAULT_POINTS:
            raise ValueError(f"stream_fault_point must be one of {sorted(FAULT_POINTS)}")
        self._group, self._consumers, self._state, self._outbox = group, list(consumers), state, outbox
        self._online, self._offline, self._metrics = online, offline, metrics
        self._config, self._now = config, now
        self._entities: dict[str, EntityState] = {
            entity: group.new_state(snapshot) for entity, snapshot in state.snapshots().items()
        }
        self._newest = max((s.clock for s in self._entities.values() if s.clock), default=None)
        self._batches = 0
        self.ready = threading.Event()
        metrics.track_age(group.name, lambda: self._newest, now)

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event, idle_seconds: float | None = None) -> dict[str, Any]:
        """Process batches until ``stop`` is set (or nothing arrived for ``idle_seconds``); flush; report."""
        self.recover()
        self.ready.set()
        # rows wait in the state file while the lake is down: a failed append is retried at the next round
        flusher = BackgroundLoop("stream-lake-flush", self.flush_offline, max(self._config.offline_flush_seconds, 0.05),
                                 wait_first=True)  # fmt: skip
        flusher.start()
        applied, idle_since = 0, time.monotonic()
        try:
            while not stop.is_set():
                count = self.run_once()
                applied += count
                if count:
                    idle_since = time.monotonic()
                elif idle_seconds is not None and time.monotonic() - idle_since >= idle_seconds:
                    break
        finally:
            flusher.stop(timeout_seconds=60)
        self.flush_offline()
        return {"group": self._group.name, "events": applied, "entities": len(self._entities)}

    def recover(self) -> None:
        """Finish what a crashed run saved but did not publish: online first, then the lake."""
        self._publish_online()
        self.flush_offline()

    def run_once(self) -> int:
        """One batch; returns the number of events polled (0: caught up)."""
        events = self._poll()
        if not events:
            for topic in self._group.definition.topics:
                self._metrics.lag_seconds.labels(topic).set(0.0)
            return 0
        started = time.perf_counter()
        with self._state.exclusive():  # from the saved state: another consumer of the group may have moved it
            self._refresh(events)
            rows = self._apply(events)
            self._state.save_batch({row.entity_id: self._entities[row.entity_id].snapshot() for row in rows}, rows)
        self._batches += 1
        self._maybe_crash("after_state")
        self._publish_online()
        self._maybe_crash("before_offsets")
        for consumer in self._consumers:
            consumer.commit()
        self._metrics.batch_seconds.observe(time.perf_counter() - started)
        return len(events)

    # -- steps ------------------------------------------------------------------------------------
    def _poll(self) -> list[Event]:
        """Every topic is read in every batch, each up to its share of the batch: a topic with a backlog (a
        catch-up after a rebalance) must not keep the others unread, nor keep their Kafka consumers from polling
        (one not polled within its poll interval leaves its group, and a group join advances only inside polls)."""
        events: list[Event] = []
        # never a zero time-out: kafka-python advances its group join only inside polls that may wait
        # (measured against tansu: 50 ms polls join in ~3 s, 5 ms polls not within 40 s)
        timeout = self._config.poll_timeout_seconds / len(self._consumers)
        shares, extra = divmod(self._config.max_batch_events, len(self._consumers))
        for index, (topic, consumer) in enumerate(zip(self._group.definition.topics, self._consumers, strict=True)):
            share = max(1, shares + (1 if index < extra else 0))
            events.extend(consumer.poll(max_records=share, timeout_seconds=timeout))
            self._metrics.assigned_partitions.labels(topic).set(consumer.assigned_partitions())
        return events

    def _refresh(self, events: Sequence[Event]) -> None:
        """Reload the batch's entities from the state file: a rebalance moves partitions between the consumers of
        a group (and an entity's events may sit in several partitions), so the snapshot in memory may be stale."""
        entities = set()
        for event in events:
            with contextlib.suppress(ValueError, TypeError, KeyError):  # invalid events are counted by _apply
                entities.add(self._group.entity_of(event.value))
        for entity, snapshot in self._state.snapshots_of(sorted(entities)).items():
            self._entities[entity] = self._group.new_state(snapshot)

    def _apply(self, events: Sequence[Event]) -> list[FeatureRow]:
        changed: dict[str, str] = {}  # entity -> id of the newest event that changed it in this batch
        for event in events:
            outcome = self._apply_one(event, changed)
            self._metrics.events.labels(event.topic, outcome).inc()
        now = self._now()
        for topic in {e.topic for e in events}:
            last = next(e for e in reversed(events) if e.topic == topic)
            self._metrics.lag_seconds.labels(topic).set(max(0.0, _seconds_behind(last, now)))
        rows = []
        for entity, event_id in changed.items():
            state = self._entities[entity]
            assert state.clock is not None  # a state that changed has applied an event
            rows.append(FeatureRow(entity, state.clock, event_id, state.features()))
            self._newest = state.clock if self._newest is None else max(self._newest, state.clock)
        return rows

    def _apply_one(self, event: Event, changed: dict[str, str]) -> str:
        try:
            entity = self._group.entity_of(event.value)
            state = self._entities.get(entity) or self._group.new_state(None)
            if not state.apply(event.value):
                return "unchanged"
        except (ValueError, TypeError) as exc:
            log.warning("skipping invalid event at %s@%d: %s", event.topic, event.offset, exc)
            return "invalid"
        self._entities[entity] = state
        changed[entity] = str(event.value["event_id"])
        return "applied"

    def _publish_online(self) -> None:
        # under the write lock: another worker of the group must not write an older row of an entity after ours
        with self._state.exclusive():
            pending = self._state.unpublished()
            if not pending:
                return
            newest = {row.entity_id: row for row in pending}  # the last row per entity wins
            rows = [OnlineRow(r.entity_id, r.event_time, dict(r.values)) for r in newest.values()]
            self._online.put_rows(self._group.name, rows)
            self._state.mark_published(pending[-1].seq, self._now())

    def flush_offline(self) -> None:
        """Append published rows to the lake, ``offline_flush_rows`` per file; a failure keeps them for later."""
        while self._flush_offline_once():
            pass

    def _flush_offline_once(self) -> bool:
        # under the write lock: two workers sharing the file must not append the same rows twice
        with self._outbox.exclusive():
            waiting = self._outbox.published_count()
            self._metrics.outbox_rows.set(waiting)
            if not waiting:
                return False
            rows = self._outbox.published(limit=self._config.offline_flush_rows)
            try:
                self._offline.append(rows)
            except (StrataError, OSError) as exc:
                self._metrics.offline_failures.inc()
                log.warning("lake append of %d rows failed, kept for retry: %s", len(rows), exc)
                return False
            self._outbox.forget_through(rows[-1].seq)
            return True

    def _maybe_crash(self, point: str) -> None:
        if self._config.fault_point == point and self._batches >= self._config.fault_after_batches:
            log.error("fault injection: killing the worker at %s of batch %d", point, self._batches)
            os.kill(os.getpid(), signal.SIGKILL)

    def close(self) -> None:
        for consumer in self._consumers:
            consumer.close()
        self._state.close()
        self._outbox.close()


def _seconds_behind(event: Event, now: datetime) -> float:
    try:
        return (now - datetime.fromisoformat(str(event.value.get("event_time")))).total_seconds()
    except ValueError:
        return 0.0
