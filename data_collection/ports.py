"""data_collection's ports: where valid rows land (the lake), where bad ones go (quarantine), and the
help-centre crawl's page source and incremental state."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from data_collection.domain.events import TableSchema
from data_collection.domain.help_articles import FetchedPage
from data_collection.domain.status import BatchResult

WriteMode = Literal["append", "overwrite"]


@dataclass(frozen=True)
class QuarantinedEvent:
    topic: str
    offset: int
    reason: str  # one line, naming the field
    value: Any  # the event as received


class RawLake(abc.ABC):
    """The raw zone of the data lake."""

    @abc.abstractmethod
    def append(
        self,
        schema: TableSchema,
        rows: Sequence[dict[str, Any]],
        *,
        job: str,
        inputs: Sequence[str],
        mode: WriteMode = "append",
    ) -> int:
        """Write validated rows to ``schema.table`` partitioned by nominal_date and commit them to the catalog
        (``mode="overwrite"`` replaces the whole table).

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


class PageSource(abc.ABC):
    """Fetches the pages of a web site (the help centre), following its links within the allowed domains."""

    @abc.abstractmethod
    def crawl(self, start_urls: Sequence[str], allowed_domains: Sequence[str]) -> list[FetchedPage]:
        """Every URL the crawl met: fetched pages with their extracted article, errors, and robots.txt refusals.

        Raises ``CrawlFailed`` when the crawler itself could not run.
        """


class CrawlState(abc.ABC):
    """What earlier crawls landed: the content hash of each article's latest landed version."""

    @abc.abstractmethod
    def load(self) -> dict[str, str]:
        """article_id -> content_hash (empty before the first crawl)."""

    @abc.abstractmethod
    def save(self, hashes: dict[str, str]) -> None:
        """Replace the state atomically (called only after the lake commit succeeded)."""
