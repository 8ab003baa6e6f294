"""Composition root: settings pick the adapters; keyword overrides let tests inject fakes at the ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

from prometheus_client import CollectorRegistry, Gauge, Histogram

from data_processing.domain.etd_features import ETD_FEATURE_SET
from data_processing.ports import InferenceEngine, OnlineStore
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


#: URL scheme of ``online_store_url`` -> adapter factory (redis / cassandra join here)
ONLINE_STORES: dict[str, Callable[[str], OnlineStore]] = {"sqlite": _sqlite_store}


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
) -> Runtime:
    store = online_store if online_store is not None else build_online_store(settings)
    engine = inference_engine if inference_engine is not None else build_inference_engine(settings)
    groups_registry = feature_groups if feature_groups is not None else build_registry(settings)
    feature_set = ETD_FEATURE_SET
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
    estimator = EtdEstimator(store, engine, feature_set, ttl, observe_lookup=lookup.observe)
    return Runtime(store, engine, estimator, groups)
