"""Event log port: append JSON events to a topic; consume them in a group with explicit commits."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    offset: int
    key: str | None
    value: dict[str, Any]
    partition: int = 0  # offsets count per partition (Kafka); a local log is one partition


class EventConsumer(abc.ABC):
    """Reads a topic on behalf of a consumer group. Offsets advance only on :meth:`commit`."""

    @abc.abstractmethod
    def poll(self, max_records: int = 500, timeout_seconds: float = 1.0) -> list[Event]:
        """Return up to ``max_records`` events after the last ones returned (empty list on time-out)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Mark every event returned so far as processed; a restarted consumer resumes after them. A commit the
        broker refuses because the group moved the partitions meanwhile (a member joined or left) is dropped: those
        events are delivered again to their new owner, as after a crash, so consumers must apply them idempotently."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the consumer; uncommitted events will be delivered again."""

    def caught_up(self) -> bool:
        """Whether an empty poll means the topic is drained. A local log answers every poll at once (True); a
        Kafka consumer first joins its group, and polls return nothing until it has partitions."""
        return True

    def assigned_partitions(self) -> int:
        """How many of the topic's partitions this consumer reads now. A local log is one partition, always read
        by every consumer; a Kafka consumer has none until its group join assigns some, and none while its group
        rebalances (a member joined or left)."""
        return 1


class EventLog(abc.ABC):
    @abc.abstractmethod
    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        """Append events (JSON-serialisable mappings) durably, keyed by ``event[key_field]`` if given."""

    @abc.abstractmethod
    def consumer(self, topic: str, group: str) -> EventConsumer:
        """Open a consumer of ``topic`` for ``group``, starting after the group's committed position."""

    def close(self) -> None:
        """Flush and release resources."""
