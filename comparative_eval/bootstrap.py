"""Composition root: the one place where settings pick adapters. Tests pass fakes as keyword overrides."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from comparative_eval.adapters.engine_http import HttpEngineClient
from comparative_eval.adapters.locks import LocalLocks, RedisLocks
from comparative_eval.adapters.sample_files import JsonSampleFiles
from comparative_eval.adapters.sql_store import SqlDatabase
from comparative_eval.adapters.template_files import YamlTemplates
from comparative_eval.analysis import AnalysisService
from comparative_eval.metrics import EvalMetrics
from comparative_eval.ports import Clock, EngineClient, ModelLocks, SampleFiles, TemplateSource, UnitOfWorkFactory
from comparative_eval.services import DeploymentService
from comparative_eval.settings import Settings
from strata_kernel.contracts.auth import issue_operator_token, operator_token_file
from strata_kernel.errors import ConfigurationError
from strata_kernel.http import ServiceClient

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """UTC without zone (how the store keeps every time)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Dependencies:
    uow_factory: UnitOfWorkFactory
    engine: EngineClient
    locks: ModelLocks
    templates: TemplateSource
    clock: Clock
    metrics: EvalMetrics
    deployments: DeploymentService
    analysis: AnalysisService
    operator_token: str
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


def bootstrap(
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    uow_factory: UnitOfWorkFactory | None = None,
    engine: EngineClient | None = None,
    locks: ModelLocks | None = None,
    templates: TemplateSource | None = None,
    sample_files: SampleFiles | None = None,
    clock: Clock | None = None,
) -> Dependencies:
    closers: list[Callable[[], None]] = []
    templates = templates or YamlTemplates(settings.templates_dir)
    templates.check_all()  # a malformed template stops the start, naming the key
    token = resolve_operator_token(settings)
    if uow_factory is None:
        database = SqlDatabase(settings.database_url)
        uow_factory = database.unit_of_work
        closers.append(database.close)
    if engine is None:
        http_engine = _engine_client(settings, token)
        closers.append(http_engine.close)
        engine = http_engine
    if locks is None:
        locks = build_locks(settings)
        if isinstance(locks, RedisLocks):
            closers.append(locks.close)
    assert settings.validation_samples_dir is not None
    clock = clock or utc_now
    metrics = EvalMetrics.create(registry if registry is not None else CollectorRegistry())
    deployments = DeploymentService(
        uow_factory,
        engine,
        locks,
        templates,
        sample_files or JsonSampleFiles(settings.validation_samples_dir),
        clock,
        metrics,
        settings.validation_sample_size,
    )
    analysis = AnalysisService(uow_factory, templates, deployments, clock, metrics)
    return Dependencies(uow_factory, engine, locks, templates, clock, metrics, deployments, analysis, token, closers)


def build_locks(settings: Settings) -> ModelLocks:
    if settings.lock_backend == "local":
        return LocalLocks(settings.path("comparative_eval", "locks", ".keep").parent, settings.lock_timeout_seconds)
    if settings.lock_backend == "redis":
        return RedisLocks(settings.redis_url, settings.lock_timeout_seconds, settings.lock_ttl_seconds)
    raise ConfigurationError(f"unknown lock_backend {settings.lock_backend!r}; expected 'local' or 'redis'")


def _engine_client(settings: Settings, token: str) -> HttpEngineClient:
    def client(timeout: float) -> ServiceClient:
        return ServiceClient(
            "inference_engine",
            settings.inference_engine_url,
            timeout_seconds=timeout,
            retries=settings.http_retries,
            token=token,
        )

    return HttpEngineClient(
        client(settings.engine_validate_timeout_seconds), client(settings.engine_push_timeout_seconds)
    )


def resolve_operator_token(settings: Settings) -> str:
    """The setting, else the token file (generated once, mode 0600, readable by the operator's CLI)."""
    if settings.operator_token:
        return settings.operator_token
    try:
        token, created = issue_operator_token(settings.var_dir)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    if created:
        path = operator_token_file(settings.var_dir)
        log.warning("no operator_token set: generated one into %s (mode 0600)", path.resolve())
    return token
