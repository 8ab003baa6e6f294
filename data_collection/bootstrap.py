"""Composition root: ``bootstrap(settings, *, <port>=None, ...)`` -> the process's :class:`Dependencies`.

Settings pick the adapters; a keyword override replaces one (tests pass fakes). The service with its collector
loop, the ``collect``, ``crawl`` and ``land-heldout`` commands and the tests build through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from data_collection.domain.events import SCHEMAS
from data_collection.help_services import HelpCentreCrawl
from data_collection.ports import BatchObserver, CrawlState, PageSource, Quarantine, RawLake
from data_collection.services import Collector, CollectorConfig, TopicCollector
from data_collection.settings import Settings
from strata_kernel.background import BackgroundLoop
from strata_kernel.composition import Dependencies as KernelDependencies
from strata_kernel.eventlog import EventLog, open_event_log


def _lake(settings: Settings) -> RawLake:
    from data_collection.adapters.lake import LakeClientRawLake
    from strata_kernel.lake import LakeClient

    return LakeClientRawLake(LakeClient.from_settings(settings, settings.lake_directory()))


def _quarantine(settings: Settings) -> Quarantine:
    from data_collection.adapters.quarantine import FileQuarantine

    return FileQuarantine(settings.quarantine_directory())


def _page_source(settings: Settings) -> PageSource:
    from data_collection.adapters.scrapy_crawl import ScrapyPageSource

    return ScrapyPageSource(
        concurrency=settings.crawl_concurrency,
        delay_seconds=settings.crawl_delay_seconds,
        timeout_seconds=settings.crawl_timeout_seconds,
    )


def _crawl_state(settings: Settings) -> CrawlState:
    from data_collection.adapters.crawl_state import FileCrawlState

    return FileCrawlState(settings.crawl_state_path())


class Dependencies(KernelDependencies[Settings]):
    """Adapters and services of one data_collection process, each built on first use (strata_kernel.composition)."""

    @cached_property
    def event_log(self) -> EventLog:
        return self.port("event_log", lambda: open_event_log(self.settings), closes=True)

    @cached_property
    def lake(self) -> RawLake:
        return self.port("lake", lambda: _lake(self.settings))

    @cached_property
    def quarantine(self) -> Quarantine:
        """Where events the collector refuses, and pages the crawl rejects, go with their reason."""
        return self.port("quarantine", lambda: _quarantine(self.settings))

    @cached_property
    def page_source(self) -> PageSource:
        return self.port("page_source", lambda: _page_source(self.settings))

    @cached_property
    def crawl_state(self) -> CrawlState:
        return self.port("crawl_state", lambda: _crawl_state(self.settings))

    def collector(self, observers: Sequence[BatchObserver] = ()) -> Collector:
        """The event log -> raw zone collector, reporting each batch to ``observers``."""
        settings = self.settings
        config = CollectorConfig(
            group=settings.consumer_group,
            flush_events=settings.flush_events,
            poll_records=settings.poll_records,
            poll_timeout_seconds=settings.effective_poll_timeout(),
            group_per_topic=settings.event_log == "kafka",
        )
        topics = [
            TopicCollector(schema, self.event_log, self.lake, self.quarantine, config) for schema in SCHEMAS.values()
        ]
        return Collector(topics, observers)

    def collector_loop(self, collector: Collector) -> BackgroundLoop:
        """Collect until stopped: again at once while batches come, ``idle_seconds`` after an empty round, and
        ``retry_seconds`` after a failed batch (it stays uncommitted, so it is read again)."""
        settings = self.settings
        return BackgroundLoop("data_collection-collector", lambda: collector.step() > 0, settings.idle_seconds,
                              error_interval_seconds=settings.retry_seconds, on_stop=collector.close)  # fmt: skip

    @cached_property
    def help_crawl(self) -> HelpCentreCrawl:
        return HelpCentreCrawl(source=self.page_source, state=self.crawl_state, lake=self.lake, rejects=self.quarantine)


def bootstrap(
    settings: Settings,
    *,
    event_log: EventLog | None = None,
    lake: RawLake | None = None,
    quarantine: Quarantine | None = None,
    page_source: PageSource | None = None,
    crawl_state: CrawlState | None = None,
) -> Dependencies:
    return Dependencies(
        settings,
        {
            "event_log": event_log,
            "lake": lake,
            "quarantine": quarantine,
            "page_source": page_source,
            "crawl_state": crawl_state,
        },
    )
