"""Composition root: settings pick the adapters; keyword overrides let tests inject fakes at the ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from data_processing.directory.ports import FeatureDirectory
from data_processing.directory.services import stored_expressions
from data_processing.directory.usage import UsageRecorder, counting_observer, model_consumer
from data_processing.feature_sets import load_feature_set
from data_processing.help_services import HelpAnswerer
from data_processing.ports import HelpEngine, InferenceEngine, OnlineStore
from data_processing.registry import FeatureGroupRegistry
from data_processing.services import EtdEstimator, newest_feature_age_seconds
from data_processing.settings import Settings
from strata_kernel.errors import ConfigurationError
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from strata_kernel.metrics import LATENCY_BUCKETS, metric_name

COMPONENT = "data_processing"


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


def build_inference_engine(settings: Settings) -> InferenceEngine:
    from data_processing.adapters.inference_http import HttpInferenceEngine

    client = ServiceClient(
        "inference_engine",
        settings.inference_engine_url,
        timeout_seconds=settings.http_timeout_seconds,
        retries=settings.http_retries,
    )
    return HttpInferenceEngine(client)


def build_registry(settings: Settings) -> FeatureGroupRegistry:
    return FeatureGroupRegistry.load(settings.resolved_feature_groups_dir())


def build_feature_directory(settings: Settings) -> FeatureDirectory:
    from data_processing.adapters.sql_directory import SqlFeatureDirectory

    return SqlFeatureDirectory(settings.resolved_directory_url())


def build_lake(settings: Settings) -> LakeClient:
    return LakeClient.from_settings(settings, settings.resolved_lake_root())


@dataclass
class Runtime:
    """Everything the runtime service needs, built once per worker process."""

    online_store: OnlineStore
    inference_engine: InferenceEngine
    estimator: EtdEstimator
    groups: tuple[str, ...]


def build_runtime(
    settings: Settings,
    registry: CollectorRegistry,
    *,
    online_store: OnlineStore | None = None,
    inference_engine: InferenceEngine | None = None,
    feature_groups: FeatureGroupRegistry | None = None,
    usage: UsageRecorder | None = None,
) -> Runtime:
    store = online_store if online_store is not None else build_online_store(settings)
    engine = inference_engine if inference_engine is not None else build_inference_engine(settings)
    groups_registry = feature_groups if feature_groups is not None else build_registry(settings)
    feature_set = load_feature_set(settings.etd_model, groups_registry, settings.resolved_feature_sets_dir())
    groups = tuple(feature_set.stored_groups())
    lookup = Histogram(
        metric_name(COMPONENT, "online_lookup_seconds"),
        "Latency of one online-store lookup of all feature groups of an entity.",
        buckets=(0.0001, 0.00025, *LATENCY_BUCKETS),
        registry=registry,
    )
    age = Gauge(
        metric_name(COMPONENT, "feature_age_seconds"),
        "Seconds since the newest feature_time of a group's serving online version (freshness).",
        ["group"],
        registry=registry,
    )
    for group in groups:
        age.labels(group).set_function(partial(newest_feature_age_seconds, store, group))
    ttl = {group: groups_registry.get(group).ttl for group in groups}
    observe_lookup: Callable[[float], None] = lookup.observe
    if usage is not None:  # every lookup is a read of the model's stored features: counted in memory
        consumer, expressions = model_consumer(feature_set.model), stored_expressions(feature_set)
        usage.watch(consumer, expressions)
        observe_lookup = counting_observer(lookup.observe, usage, consumer, expressions)
    estimator = EtdEstimator(store, engine, feature_set, ttl, observe_lookup=observe_lookup)
    return Runtime(store, engine, estimator, groups)


def build_help_engine(settings: Settings) -> HelpEngine:
    from data_processing.adapters.help_http import HttpHelpEngine

    return HttpHelpEngine.connect(
        settings.inference_engine_url, timeout_seconds=settings.http_timeout_seconds, retries=settings.http_retries
    )


def build_help_answerer(
    settings: Settings, registry: CollectorRegistry, *, help_engine: HelpEngine | None = None
) -> HelpAnswerer:
    """The chatbot runtime. Nothing here is a readiness check: ETD serves whether or not a help model exists."""
    engine = help_engine if help_engine is not None else build_help_engine(settings)
    answers = Counter(
        metric_name(COMPONENT, "help_answers_total"),
        "Help questions answered by the chatbot model, by whether it knew an article.",
        ["known"],
        registry=registry,
    )
    return HelpAnswerer(
        engine, settings.help_model, observe=lambda answer: answers.labels(str(answer.known).lower()).inc()
    )
