"""Composition root: the one place where settings pick adapters. Tests pass fakes as keyword overrides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property

from business_logic import help_services
from business_logic.adapters.answer_http import HttpHelpAnswerEngine
from business_logic.adapters.etd_http import HttpEtdEstimator
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.help import HelpCentre, HelpPolicy, ProhibitedWords
from business_logic.domain.outbox import RelayResult
from business_logic.ports import Clock, EtdEstimator, HelpAnswerEngine, UnitOfWorkFactory
from business_logic.services import RestaurantCache
from business_logic.settings import Settings
from strata_kernel.background import BackgroundLoop
from strata_kernel.composition import Dependencies as KernelDependencies
from strata_kernel.eventlog import EventLog, open_event_log
from strata_kernel.http import ServiceClient


def local_now() -> datetime:
    """Wall-clock time without zone, to the second (the contracts' documented simplification)."""
    return datetime.now().replace(microsecond=0)


class Dependencies(KernelDependencies[Settings]):
    """Adapters of one business_logic process, each built on first use (see strata_kernel.composition)."""

    @cached_property
    def uow_factory(self) -> UnitOfWorkFactory:
        return self.port("uow_factory", self._database)

    @cached_property
    def restaurants(self) -> RestaurantCache:
        return RestaurantCache(self.uow_factory, check_seconds=self.settings.catalog_cache_seconds)

    @cached_property
    def estimator(self) -> EtdEstimator:
        timeout = self.settings.etd_timeout_seconds
        return self.port("estimator", lambda: HttpEtdEstimator(self._data_processing(timeout)), closes=True)

    @cached_property
    def help_engine(self) -> HelpAnswerEngine:
        return self.port(
            "help_engine",
            lambda: HttpHelpAnswerEngine(self._data_processing(self.settings.help_timeout_seconds)),
            closes=True,
        )

    @cached_property
    def event_log(self) -> EventLog:
        return self.port("event_log", lambda: open_event_log(self.settings), closes=True)

    @cached_property
    def clock(self) -> Clock:
        return self.port("clock", lambda: local_now)

    @cached_property
    def help_policy(self) -> HelpPolicy:
        return help_policy(self.settings)

    def _database(self) -> UnitOfWorkFactory:
        database = SqlDatabase(self.settings.database_url, commit_sync_seconds=self.settings.commit_sync_seconds)
        self.on_close(database.close)
        self.database = database
        return database.unit_of_work

    def commit_sync_loop(self) -> BackgroundLoop | None:
        """The loop fsyncing the embedded database's log (None: commits sync themselves, or no database of ours)."""
        self.uow_factory  # noqa: B018 - built first: the loop syncs the database it opened
        database: SqlDatabase | None = getattr(self, "database", None)
        return None if database is None else database.sync_loop()

    def _data_processing(self, timeout_seconds: float) -> ServiceClient:
        settings = self.settings
        return ServiceClient(
            "data_processing", settings.data_processing_url, timeout_seconds=timeout_seconds,
            retries=settings.http_retries, credential=settings.service_credential(),
        )  # fmt: skip


def bootstrap(
    settings: Settings,
    *,
    uow_factory: UnitOfWorkFactory | None = None,
    estimator: EtdEstimator | None = None,
    help_engine: HelpAnswerEngine | None = None,
    event_log: EventLog | None = None,
    clock: Clock | None = None,
) -> Dependencies:
    overrides = {
        "uow_factory": uow_factory,
        "estimator": estimator,
        "help_engine": help_engine,
        "event_log": event_log,
        "clock": clock,
    }
    return Dependencies(settings, overrides)


def help_policy(settings: Settings) -> HelpPolicy:
    centre = HelpCentre(settings.help_centre_url, dict(settings.help_centre_categories))
    return HelpPolicy(centre=centre, prohibited=ProhibitedWords(settings.prohibited_words))


def outbox_drain(settings: Settings, deps: Dependencies, *, retry_now: bool = False) -> Callable[[], RelayResult]:
    """One drain of the outbox into the event log, as the relay thread and `publish-outbox` run it."""

    def drain() -> RelayResult:
        return help_services.publish_outbox(
            deps.uow_factory,
            deps.event_log,
            now=utc_now,
            batch_size=settings.outbox_batch_size,
            lease_seconds=settings.outbox_lease_seconds,
            retry_seconds=settings.outbox_retry_seconds,
            retry_now=retry_now,
        )

    return drain


def utc_now() -> datetime:
    """Naive UTC, for outbox leases: unlike wall-clock time it never jumps back an hour."""
    return datetime.now(UTC).replace(tzinfo=None)
