"""The collector's ports: where valid events land (the lake) and where bad ones go (quarantine)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_collection.domain.events import EventSchema
from data_collection.domain.status import BatchResult


@dataclass(frozen=True)
class QuarantinedEvent:
    topic: str
    offset: int
    reason: str  # one line, naming the field
    value: Any  # the event as received


class RawLake(abc.ABC):
    """The raw zone of the data lake."""

    @abc.abstractmethod
    def append(self, schema: EventSchema, rows: Sequence[dict[str, Any]], *, job: str, inputs: Sequence[str]) -> int:
        """Append validated rows to ``schema.table`` partitioned by nominal_date and commit them to the catalog.

        Returns the table's new version. Raises ``LakeWriteFailed`` when nothing was committed.
        """


class Quarantine(abc.ABC):
    """Keeps events that failed validation, with the reason, out of the lake but not lost."""

    @abc.abstractmethod
    def put(self, events: Sequence[QuarantinedEvent]) -> None:
        """Store the rejected events durably."""


class BatchObserver(abc.ABC):
    """Told about every flushed or failed batch (status page, metrics)."""

    @abc.abstractmethod
    def record_batch(self, result: BatchResult) -> None:
        """A batch reached the lake and its offsets were committed."""

    @abc.abstractmethod
    def record_failure(self, topic: str, reason: str) -> None:
        """A batch could not be landed; it will be delivered again."""
