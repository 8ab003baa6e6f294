"""Composition root: the one place where settings pick adapters. Tests pass fakes as keyword overrides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from business_logic import help_services
from business_logic.adapters.answer_http import HttpHelpAnswerEngine
from business_logic.adapters.etd_http import HttpEtdEstimator
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.help import HelpCentre, HelpPolicy, ProhibitedWords
from business_logic.domain.outbox import RelayResult
from business_logic.ports import Clock, EtdEstimator, HelpAnswerEngine, UnitOfWorkFactory
from business_logic.settings import Settings
from strata_kernel.eventlog import EventLog, open_event_log
from strata_kernel.http import ServiceClient


def local_now() -> datetime:
    """Wall-clock time without zone, to the second (the contracts' documented simplification)."""
    return datetime.now().replace(microsecond=0)


@dataclass
class Dependencies:
    uow_factory: UnitOfWorkFactory
    estimator: EtdEstimator
    help_engine: HelpAnswerEngine
    help_policy: HelpPolicy
    event_log: EventLog
    clock: Clock = local_now
    #: release pooled connections when the app shuts down (tests build many apps)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


def bootstrap(
    settings: Settings,
    *,
    uow_factory: UnitOfWorkFactory | None = None,
    estimator: EtdEstimator | None = None,
    help_engine: HelpAnswerEngine | None = None,
    event_log: EventLog | None = None,
    clock: Clock | None = None,
) -> Dependencies:
    closers: list[Callable[[], None]] = []
    if uow_factory is None:
        database = SqlDatabase(settings.database_url)
        uow_factory = database.unit_of_work
        closers.append(database.close)
    if estimator is None:
        client = ServiceClient(
            "data_processing",
            settings.data_processing_url,
            timeout_seconds=settings.etd_timeout_seconds,
            retries=settings.http_retries,
        )
        estimator = HttpEtdEstimator(client)
        closers.append(estimator.close)
    if help_engine is None:
        help_client = ServiceClient(
            "data_processing",
            settings.data_processing_url,
            timeout_seconds=settings.help_timeout_seconds,
            retries=settings.http_retries,
        )
        help_engine = HttpHelpAnswerEngine(help_client)
        closers.append(help_engine.close)
    if event_log is None:
        event_log = open_event_log(settings)
        closers.append(event_log.close)
    return Dependencies(
        uow_factory=uow_factory,
        estimator=estimator,
        help_engine=help_engine,
        help_policy=help_policy(settings),
        event_log=event_log,
        clock=clock or local_now,
        closers=closers,
    )


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
