"""The one place where settings pick adapters; tests pass fakes as keyword overrides."""

from __future__ import annotations

from collections.abc import Sequence

from data_collection.domain.events import SCHEMAS
from data_collection.help_services import HelpCentreCrawl
from data_collection.ports import BatchObserver, CrawlState, PageSource, Quarantine, RawLake
from data_collection.services import Collector, CollectorConfig, TopicCollector
from data_collection.settings import Settings
from strata_kernel.eventlog import EventLog, open_event_log


def build_lake(settings: Settings) -> RawLake:
    from data_collection.adapters.lake import LakeClientRawLake
    from strata_kernel.lake import LakeClient

    return LakeClientRawLake(LakeClient.from_settings(settings, settings.lake_directory()))


def build_quarantine(settings: Settings) -> Quarantine:
    from data_collection.adapters.quarantine import FileQuarantine

    return FileQuarantine(settings.quarantine_directory())


def build_collector(
    settings: Settings,
    *,
    event_log: EventLog | None = None,
    lake: RawLake | None = None,
    quarantine: Quarantine | None = None,
    observers: Sequence[BatchObserver] = (),
) -> Collector:
    event_log = event_log if event_log is not None else open_event_log(settings)
    lake = lake if lake is not None else build_lake(settings)
    quarantine = quarantine if quarantine is not None else build_quarantine(settings)
    config = CollectorConfig(
        group=settings.consumer_group,
        flush_events=settings.flush_events,
        poll_records=settings.poll_records,
        poll_timeout_seconds=settings.effective_poll_timeout(),
    )
    topics = [TopicCollector(schema, event_log, lake, quarantine, config) for schema in SCHEMAS.values()]
    return Collector(topics, observers)


def build_help_crawl(
    settings: Settings,
    *,
    source: PageSource | None = None,
    state: CrawlState | None = None,
    lake: RawLake | None = None,
    rejects: Quarantine | None = None,
) -> HelpCentreCrawl:
    if source is None:
        from data_collection.adapters.scrapy_crawl import ScrapyPageSource

        source = ScrapyPageSource(
            concurrency=settings.crawl_concurrency,
            delay_seconds=settings.crawl_delay_seconds,
            timeout_seconds=settings.crawl_timeout_seconds,
        )
    if state is None:
        from data_collection.adapters.crawl_state import FileCrawlState

        state = FileCrawlState(settings.crawl_state_path())
    return HelpCentreCrawl(
        source=source,
        state=state,
        lake=lake if lake is not None else build_lake(settings),
        rejects=rejects if rejects is not None else build_quarantine(settings),
    )
