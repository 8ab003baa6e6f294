"""Composition root: ``bootstrap(settings, *, <port>=None, ...)`` -> the process's :class:`Dependencies`.

Settings pick the adapters; a keyword override replaces one (tests pass fakes). The runtime service, every job of
the CLI and the streaming worker build through it, each touching only the ports it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from prometheus_client import CollectorRegistry, Counter, Histogram

from data_processing.directory.ports import FeatureDirectory
from data_processing.directory.usage import UsageRecorder, counting_observer, model_consumer
from data_processing.help_services import HelpAnswerer
from data_processing.ports import HelpEngine, InferenceEngine, OnlineStore
from data_processing.registry import FeatureGroupRegistry
from data_processing.services import EtdEstimator, ModelCatalog
from data_processing.settings import COMPONENT, Settings
from strata_kernel.composition import Dependencies as KernelDependencies
from strata_kernel.errors import ConfigurationError
from strata_kernel.eventlog import EventLog, open_event_log
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from strata_kernel.metrics import LATENCY_BUCKETS, metric_name

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _sqlite_store(url: str) -> OnlineStore:
    from data_processing.adapters.online_sqlite import SqliteOnlineStore

    path = urlparse(url).path
    return SqliteOnlineStore(Path(path[1:] if path.startswith("//") else path))


def _redis_store(url: str) -> OnlineStore:
    from data_processing.adapters.online_redis import RedisOnlineStore

    return RedisOnlineStore.from_url(url)


def _cassandra_store(url: str) -> OnlineStore:
    from data_processing.adapters.online_cassandra import CassandraOnlineStore

    return CassandraOnlineStore.from_url(url)


#: URL scheme of ``online_store_url`` -> adapter factory: ``sqlite:///path``, ``redis://host:port/db``,
#: ``cassandra://host1,host2[:port]/keyspace``
ONLINE_STORES: dict[str, Callable[[str], OnlineStore]] = {
    "sqlite": _sqlite_store,
    "redis": _redis_store,
    "cassandra": _cassandra_store,
}


def build_online_store(settings: Settings) -> OnlineStore:
    url = settings.resolved_online_store_url()
    factory = ONLINE_STORES.get(urlparse(url).scheme)
    if factory is None:
        raise ConfigurationError(f"online_store_url {url!r}: scheme must be one of {', '.join(sorted(ONLINE_STORES))}")
    return factory(url)


def _inference_engine(settings: Settings) -> InferenceEngine:
    from data_processing.adapters.inference_http import HttpInferenceEngine

    client = ServiceClient(
        "inference_engine",
        settings.inference_engine_url,
        timeout_seconds=settings.http_timeout_seconds,
        retries=settings.http_retries,
        credential=settings.service_credential(),
    )
    return HttpInferenceEngine(client)


def _help_engine(settings: Settings) -> HelpEngine:
    from data_processing.adapters.help_http import HttpHelpEngine

    return HttpHelpEngine.connect(
        settings.inference_engine_url,
        timeout_seconds=settings.http_timeout_seconds,
        retries=settings.http_retries,
        credential=settings.service_credential(),
    )


def _feature_directory(settings: Settings) -> FeatureDirectory:
    from data_processing.adapters.sql_directory import SqlFeatureDirectory

    return SqlFeatureDirectory(settings.resolved_directory_url())


@dataclass(frozen=True)
class Runtime:
    """The serving path: every declared model's predictor (built on first use) and ETD's estimate, one client."""

    models: ModelCatalog
    estimator: EtdEstimator
    #: the stored feature groups ETD reads (readiness: the demo's model must find its features online)
    groups: tuple[str, ...]


class Dependencies(KernelDependencies[Settings]):
    """Adapters and services of one data_processing process, each built on first use (see strata_kernel.composition)."""

    def __init__(self, settings: Settings, registry: CollectorRegistry, **overrides: object) -> None:
        super().__init__(settings, overrides)
        #: where the runtime's metrics live (the service's /metrics, or a worker's own registry)
        self.registry = registry

    # --- ports -------------------------------------------------------------------------------------------------
    @cached_property
    def online_store(self) -> OnlineStore:
        return self.port("online_store", lambda: build_online_store(self.settings), closes=True)

    @cached_property
    def inference_engine(self) -> InferenceEngine:
        return self.port("inference_engine", lambda: _inference_engine(self.settings), closes=True)

    @cached_property
    def help_engine(self) -> HelpEngine:
        return self.port("help_engine", lambda: _help_engine(self.settings), closes=True)

    @cached_property
    def feature_groups(self) -> FeatureGroupRegistry:
        return self.port(
            "feature_groups", lambda: FeatureGroupRegistry.load(self.settings.resolved_feature_groups_dir())
        )

    @cached_property
    def feature_directory(self) -> FeatureDirectory:
        return self.port("feature_directory", lambda: _feature_directory(self.settings), closes=True)

    @cached_property
    def lake(self) -> LakeClient:
        return self.port("lake", lambda: LakeClient.from_settings(self.settings, self.settings.resolved_lake_root()))

    @cached_property
    def spark(self) -> SparkSession:
        """A SparkSession on ``spark_master`` (started on first use: most commands never need one)."""
        from data_processing.adapters.spark import build_spark_session

        return self.port("spark", lambda: build_spark_session(self.settings))

    @cached_property
    def event_log(self) -> EventLog:
        return self.port("event_log", lambda: open_event_log(self.settings), closes=True)

    # --- the runtime service -----------------------------------------------------------------------------------
    @cached_property
    def usage(self) -> UsageRecorder:
        """Serving reads of stored features, counted in memory and flushed to the directory in the background."""
        return UsageRecorder(self.feature_directory, self.settings.usage_flush_seconds)

    @cached_property
    def runtime(self) -> Runtime:
        return _runtime(self)

    @cached_property
    def help_answerer(self) -> HelpAnswerer:
        """The chatbot runtime. Nothing here is a readiness check: ETD serves whether or not a help model exists."""
        answers = Counter(
            metric_name(COMPONENT, "help_answers_total"),
            "Help questions answered by the chatbot model, by whether it knew an article.",
            ["known"],
            registry=self.registry,
        )
        return HelpAnswerer(
            self.help_engine,
            self.settings.help_model,
            observe=lambda answer: answers.labels(str(answer.known).lower()).inc(),
        )


def bootstrap(
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    online_store: OnlineStore | None = None,
    inference_engine: InferenceEngine | None = None,
    help_engine: HelpEngine | None = None,
    feature_groups: FeatureGroupRegistry | None = None,
    feature_directory: FeatureDirectory | None = None,
    lake: LakeClient | None = None,
    event_log: EventLog | None = None,
) -> Dependencies:
    return Dependencies(
        settings,
        registry if registry is not None else CollectorRegistry(),
        online_store=online_store,
        inference_engine=inference_engine,
        help_engine=help_engine,
        feature_groups=feature_groups,
        feature_directory=feature_directory,
        lake=lake,
        event_log=event_log,
    )


def _runtime(deps: Dependencies) -> Runtime:
    settings = deps.settings
    lookup = Histogram(
        metric_name(COMPONENT, "online_lookup_seconds"),
        "Latency of one online-store lookup of all feature groups of a request's entities.",
        buckets=(0.0001, 0.00025, *LATENCY_BUCKETS),
        registry=deps.registry,
    )

    def observer(model: str, expressions: tuple[str, ...]) -> Callable[[float], None]:
        # every lookup is a read of the model's stored features: counted in memory
        consumer = model_consumer(model)
        deps.usage.watch(consumer, expressions)
        return counting_observer(lookup.observe, deps.usage, consumer, expressions)

    models = ModelCatalog(settings.resolved_model_specs_dir(), deps.feature_groups, deps.online_store,
                          deps.inference_engine, observer)  # fmt: skip
    etd = models.declared(settings.etd_model)  # checked at start; a deployment may not declare the demo's model
    return Runtime(models, EtdEstimator(lambda: models.predictor(settings.etd_model)), etd.groups if etd else ())
