"""Composition root: the one place where settings pick adapters. Tests pass fakes as keyword overrides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from business_logic.adapters.etd_http import HttpEtdEstimator
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.ports import Clock, EtdEstimator, UnitOfWorkFactory
from business_logic.settings import Settings
from strata_kernel.http import ServiceClient


def local_now() -> datetime:
    """Wall-clock time without zone, to the second (the contracts' documented simplification)."""
    return datetime.now().replace(microsecond=0)


@dataclass
class Dependencies:
    uow_factory: UnitOfWorkFactory
    estimator: EtdEstimator
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
    return Dependencies(uow_factory=uow_factory, estimator=estimator, clock=clock or local_now, closers=closers)
