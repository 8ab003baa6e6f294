"""The event-log contract, written once and run against every adapter of the port.

`LocalEventLog` runs here; `KafkaEventLog` runs the same class in tests/integration/test_kafka_eventlog.py
against a real Kafka-protocol broker. Event order is only guaranteed per key (Kafka partitions), so the
contract compares sets of events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from strata_kernel.eventlog import Event, EventConsumer, EventLog
from strata_kernel.eventlog.local import LocalEventLog

#: how long a consumer may take to join its group and fetch (Kafka group joins take seconds)
DRAIN_SECONDS = 30.0


def drain(consumer: EventConsumer, count: int, seconds: float = DRAIN_SECONDS) -> list[Event]:
    """Poll until exactly ``count`` events arrived (never more) or time runs out."""
    events: list[Event] = []
    deadline = time.monotonic() + seconds
    while len(events) < count and time.monotonic() < deadline:
        events += consumer.poll(max_records=count - len(events), timeout_seconds=0.5)
    return events


def ids(events: list[Event]) -> set[str]:
    return {event.value["order_id"] for event in events}


def orders(*numbers: int) -> list[dict[str, object]]:
    return [{"order_id": f"o-{n}", "event_type": "order_placed", "n_items": n} for n in numbers]


OpenLog = Callable[[], EventLog]


class EventLogContract:
    """What every :class:`EventLog` adapter promises.

    Subclasses provide ``open_log``: a factory of logs over one and the same store, so a second log
    stands for another process (a restarted consumer).
    """

    @pytest.fixture
    def event_log(self, open_log: OpenLog) -> Iterator[EventLog]:
        log = open_log()
        yield log
        log.close()

    @pytest.fixture
    def other_process(self, open_log: OpenLog) -> Iterator[EventLog]:
        log = open_log()
        yield log
        log.close()

    @pytest.fixture
    def topic(self) -> str:
        return f"contract.{uuid.uuid4().hex[:10]}"

    @pytest.fixture
    def group(self) -> str:
        return f"group-{uuid.uuid4().hex[:10]}"

    def test_published_events_are_consumed_with_their_keys(self, event_log: EventLog, topic: str, group: str) -> None:
        event_log.publish(topic, orders(*range(10)), key_field="order_id")
        consumer = event_log.consumer(topic, group)
        try:
            events = drain(consumer, 10)
        finally:
            consumer.close()
        assert ids(events) == {f"o-{n}" for n in range(10)}
        assert all(event.key == event.value["order_id"] and event.topic == topic for event in events)
        key = events[0].key
        assert key is not None  # published with key_field="order_id"
        assert events[0].value == {"order_id": key, "event_type": "order_placed", "n_items": int(key[2:])}

    def test_a_reopened_group_sees_only_the_uncommitted_events(
        self, event_log: EventLog, other_process: EventLog, topic: str, group: str
    ) -> None:
        event_log.publish(topic, orders(*range(10)), key_field="order_id")
        first = event_log.consumer(topic, group)
        committed = drain(first, 6)
        first.commit()
        uncommitted = drain(first, 4)
        first.close()  # closes without committing the last four
        assert len(committed) == 6 and len(uncommitted) == 4, "the consumer did not deliver all ten events"

        second = other_process.consumer(topic, group)
        try:
            redelivered = drain(second, 4)
            extra = second.poll(timeout_seconds=1.0)
        finally:
            second.close()
        assert ids(redelivered) == ids(uncommitted)
        assert extra == [], "committed events were delivered again"

    def test_uncommitted_events_are_redelivered_after_close(
        self, event_log: EventLog, other_process: EventLog, topic: str, group: str
    ) -> None:
        event_log.publish(topic, orders(1, 2, 3), key_field="order_id")
        first = event_log.consumer(topic, group)
        assert len(drain(first, 3)) == 3
        first.close()

        second = other_process.consumer(topic, group)
        try:
            assert ids(drain(second, 3)) == {"o-1", "o-2", "o-3"}
        finally:
            second.close()

    def test_after_a_full_commit_only_new_events_arrive(
        self, event_log: EventLog, other_process: EventLog, topic: str, group: str
    ) -> None:
        event_log.publish(topic, orders(1, 2), key_field="order_id")
        first = event_log.consumer(topic, group)
        assert len(drain(first, 2)) == 2
        first.commit()
        first.close()
        event_log.publish(topic, orders(3), key_field="order_id")

        second = other_process.consumer(topic, group)
        try:
            assert ids(drain(second, 1)) == {"o-3"}
            assert second.poll(timeout_seconds=1.0) == []
        finally:
            second.close()

    def test_groups_keep_their_own_positions(self, event_log: EventLog, topic: str, group: str) -> None:
        event_log.publish(topic, orders(1, 2), key_field="order_id")
        reader = event_log.consumer(topic, group)
        assert len(drain(reader, 2)) == 2
        reader.commit()
        reader.close()

        other = event_log.consumer(topic, f"{group}-other")
        try:
            assert ids(drain(other, 2)) == {"o-1", "o-2"}
        finally:
            other.close()

    def test_events_of_one_key_keep_their_order(self, event_log: EventLog, topic: str, group: str) -> None:
        steps = [{"order_id": key, "step": step} for step in range(5) for key in ("o-a", "o-b")]
        event_log.publish(topic, steps, key_field="order_id")
        consumer = event_log.consumer(topic, group)
        try:
            events = drain(consumer, len(steps))
        finally:
            consumer.close()
        for key in ("o-a", "o-b"):
            assert [e.value["step"] for e in events if e.key == key] == [0, 1, 2, 3, 4]


class TestLocalEventLog(EventLogContract):
    @pytest.fixture
    def open_log(self, tmp_path: Path) -> OpenLog:
        return lambda: LocalEventLog(tmp_path / "eventlog")
