"""Composition root: the one place where settings pick adapters. Tests pass fakes as keyword overrides."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cached_property

from prometheus_client import CollectorRegistry

from comparative_eval.adapters.engine_http import HttpEngineClient
from comparative_eval.adapters.locks import LocalLocks, RedisLease, RedisLocks
from comparative_eval.adapters.sample_files import JsonSampleFiles
from comparative_eval.adapters.sql_store import SqlDatabase
from comparative_eval.adapters.template_files import YamlTemplates
from comparative_eval.analysis import AnalysisService
from comparative_eval.ingest import Ingestor
from comparative_eval.metrics import COMPONENT, EvalMetrics
from comparative_eval.ports import Clock, EngineClient, ModelLocks, SampleFiles, TemplateSource, UnitOfWorkFactory
from comparative_eval.services import DeploymentService
from comparative_eval.settings import Settings
from strata_kernel.background import BackgroundLoop, FileLease, Lease, LoopMetrics
from strata_kernel.composition import Dependencies as KernelDependencies
from strata_kernel.contracts.auth import issue_operator_token, operator_token_file
from strata_kernel.errors import ConfigurationError
from strata_kernel.eventlog import EventLog, open_event_log
from strata_kernel.http import ServiceClient

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """UTC without zone (how the store keeps every time)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Dependencies(KernelDependencies[Settings]):
    """Adapters and services of one comparative_eval process, each built on first use (strata_kernel.composition)."""

    def __init__(self, settings: Settings, registry: CollectorRegistry, overrides: dict[str, object]) -> None:
        super().__init__(settings, overrides)
        self.registry = registry

    # --- ports -------------------------------------------------------------------------------------------------
    @cached_property
    def templates(self) -> TemplateSource:
        templates = self.port("templates", lambda: YamlTemplates(self.settings.templates_dir))
        templates.check_all()  # a malformed template stops the start, naming the key
        return templates

    @cached_property
    def operator_token(self) -> str:
        return resolve_operator_token(self.settings)

    @cached_property
    def uow_factory(self) -> UnitOfWorkFactory:
        return self.port("uow_factory", self._database)

    @cached_property
    def engine(self) -> EngineClient:
        return self.port("engine", lambda: _engine_client(self.settings), closes=True)

    @cached_property
    def locks(self) -> ModelLocks:
        return self.port("locks", lambda: build_locks(self.settings), closes=True)

    @cached_property
    def sample_files(self) -> SampleFiles:
        assert self.settings.validation_samples_dir is not None
        return self.port("sample_files", lambda: JsonSampleFiles(self.settings.validation_samples_dir))  # type: ignore[arg-type]

    @cached_property
    def clock(self) -> Clock:
        return self.port("clock", lambda: utc_now)

    @cached_property
    def event_log(self) -> EventLog:
        return self.port("event_log", lambda: open_event_log(self.settings), closes=True)

    @cached_property
    def lease(self) -> Lease:
        """Who runs the ingest and analysis loops: one process per host (local) or per deployment (redis)."""
        return self.port("lease", lambda: build_lease(self.settings))

    # --- services ----------------------------------------------------------------------------------------------
    @cached_property
    def metrics(self) -> EvalMetrics:
        return EvalMetrics.create(self.registry)

    @cached_property
    def deployments(self) -> DeploymentService:
        return DeploymentService(
            self.uow_factory,
            self.engine,
            self.locks,
            self.templates,
            self.sample_files,
            self.clock,
            self.metrics,
            self.settings.validation_sample_size,
        )

    @cached_property
    def analysis(self) -> AnalysisService:
        return AnalysisService(self.uow_factory, self.templates, self.deployments, self.clock, self.metrics)

    @cached_property
    def ingestor(self) -> Ingestor:
        ingestor = Ingestor(self.event_log, self.uow_factory, self.metrics)
        self.on_close(ingestor.close)
        return ingestor

    def background_loops(self) -> list[BackgroundLoop]:
        """Consume the prediction log and outcomes, and judge candidates: once per deployment however many workers
        serve the API (the process holding the lease runs them; the others stand by)."""
        settings, metrics = self.settings, LoopMetrics.create(COMPONENT, self.registry)
        idle = settings.consumer_poll_seconds
        ingest = BackgroundLoop("comparative-eval-ingest", lambda: self.ingestor.run_once() > 0, idle,
                                error_interval_seconds=max(idle, 1.0), lease=self.lease, metrics=metrics)  # fmt: skip

        def judge() -> None:
            self.analysis.run_once()

        analysis = BackgroundLoop("comparative-eval-analysis", judge, settings.analysis_tick_seconds, wait_first=True,
                                  lease=self.lease, metrics=metrics)  # fmt: skip
        return [ingest, analysis]

    def _database(self) -> UnitOfWorkFactory:
        database = SqlDatabase(self.settings.database_url)
        self.on_close(database.close)
        return database.unit_of_work


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
    event_log: EventLog | None = None,
    lease: Lease | None = None,
) -> Dependencies:
    overrides: dict[str, object] = {
        "uow_factory": uow_factory,
        "engine": engine,
        "locks": locks,
        "templates": templates,
        "sample_files": sample_files,
        "clock": clock,
        "event_log": event_log,
        "lease": lease,
    }
    return Dependencies(settings, registry if registry is not None else CollectorRegistry(), overrides)


def build_lease(settings: Settings) -> Lease:
    if settings.lock_backend == "redis":
        return RedisLease(settings.redis_url, settings.lock_ttl_seconds)
    return FileLease(settings.path("comparative_eval", "background.lease"))


def build_locks(settings: Settings) -> ModelLocks:
    if settings.lock_backend == "local":
        return LocalLocks(settings.path("comparative_eval", "locks", ".keep").parent, settings.lock_timeout_seconds)
    if settings.lock_backend == "redis":
        return RedisLocks(settings.redis_url, settings.lock_timeout_seconds, settings.lock_ttl_seconds)
    raise ConfigurationError(f"unknown lock_backend {settings.lock_backend!r}; expected 'local' or 'redis'")


def _engine_client(settings: Settings) -> HttpEngineClient:
    """Validation and routing pushes carry comparative_eval's own credential (the engine accepts it for both)."""
    credential = settings.service_credential()

    def client(timeout: float) -> ServiceClient:
        return ServiceClient(
            "inference_engine",
            settings.inference_engine_url,
            timeout_seconds=timeout,
            retries=settings.http_retries,
            credential=credential,
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
