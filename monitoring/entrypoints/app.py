"""The sidecar's HTTP surface: /metrics (probe gauges) for Prometheus, /v1/probes for people."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask

from monitoring.bootstrap import Sidecar, bootstrap
from monitoring.settings import Settings
from strata_kernel import background
from strata_kernel.service import create_service_app
from strata_kernel.settings import load_settings

SIDECAR_EXTENSION = "strata.sidecar"


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the sidecar app. The probe loop is registered, not started: the server starts it in the worker after
    the fork (threads do not survive a fork); ``start_probing(app)`` starts it in this process."""
    settings = settings if settings is not None else load_settings(Settings)
    sidecar = bootstrap(settings, **overrides)
    app = create_service_app(
        "sidecar",
        title=f"Strata sidecar monitor ({sidecar.component})",
        description="Probes one component's /healthz and /readyz from its own host and exports the outcomes.",
        readiness_checks=[_probe_loop_running(sidecar)],
        registry=sidecar.registry,
    )
    app.extensions[SIDECAR_EXTENSION] = sidecar
    for loop in sidecar.loops:  # the probe loop, and the data monitors' loop of the components that have them
        background.register(app, loop)

    @app.get("/v1/probes")
    @app.doc(summary="Latest outcome of each probe of the watched component.")
    def probes() -> dict[str, Any]:
        return {
            "component": sidecar.component,
            "target": sidecar.target_url,
            "probes": [
                {
                    "probe": result.probe.value,
                    "success": result.success,
                    "duration_seconds": round(result.duration_seconds, 6),
                    "detail": result.detail,
                }
                for result in sidecar.monitor.latest()
            ],
        }

    return app


def start_probing(app: APIFlask) -> None:
    background.start(app)


def _probe_loop_running(sidecar: Sidecar) -> Any:
    def probe_loop() -> str | None:
        stopped = [loop.name for loop in sidecar.loops if not loop.running]
        return f"{', '.join(stopped)} not running" if stopped else None

    return probe_loop
