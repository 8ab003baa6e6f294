"""Composition root of the sidecar: settings pick the target and recorder; tests override with fakes."""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from monitoring.adapters.http_target import HttpProbeTarget
from monitoring.adapters.prometheus import PrometheusProbeRecorder
from monitoring.domain.aspects import DRIFT, MISSING
from monitoring.domain.targets import check_component, local_target_url
from monitoring.errors import SidecarConfigurationError
from monitoring.ports import (
    EventSource,
    FeatureGroups,
    LakeChecks,
    OfflineFeatures,
    ProbeRecorder,
    ProbeTarget,
    ReferenceSource,
)
from monitoring.services import SidecarMonitor
from monitoring.settings import Settings
from strata_kernel.background import BackgroundLoop, Step
from strata_kernel.contracts import topics

if TYPE_CHECKING:  # the data monitors' code (profiles, sketches, windows, httpx) loads only where they run
    from monitoring.lake_monitor import LakeCheckMonitor
    from monitoring.monitors import PredictionMonitor, SchemaMonitor, SkewMonitor


@dataclass(frozen=True)
class Sidecar:
    component: str
    target_url: str
    monitor: SidecarMonitor
    loop: BackgroundLoop
    registry: CollectorRegistry
    data: DataMonitors | None = None

    @property
    def loops(self) -> tuple[BackgroundLoop, ...]:
        return (self.loop,) if self.data is None else (self.loop, self.data.loop)


def bootstrap(
    settings: Settings,
    *,
    target: ProbeTarget | None = None,
    registry: CollectorRegistry | None = None,
    extra_recorders: tuple[ProbeRecorder, ...] = (),
    data_overrides: dict[str, Any] | None = None,
) -> Sidecar:
    component = _component(settings)
    target_url = settings.sidecar_target_url or local_target_url(component)
    if not target_url.startswith(("http://", "https://")):
        raise SidecarConfigurationError(f"sidecar target {target_url!r} must be an http:// or https:// URL")
    registry = registry if registry is not None else CollectorRegistry()
    if target is None:
        try:
            target = HttpProbeTarget(target_url, timeout_seconds=settings.probe_timeout_seconds)
        except ValueError as exc:  # no host, a port that is not a number
            raise SidecarConfigurationError(str(exc)) from exc
    recorders = (PrometheusProbeRecorder(component, registry), *extra_recorders)
    monitor = SidecarMonitor(component, target, recorders)
    loop = BackgroundLoop("sidecar-probe-loop", _probing(monitor), settings.probe_interval_seconds)
    data_overrides = _known_data_overrides(data_overrides or {})
    data = data_monitors(settings, component, registry, **data_overrides) if settings.data_monitors else None
    return Sidecar(component, target_url, monitor, loop, registry, data)


def _known_data_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides of :func:`data_monitors`, refused by name when it takes no such port (even with the data
    monitors off, when it is not called: a misspelt override must not pass unseen)."""
    accepted = {name for name, p in inspect.signature(data_monitors).parameters.items() if p.kind is p.KEYWORD_ONLY}
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise TypeError(f"data_monitors() got unexpected keyword arguments {unknown}: it takes {sorted(accepted)}")
    return overrides


def _probing(monitor: SidecarMonitor) -> Step:
    def probe() -> None:
        monitor.probe_once()

    return probe


def _component(settings: Settings) -> str:
    if not settings.sidecar_component:
        raise SidecarConfigurationError("no component to watch: pass --component (or STRATA_SIDECAR_COMPONENT)")
    try:
        return check_component(settings.sidecar_component)
    except ValueError as exc:
        raise SidecarConfigurationError(str(exc)) from exc


#: what each component's sidecar watches in the data (docs/monitoring.md)
DATA_ASPECTS: dict[str, frozenset[str]] = {
    "inference_engine": frozenset({DRIFT}),  # inputs and predictions of each served version vs its reference
    "data_processing": frozenset({MISSING}),  # the feature vectors it builds: missing, out of training range
}
#: topics whose events a component consumes, checked against their contract by its sidecar
SCHEMA_TOPICS: dict[str, tuple[topics.Topic, ...]] = {
    "data_processing": (topics.ORDER_PLACED,),
}


def watches_data(component: str) -> bool:
    """Whether ``component``'s sidecar runs data monitors (with them on); the others only probe."""
    return component == "data_lake" or bool(DATA_ASPECTS.get(component)) or bool(SCHEMA_TOPICS.get(component))


