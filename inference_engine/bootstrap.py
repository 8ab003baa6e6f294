"""Composition root: ``bootstrap(settings, *, <port>=None, ...)`` -> the process's :class:`Dependencies`.

Settings pick the adapters; a keyword override replaces one (tests pass fakes at the ports). The serving app, the
training and deploy commands and the tests build through it, each touching only the ports it uses.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from inference_engine.loading import LoadProgress, ModelLoading
from inference_engine.metrics import PredictionMetrics
from inference_engine.ports import ModelDocuments, ModelRegistry, TrainingDataSource
from inference_engine.reference_profiles import ReferenceProfiles
from inference_engine.routing.ports import NullPredictionLog, PredictionLog, RoutingSource
from inference_engine.routing.shadow import ShadowExecutor
from inference_engine.runtimes import RuntimeFactory
from inference_engine.runtimes.partitioned_runtime import create_runtime_with_partitions
from inference_engine.serving import Predictor, RoutingTable, ServingObserver, VersionLoader
from inference_engine.serving.poller import RoutingPoller
from inference_engine.settings import Settings
from strata_kernel.background import BackgroundLoop, LoopMetrics
from strata_kernel.composition import Dependencies as KernelDependencies
from strata_kernel.model_specs import declared_models

if TYPE_CHECKING:
    from inference_engine.partitioning.training import PartitionedOptions


def _model_registry(settings: Settings) -> ModelRegistry:
    # every URI MLflow understands (sqlite:///, postgresql+psycopg://, http://) goes through one adapter
    from inference_engine.adapters.mlflow_registry import MlflowRegistry

    return MlflowRegistry(settings.tracking_uri(), settings.artifact_root(), settings.mlflow_experiment)


def _training_data(settings: Settings) -> TrainingDataSource:
    from inference_engine.adapters.lake import LakeTrainingData
    from strata_kernel.lake import LakeClient

    return LakeTrainingData(LakeClient.from_settings(settings, settings.lake_root))


def _routing_source(settings: Settings) -> RoutingSource:
    from inference_engine.adapters.comparative_eval import HttpRoutingSource
    from strata_kernel.http import ServiceClient

    # no retries: the next poll is the retry, and an unreachable comparative_eval must cost nothing
    client = ServiceClient("comparative_eval", settings.comparative_eval_url,
                           timeout_seconds=settings.http_timeout_seconds, retries=0,
                           credential=settings.service_credential())  # fmt: skip
    return HttpRoutingSource(client)


class Dependencies(KernelDependencies[Settings]):
    """Adapters and services of one inference_engine process, each built on first use (strata_kernel.composition).

    The serving side (metrics, prediction log, model service) needs ``metrics_registry``: the service's own.
    """

    def __init__(self, settings: Settings, metrics_registry: CollectorRegistry, **overrides: object) -> None:
        super().__init__(settings, overrides)
        self.metrics_registry = metrics_registry

    # --- ports -------------------------------------------------------------------------------------------------
    @cached_property
    def registry(self) -> ModelRegistry:
        return self.port("registry", lambda: _model_registry(self.settings))

    @cached_property
    def training_data(self) -> TrainingDataSource:
        return self.port("training_data", lambda: _training_data(self.settings))

    @cached_property
    def runtime_factory(self) -> RuntimeFactory:
        return self.port("runtime_factory", lambda: create_runtime_with_partitions)

    @cached_property
    def routing_source(self) -> RoutingSource:
        return self.port("routing_source", lambda: _routing_source(self.settings), closes=True)

    @cached_property
    def prediction_log(self) -> PredictionLog:
        """The ``inference.predictions`` log on the configured event log (local files or Kafka)."""
        return self.port("prediction_log", self._prediction_log, closes=True)

    def _prediction_log(self) -> PredictionLog:
        if not self.settings.prediction_log:
            return NullPredictionLog()
        from inference_engine.adapters.prediction_log import EventLogPredictionLog
        from strata_kernel.eventlog import open_event_log

        event_log = open_event_log(self.settings)
        self.on_close(event_log.close)
        metrics = self.metrics
        return EventLogPredictionLog(
            event_log,
            max_queue=self.settings.prediction_log_queue,
            on_dropped=metrics.prediction_events_dropped,
            on_failed=metrics.prediction_events_failed,
        )

    # --- serving -----------------------------------------------------------------------------------------------
    @cached_property
    def reference_profiles(self) -> ReferenceProfiles:
        registry = self.registry
        return ReferenceProfiles(registry, registry if isinstance(registry, ModelDocuments) else None)

    @cached_property
    def metrics(self) -> PredictionMetrics:
        return PredictionMetrics.create(self.metrics_registry)

    @cached_property
    def observer(self) -> ServingObserver:
        """What serving reports to monitoring: the service's Prometheus metrics."""
        return self.port("observer", lambda: self.metrics)

    @cached_property
    def shadow(self) -> ShadowExecutor:
        settings = self.settings
        return self.port("shadow", lambda: ShadowExecutor(settings.shadow_workers, settings.shadow_queue), closes=True)

    @cached_property
    def loader(self) -> VersionLoader:
        settings = self.settings
        return VersionLoader(
            self.registry,
            work_dir=settings.var_dir / "inference_engine" / "downloads",
            runtime_factory=self.runtime_factory,
            warmup_predictions=settings.warmup_predictions,
            max_cached_versions=settings.max_cached_versions,
        )

    @cached_property
    def routing_table(self) -> RoutingTable:
        settings = self.settings
        specs_dir = settings.resolved_model_specs_dir()
        return RoutingTable(self.loader, model_names=settings.models, alias=settings.serving_alias,
                            observer=self.observer, declared=lambda: declared_models(specs_dir))  # fmt: skip

    @cached_property
    def predictor(self) -> Predictor:
        return Predictor(self.routing_table, max_instances=self.settings.max_instances, observer=self.observer,
                         prediction_log=self.prediction_log, shadow=self.shadow)  # fmt: skip

    def background_loops(self, progress: LoadProgress) -> list[BackgroundLoop]:
        """Load the configured models (until all serve, reporting to ``progress``), and converge on
        comparative_eval's routing."""
        settings, table = self.settings, self.routing_table
        metrics = LoopMetrics.create("inference_engine", self.metrics_registry)
        loading = ModelLoading(table, progress)
        loops = [BackgroundLoop("model-loader", loading.step, settings.load_retry_seconds, metrics=metrics)]
        if settings.routing_poll_seconds > 0:
            poller = RoutingPoller(table, self.routing_source, settings.routing_poll_seconds)
            loops.append(poller.loop(metrics))
        return loops


def bootstrap(
    settings: Settings,
    *,
    metrics_registry: CollectorRegistry | None = None,
    registry: ModelRegistry | None = None,
    training_data: TrainingDataSource | None = None,
    runtime_factory: RuntimeFactory | None = None,
    routing_source: RoutingSource | None = None,
    prediction_log: PredictionLog | None = None,
    observer: ServingObserver | None = None,
    shadow: ShadowExecutor | None = None,
) -> Dependencies:
    return Dependencies(
        settings,
        metrics_registry if metrics_registry is not None else CollectorRegistry(),
        registry=registry,
        training_data=training_data,
        runtime_factory=runtime_factory,
        routing_source=routing_source,
        prediction_log=prediction_log,
        observer=observer,
        shadow=shadow,
    )


def partitioned_options(settings: Settings, *, fresh: bool = False) -> PartitionedOptions:
    from inference_engine.partitioning.training import PartitionedOptions

    return PartitionedOptions(
        runs_dir=settings.partitioned_runs(),
        validation_fraction=settings.validation_fraction,
        seed=settings.seed,
        threads=settings.training_threads,
        max_attempts=settings.partition_max_attempts,
        inject_failures=dict(settings.partition_inject_failures),
        fresh=fresh,
    )
