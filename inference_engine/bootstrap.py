"""The composition root: settings pick the adapters; keyword overrides let tests pass fakes at the ports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from inference_engine.ports import ModelRegistry, TrainingDataSource
from inference_engine.routing.ports import NullPredictionLog, PredictionLog, RoutingSource
from inference_engine.routing.shadow import ShadowExecutor
from inference_engine.runtimes import RuntimeFactory
from inference_engine.runtimes.partitioned_runtime import create_runtime_with_partitions
from inference_engine.services import ModelService, ServingObserver
from inference_engine.settings import Settings
from inference_engine.training import TrainingOptions

if TYPE_CHECKING:
    from inference_engine.partitioning.training import PartitionedOptions


def build_registry(settings: Settings) -> ModelRegistry:
    # every URI MLflow understands (sqlite:///, postgresql+psycopg://, http://) goes through one adapter
    from inference_engine.adapters.mlflow_registry import MlflowRegistry

    return MlflowRegistry(settings.tracking_uri(), settings.artifact_root(), settings.mlflow_experiment)


def build_training_data(settings: Settings) -> TrainingDataSource:
    from inference_engine.adapters.lake import LakeTrainingData
    from strata_kernel.lake import LakeClient

    return LakeTrainingData(LakeClient.from_settings(settings, settings.lake_root))


def build_prediction_log(
    settings: Settings,
    *,
    on_dropped: Callable[[int], None] | None = None,
    on_failed: Callable[[int], None] | None = None,
) -> PredictionLog:
    """The ``inference.predictions`` log on the configured event log (local files or Kafka)."""
    if not settings.prediction_log:
        return NullPredictionLog()
    from inference_engine.adapters.prediction_log import EventLogPredictionLog
    from strata_kernel.eventlog import open_event_log

    return EventLogPredictionLog(
        open_event_log(settings), max_queue=settings.prediction_log_queue, on_dropped=on_dropped, on_failed=on_failed
    )


def build_routing_source(settings: Settings) -> RoutingSource:
    from inference_engine.adapters.comparative_eval import HttpRoutingSource
    from strata_kernel.http import ServiceClient

    # no retries: the next poll is the retry, and an unreachable comparative_eval must cost nothing
    client = ServiceClient("comparative_eval", settings.comparative_eval_url,
                           timeout_seconds=settings.http_timeout_seconds, retries=0)  # fmt: skip
    return HttpRoutingSource(client)


def build_model_service(
    settings: Settings,
    *,
    registry: ModelRegistry | None = None,
    runtime_factory: RuntimeFactory = create_runtime_with_partitions,
    observer: ServingObserver | None = None,
    prediction_log: PredictionLog | None = None,
) -> ModelService:
    return ModelService(
        registry if registry is not None else build_registry(settings),
        model_names=settings.models,
        alias=settings.serving_alias,
        work_dir=settings.var_dir / "inference_engine" / "downloads",
        runtime_factory=runtime_factory,
        warmup_predictions=settings.warmup_predictions,
        max_cached_versions=settings.max_cached_versions,
        max_instances=settings.max_instances,
        observer=observer,
        prediction_log=prediction_log,
        shadow=ShadowExecutor(settings.shadow_workers, settings.shadow_queue),
    )


def partitioned_options(settings: Settings, *, fresh: bool = False) -> PartitionedOptions:
    from inference_engine.partitioning.training import PartitionedOptions

    return PartitionedOptions(
        runs_dir=settings.partitioned_runs(),
        holdout_days=settings.holdout_days,
        validation_fraction=settings.validation_fraction,
        seed=settings.seed,
        threads=settings.training_threads,
        max_attempts=settings.partition_max_attempts,
        inject_failures=dict(settings.partition_inject_failures),
        fresh=fresh,
    )


def training_options(settings: Settings, params: Mapping[str, int | float] | None = None) -> TrainingOptions:
    return TrainingOptions(
        holdout_days=settings.holdout_days,
        validation_fraction=settings.validation_fraction,
        min_training_rows=settings.min_training_rows,
        min_holdout_rows=settings.min_holdout_rows,
        seed=settings.seed,
        threads=settings.training_threads,
        params=dict(params or {}),
    )