@dataclass
class DataMonitors:
    predictions: PredictionMonitor | None
    schemas: tuple[SchemaMonitor, ...]
    loop: BackgroundLoop
    evaluate_seconds: float
    last_evaluated: float = float("-inf")
    lake: LakeCheckMonitor | None = None
    skew: SkewMonitor | None = None

    def step(self) -> bool:
        """Read what waits (bounded), then judge the windows when it is time; True when more is waiting."""
        more = False
        if self.predictions is not None:
            more |= self.predictions.consume()
        for schema in self.schemas:
            more |= schema.consume()
        now = time.monotonic()
        if now - self.last_evaluated >= self.evaluate_seconds:
            self.last_evaluated = now
            if self.predictions is not None:
                self.predictions.evaluate()
            if self.lake is not None:
                self.lake.poll()
            if self.skew is not None:
                self.skew.evaluate()
        return more


def data_monitors(
    settings: Settings,
    component: str,
    registry: CollectorRegistry,
    *,
    sources: dict[str, EventSource] | None = None,
    references: ReferenceSource | None = None,
    lake_checks: LakeChecks | None = None,
    feature_groups: FeatureGroups | None = None,
    offline: OfflineFeatures | None = None,
    clock: Any = None,
) -> DataMonitors | None:
    """The data monitors of ``component`` (None when its sidecar watches only health)."""
    if not watches_data(component):
        return None
    aspects = DATA_ASPECTS.get(component, frozenset())
    schema_topics = SCHEMA_TOPICS.get(component, ())
    # imported here, not above: a sidecar that only probes would hold the monitors' code for nothing
    from monitoring.adapters.data_metrics import PrometheusDataRecorder

    if component == "data_lake":  # the development flow: the lake's commit checks (no windows, profiles, contracts)
        from monitoring.adapters.lake_checks_http import HttpLakeChecks
        from monitoring.lake_monitor import LakeCheckMonitor

        recorder = PrometheusDataRecorder(registry, aspects=frozenset())
        checks = lake_checks or HttpLakeChecks(settings.data_lake_url)
        lake = LakeCheckMonitor(checks, recorder)
        every = settings.monitor_evaluate_seconds
        monitors = DataMonitors(None, (), loop=None, evaluate_seconds=every, lake=lake)  # type: ignore[arg-type]
        monitors.loop = BackgroundLoop("sidecar-data-monitors", monitors.step, settings.monitor_poll_seconds)
        return monitors
    from monitoring.adapters.event_source import EventLogSource
    from monitoring.adapters.offline_http import HttpFeatureGroups, HttpOfflineFeatures
    from monitoring.adapters.reference_http import HttpReferenceSource
    from monitoring.domain.judgement import Policy
    from monitoring.monitors import PredictionMonitor, SchemaMonitor, SkewMonitor
    from strata_kernel.contracts.events import EVENTS

    sources = dict(sources or {})
    event_log = None

    def source(topic: topics.Topic) -> EventSource:
        nonlocal event_log
        if topic.name not in sources:
            if event_log is None:
                from strata_kernel.eventlog import open_event_log

                event_log = open_event_log(settings)
            sources[topic.name] = EventLogSource(event_log, topic.name, f"monitor-{component}")
        return sources[topic.name]

    recorder = PrometheusDataRecorder(registry, aspects=aspects)
    skew = None
    if MISSING in aspects and settings.monitor_skew_sample_every > 0:  # data_processing serves the stored features
        skew = SkewMonitor(
            component,
            feature_groups or HttpFeatureGroups(settings.data_processing_url),
            offline or HttpOfflineFeatures(settings.data_lake_url),
            recorder,
            sample_every=settings.monitor_skew_sample_every,
        )
    predictions = None
    if aspects:
        engine = settings.engine_url or settings.inference_engine_url
        samples, reference_rows = settings.monitor_min_samples, settings.monitor_min_reference_rows
        policy = Policy(min_samples=samples, min_reference_rows=reference_rows, min_node_samples=samples)
        predictions = PredictionMonitor(
            component, source(topics.PREDICTIONS), references or HttpReferenceSource(engine), recorder,
            aspects=aspects, policy=policy, observers=(skew.offer,) if skew is not None else (),
            **({"clock": clock} if clock is not None else {}),
        )  # fmt: skip
    schemas = tuple(SchemaMonitor(component, EVENTS[t.name].SHAPE, source(t), recorder) for t in schema_topics)
    every = settings.monitor_evaluate_seconds
    monitors = DataMonitors(predictions, schemas, loop=None, evaluate_seconds=every, skew=skew)  # type: ignore[arg-type]
    monitors.loop = BackgroundLoop("sidecar-data-monitors", monitors.step, settings.monitor_poll_seconds)
    return monitors
