"""HTTP app of data_collection: ops routes plus ``GET /v1/status`` of the collector loop it hosts.

The loop is registered here but started after the fork by the server (strata_kernel.background), or by
:func:`start_collector`: building the app in a test or a script never starts consuming.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from prometheus_client import CollectorRegistry

from data_collection.adapters.metrics import PrometheusBatchObserver
from data_collection.bootstrap import bootstrap
from data_collection.domain.events import TOPICS
from data_collection.settings import Settings
from data_collection.status import CollectorStatus
from strata_kernel import background
from strata_kernel.service import create_service_app


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """``overrides`` go to :func:`data_collection.bootstrap.bootstrap` (event_log, lake, quarantine: fakes in tests)."""
    settings = settings if settings is not None else Settings()
    deps = bootstrap(settings, **overrides)
    registry = CollectorRegistry()
    status = CollectorStatus(TOPICS)
    collector = deps.collector(observers=[status, PrometheusBatchObserver(registry)])
    loop = deps.collector_loop(collector)

    def collector_loop_running() -> str | None:
        return None if loop.running else "the collector loop is not running"

    app = create_service_app(
        "data_collection",
        title="Strata data collection",
        description="Collects order and help-centre events from the event log into the raw zone of the lake.",
        readiness_checks=[collector_loop_running],
        registry=registry,
    )
    background.register(app, loop)

    @app.get("/v1/status")
    @app.doc(
        tags=["collector"],
        summary="Events collected and quarantined per topic, last batch time.",
        description="Per topic since the process started: `collected` rows appended to the raw table (at-least-once:"
        " an event delivered again in a later batch, after a refused commit or a restart, is appended and counted"
        " again; processed.orders dedupes), `duplicates` copies of an event id within one batch (dropped), "
        "`quarantined`, `batches`, `failed_batches`, `last_batch_at`, `last_error`.",
    )
    def collector_status() -> dict[str, Any]:
        return {
            "running": loop.running,
            "consumer_group": settings.consumer_group,
            "event_log": settings.event_log,
            "topics": status.snapshot(),
        }

    return app


def start_collector(app: APIFlask) -> None:
    background.start(app)


def stop_collector(app: APIFlask) -> None:
    background.stop(app)
