"""The streaming worker in-process: local event log -> window state -> SQLite online store + lake (fake catalog)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.entrypoints.cli import app
from data_processing.streaming.metrics import MetricsServer
from strata_kernel.eventlog import EventLog
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.data_processing.fakes import FakeCatalog
from tests.data_processing.streaming.conftest import GROUP, TABLE, WorkerFactory, offline_rows
from tests.data_processing.streaming.stream_data import (
    PLACED,
    all_events,
    assert_same_features,
    order_events,
    publish,
    reference_features,
)


def drain(make_worker: WorkerFactory, **changes: Any) -> dict[str, Any]:
    return make_worker(**changes).run(threading.Event(), idle_seconds=0.3)


def served(online: SqliteOnlineStore, restaurants: list[str]) -> dict[str, dict[str, Any] | None]:
    return {restaurant: online.get(GROUP, restaurant) for restaurant in restaurants}


def test_online_values_equal_a_from_scratch_computation(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore
) -> None:
    events = order_events(60)
    publish(event_log, events)

    report = drain(make_worker, stream_max_batch_events=25)  # several batches

    expected = reference_features(all_events(events))
    assert report == {"group": GROUP, "events": len(all_events(events)), "entities": len(expected)}
    for restaurant, values in expected.items():
        row = online.get(GROUP, restaurant)
        assert row is not None
        assert_same_features(row, values)
    version = online.current_version(GROUP)
    assert version is not None and version.newest_feature_time == max(v["feature_time"] for v in expected.values())


def test_offline_rows_are_what_serving_saw(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore, lake: tuple[LakeClient, FakeCatalog]
) -> None:
    publish(event_log, order_events(40))

    drain(make_worker, stream_max_batch_events=10)

    rows = offline_rows(lake[0])
    assert rows and all(row["created_at"] is not None for row in rows)
    assert all(row["nominal_date"] == row["event_time"].date().isoformat() for row in rows)
    newest: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["event_time"], r["created_at"])):
        newest[row["restaurant_id"]] = row
    for restaurant, row in newest.items():
        assert online.get(GROUP, restaurant) == {
            "orders_last_1h": row["orders_last_1h"],
            "avg_delivery_minutes_last_20": row["avg_delivery_minutes_last_20"],
            "feature_time": row["event_time"],
        }
    commits = lake[1].tables[TABLE]["commits"]
    assert {c["mode"] for c in commits} == {"append"}
    assert {c["continuous"] for c in commits} == {True}  # the catalog does not judge a flush by its row count
    assert commits[0]["inputs"] == ["etd.order_placed", "etd.order_delivered"]


def test_redelivered_events_are_not_counted_twice(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore, lake: tuple[LakeClient, FakeCatalog]
) -> None:
    events = order_events(30)
    publish(event_log, events)
    drain(make_worker)
    restaurants = sorted(reference_features(all_events(events)))
    before, rows_before = served(online, restaurants), len(offline_rows(lake[0]))

    publish(event_log, events)  # the producer retried: every event again, at new offsets
    registry = CollectorRegistry()
    report = drain(make_worker, registry=registry)

    assert report["events"] == len(all_events(events))
    assert served(online, restaurants) == before
    assert len(offline_rows(lake[0])) == rows_before
    unchanged = registry.get_sample_value(
        "strata_data_processing_stream_events_total", {"topic": PLACED, "outcome": "unchanged"}
    )
    assert unchanged == len(events[PLACED])


def test_a_backlog_on_one_topic_does_not_starve_the_other(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore
) -> None:
    """Each batch reads every topic: a topic that alone could fill the batch (a catch-up after a rebalance) must not
    keep the other unread, or its deliveries wait, and a Kafka consumer not polled for its poll interval is put
    out of its group, which then stops while it rejoins."""
    events = order_events(60)
    publish(event_log, {PLACED: events[PLACED]})  # the placements first: a backlog larger than one batch
    publish(event_log, {topic: batch for topic, batch in events.items() if topic != PLACED})
    worker = make_worker(stream_max_batch_events=20)

    assert worker.run_once() == 20

    restaurants = sorted(reference_features(all_events(events)))
    delivered = [r for r, row in served(online, restaurants).items() if row and row["avg_delivery_minutes_last_20"]]
    assert delivered, "one batch read the placements only"


def test_a_restarted_worker_resumes_where_it_committed(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore
) -> None:
    events = order_events(50)
    first = {topic: batch[: len(batch) // 2] for topic, batch in events.items()}
    second = {topic: batch[len(batch) // 2 :] for topic, batch in events.items()}
    publish(event_log, first)
    assert drain(make_worker)["events"] == len(all_events(first))

    publish(event_log, second)
    assert drain(make_worker)["events"] == len(all_events(second))

    for restaurant, values in reference_features(all_events(events)).items():
        row = online.get(GROUP, restaurant)
        assert row is not None
        assert_same_features(row, values)


def test_rows_wait_in_the_outbox_while_the_lake_is_down(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore, lake: tuple[LakeClient, FakeCatalog]
) -> None:
    events = order_events(20)
    publish(event_log, events)
    down = LakeClient(lake[0].root, ServiceClient("data_lake", "http://127.0.0.1:9", retries=0))
    registry = CollectorRegistry()

    drain(make_worker, registry=registry, lake_client=down)

    assert online.get(GROUP, sorted(reference_features(all_events(events)))[0]) is not None  # serving goes on
    assert offline_rows(lake[0]) == []
    waiting = registry.get_sample_value("strata_data_processing_stream_outbox_rows")
    assert waiting is not None and waiting > 0
    assert (registry.get_sample_value("strata_data_processing_stream_offline_flush_failures_total") or 0) >= 1

    drain(make_worker)  # the lake is back: the next start flushes the outbox

    assert len(offline_rows(lake[0])) == waiting


def test_an_invalid_event_is_skipped_and_counted(
    make_worker: WorkerFactory, event_log: EventLog, online: SqliteOnlineStore
) -> None:
    good = {"event_id": "p-1", "event_type": "order_placed", "event_time": "2025-03-03T12:00:00",
            "restaurant_id": "r-1", "order_id": "o-1"}  # fmt: skip
    event_log.publish(PLACED, [{**good, "event_id": "p-0", "event_time": "noon"}, good], key_field="order_id")
    registry = CollectorRegistry()

    drain(make_worker, registry=registry)

    row = online.get(GROUP, "r-1")
    assert row is not None and row["orders_last_1h"] == 1
    assert (
        registry.get_sample_value("strata_data_processing_stream_events_total", {"topic": PLACED, "outcome": "invalid"})
        == 1
    )


def test_metrics_expose_feature_age_and_lag(make_worker: WorkerFactory, event_log: EventLog) -> None:
    ten_seconds_ago = (datetime.now() - timedelta(seconds=10)).isoformat()
    event_log.publish(PLACED, [{"event_id": "p-1", "event_type": "order_placed", "event_time": ten_seconds_ago,
                                "restaurant_id": "r-1", "order_id": "o-1"}], key_field="order_id")  # fmt: skip
    registry = CollectorRegistry()
    worker = make_worker(registry=registry)
    server = MetricsServer(registry, lambda: None, "127.0.0.1", 0).start()
    try:
        worker.recover()
        worker.run_once()
        lag = registry.get_sample_value("strata_data_processing_stream_lag_seconds", {"topic": PLACED})
        partitions = registry.get_sample_value("strata_data_processing_stream_assigned_partitions", {"topic": PLACED})
        text = httpx.get(f"http://127.0.0.1:{server.port}/metrics").text
        ready = httpx.get(f"http://127.0.0.1:{server.port}/readyz").status_code
    finally:
        server.stop()

    age_line = next(line for line in text.splitlines() if line.startswith("strata_data_processing_feature_age_seconds"))
    assert age_line.startswith('strata_data_processing_feature_age_seconds{group="restaurant_realtime"}')
    assert 10 <= float(age_line.split()[-1]) < 60
    assert lag is not None and 10 <= lag < 60
    assert partitions == 1  # a local log is one partition, read by this worker
    assert ready == 200


def test_the_stream_command_refuses_a_batch_group_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_VAR_DIR", str(tmp_path / "var"))

    result = CliRunner().invoke(app, ["stream", "restaurant_stats", "--metrics-port", "0"])

    assert result.exit_code == 2
    assert result.stderr.strip() == "error: restaurant_stats is a batch group: build it with build-features"
