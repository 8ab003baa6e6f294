"""Kafka adapter (kafka-python). Offsets are committed explicitly, after the consumer's own writes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from strata_kernel.errors import Unavailable
from strata_kernel.eventlog.port import Event, EventConsumer, EventLog

log = logging.getLogger(__name__)

JOIN_SECONDS = 15.0  # at most this long inside one poll for a group join: a new consumer's, or a rebalance's


def _serialise(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


class KafkaEventLog(EventLog):
    def __init__(self, bootstrap_servers: str) -> None:
        self._servers = bootstrap_servers.split(",")
        self._producer: Any = None

    def _get_producer(self) -> Any:
        if self._producer is None:
            from kafka import KafkaProducer
            from kafka.errors import KafkaError

            try:
                self._producer = KafkaProducer(
                    bootstrap_servers=self._servers,
                    acks="all",
                    linger_ms=5,
                    request_timeout_ms=10000,
                    value_serializer=_serialise,
                )
            except KafkaError as exc:
                raise Unavailable(f"kafka unavailable: {exc}", code="event_log_unavailable") from exc
        return self._producer

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        from kafka.errors import KafkaError

        producer = self._get_producer()
        try:
            futures = [
                producer.send(topic, value=event, key=str(event[key_field]).encode() if key_field else None)
                for event in events
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=10)
        except KafkaError as exc:
            raise Unavailable(f"kafka publish to {topic} failed: {exc}", code="event_log_unavailable") from exc

    def consumer(self, topic: str, group: str) -> EventConsumer:
        return _KafkaConsumer(topic, group, self._servers)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()


@contextmanager
def _kafka_errors(doing: str) -> Iterator[None]:
    """kafka-python's exceptions become ours, in this one place."""
    from kafka.errors import KafkaError

    try:
        yield
    except KafkaError as exc:
        raise Unavailable(f"kafka unavailable ({doing}): {exc}", code="event_log_unavailable") from exc


class _KafkaConsumer(EventConsumer):
    def __init__(self, topic: str, group: str, servers: list[str]) -> None:
        from kafka import KafkaConsumer

        # Short session/heartbeat: the default group join is slow (~23 s) against small brokers.
        with _kafka_errors(f"consume {topic}"):
            self._consumer = KafkaConsumer(
                topic,
                bootstrap_servers=servers,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=6000,
                heartbeat_interval_ms=1000,
                request_timeout_ms=10000,
                value_deserializer=lambda raw: json.loads(raw),
            )
        self._topic = topic

    def poll(self, max_records: int = 500, timeout_seconds: float = 1.0) -> list[Event]:
        with _kafka_errors(f"poll {self._topic}"):
            if self._joining():
                self._join(max_records)
            batches = self._consumer.poll(timeout_ms=int(timeout_seconds * 1000), max_records=max_records)
        return [
            Event(
                self._topic, record.offset, record.key.decode() if record.key else None, record.value, record.partition
            )
            for records in batches.values()
            for record in records
        ]

    def _joining(self) -> bool:
        """The consumer has no partitions yet, or its group is rebalancing (a member joined or left)."""
        coordinator = self._consumer._coordinator  # kafka-python (pinned) has no public view of the group state
        return not self._consumer.assignment() or not coordinator.stable() or coordinator.need_rejoin()

    def _join(self, max_records: int) -> None:
        """Poll without a pause until the group is stable with partitions assigned (or JOIN_SECONDS pass).

        kafka-python makes a join's round trips (JoinGroup, SyncGroup) only inside ``poll``; a caller whose polls
        are short and spaced out (comparative_eval: ~17 ms every 0.5 s; a stream worker between batches) sees the
        join time out between them and start again, for ever: a new consumer never reads a record, and after
        another member joins or leaves, every member stops fetching (measured against tansu).
        """
        deadline = time.monotonic() + JOIN_SECONDS
        while self._joining() and time.monotonic() < deadline:
            records = self._consumer.poll(timeout_ms=100, max_records=max_records)
            if records:  # assigned and read in the same call: put them back for the caller's poll
                for partition, batch in records.items():
                    self._consumer.seek(partition, batch[0].offset)
                return

    def caught_up(self) -> bool:
        """Partitions assigned and read to their end (an empty poll before the group join says nothing)."""
        with _kafka_errors(f"positions on {self._topic}"):
            assigned = list(self._consumer.assignment())
            if not assigned:
                return False
            ends = self._consumer.end_offsets(assigned)
            return all(self._consumer.position(partition) >= ends[partition] for partition in assigned)

    def assigned_partitions(self) -> int:
        return 0 if self._joining() else len(self._consumer.assignment())

    def commit(self) -> None:
        from kafka.errors import (
            CommitFailedError,
            IllegalGenerationError,
            RebalanceInProgressError,
            UnknownMemberIdError,
        )

        with _kafka_errors(f"commit {self._topic}"):
            try:
                self._consumer.commit()
            except (RebalanceInProgressError, CommitFailedError, IllegalGenerationError, UnknownMemberIdError) as exc:
                # The group moved the partitions (a member joined or left) after these events were read: the
                # broker refuses the commit, the events go to their new owner again (at least once, as after a
                # crash) and the next poll rejoins. Not an outage: raising here stopped a stream worker for good.
                log.warning("commit on %s refused by a rebalance (%s): its events will be delivered again",
                            self._topic, type(exc).__name__)  # fmt: skip

    def close(self) -> None:
        self._consumer.close(autocommit=False)
