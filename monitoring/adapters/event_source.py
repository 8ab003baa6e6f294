"""A topic of the kernel's event log (local files or Kafka), read in the sidecar's own consumer group."""

from __future__ import annotations

from typing import Any

from monitoring.ports import EventSource
from strata_kernel.eventlog import EventConsumer, EventLog


class EventLogSource(EventSource):
    def __init__(self, event_log: EventLog, topic: str, group: str, *, timeout_seconds: float = 0.2) -> None:
        self._event_log, self._topic, self._group = event_log, topic, group
        self._timeout = timeout_seconds
        self._consumer: EventConsumer | None = None

    def poll(self, max_records: int) -> list[dict[str, Any]]:
        if self._consumer is None:  # opened in the loop's thread, after the fork
            self._consumer = self._event_log.consumer(self._topic, self._group)
        return [event.value for event in self._consumer.poll(max_records, self._timeout)]

    def commit(self) -> None:
        if self._consumer is not None:
            self._consumer.commit()

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
