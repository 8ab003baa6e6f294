"""The service: ops routes, ``GET /v1/status`` and metrics of the collector loop running in the same process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apiflask import APIFlask
from dc_fakes import FakeQuarantine, FakeRawLake

from data_collection.entrypoints.app import create_app, start_collector, stop_collector
from data_collection.services import publish_batches
from data_collection.settings import Settings
from data_collection.simulator import Simulation
from data_collection.simulator.events import event_batches
from strata_kernel.eventlog.local import LocalEventLog


@pytest.fixture
def event_log(tmp_path: Path) -> LocalEventLog:
    return LocalEventLog(tmp_path / "eventlog")


@pytest.fixture
def app(settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake) -> Iterator[APIFlask]:
    app = create_app(settings, event_log=event_log, lake=fake_lake, quarantine=FakeQuarantine())
    yield app
    stop_collector(app)


def _wait_for_collected(app: APIFlask, topic: str, expected: int, timeout: float = 15.0) -> dict:
    client = app.test_client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get("/v1/status").get_json()
        if status["topics"][topic]["collected"] >= expected:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{topic}: fewer than {expected} events collected after {timeout}s: {status}")


def test_status_before_the_loop_starts_shows_zeroes_and_not_ready(app: APIFlask) -> None:
    client = app.test_client()
    status = client.get("/v1/status").get_json()
    assert status["running"] is False and status["consumer_group"] == "data_collection"
    assert status["topics"]["etd.order_placed"]["collected"] == 0
    assert status["topics"]["etd.order_delivered"]["last_batch_at"] is None
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["reasons"] == ["the collector loop is not running"]
    assert client.get("/healthz").status_code == 200


def test_the_loop_collects_published_events_and_reports_them(
    app: APIFlask, event_log: LocalEventLog, fake_lake: FakeRawLake, tiny_simulation: Simulation
) -> None:
    start_collector(app)
    publish_batches(event_log, event_batches(tiny_simulation.world, tiny_simulation.orders), size=1_000)
    _wait_for_collected(app, "etd.order_placed", 3_000)
    status = _wait_for_collected(app, "etd.order_delivered", 3_000)

    assert status["running"] is True and status["topics"]["etd.order_placed"]["last_batch_at"] is not None
    assert len(fake_lake.rows["raw.order_delivered"]) == 3_000
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'strata_data_collection_events_total{outcome="collected",topic="etd.order_placed"} 3000.0' in metrics


def test_the_loop_survives_a_lake_outage_and_catches_up(
    app: APIFlask, event_log: LocalEventLog, fake_lake: FakeRawLake, tiny_simulation: Simulation
) -> None:
    fake_lake.failing = True
    publish_batches(event_log, event_batches(tiny_simulation.world, tiny_simulation.orders), size=1_000)
    start_collector(app)
    client = app.test_client()
    deadline = time.monotonic() + 10
    while client.get("/v1/status").get_json()["topics"]["etd.order_placed"]["failed_batches"] == 0:
        assert time.monotonic() < deadline, "no failure reported"
        time.sleep(0.05)
    failing = client.get("/v1/status").get_json()["topics"]["etd.order_placed"]
    assert failing["collected"] == 0 and "data_lake unavailable" in failing["last_error"]
    assert 'strata_data_collection_failed_batches_total{topic="etd.order_placed"}' in client.get("/metrics").text

    fake_lake.failing = False
    status = _wait_for_collected(app, "etd.order_placed", 3_000)
    assert status["topics"]["etd.order_placed"]["last_error"] is None
    assert len(fake_lake.rows["raw.order_placed"]) == 3_000
