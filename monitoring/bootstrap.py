"""Composition root of the sidecar: settings pick the target and recorder; tests override with fakes."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from monitoring.adapters.http_target import HttpProbeTarget
from monitoring.adapters.prometheus import PrometheusProbeRecorder
from monitoring.domain.targets import check_component, local_target_url
from monitoring.errors import SidecarConfigurationError
from monitoring.ports import ProbeRecorder, ProbeTarget
from monitoring.services import SidecarMonitor
from monitoring.settings import Settings
from strata_kernel.background import BackgroundLoop, Step


@dataclass(frozen=True)
class Sidecar:
    component: str
    target_url: str
    monitor: SidecarMonitor
    loop: BackgroundLoop
    registry: CollectorRegistry


def bootstrap(
    settings: Settings,
    *,
    target: ProbeTarget | None = None,
    registry: CollectorRegistry | None = None,
    extra_recorders: tuple[ProbeRecorder, ...] = (),
) -> Sidecar:
    component = _component(settings)
    target_url = settings.sidecar_target_url or local_target_url(component)
    if not target_url.startswith(("http://", "https://")):
        raise SidecarConfigurationError(f"sidecar target {target_url!r} must be an http:// or https:// URL")
    registry = registry if registry is not None else CollectorRegistry()
    if target is None:
        target = HttpProbeTarget(target_url, timeout_seconds=settings.probe_timeout_seconds)
    recorders = (PrometheusProbeRecorder(component, registry), *extra_recorders)
    monitor = SidecarMonitor(component, target, recorders)
    loop = BackgroundLoop("sidecar-probe-loop", _probing(monitor), settings.probe_interval_seconds)
    return Sidecar(component, target_url, monitor, loop, registry)


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
