"""The rollout bench's traffic: fixed-rate (open-loop) ETD quotes and, for each answer, the order's true outcome.

The truth comes from the simulated world that built the demo (data_collection.simulator: same size and seed give
the same restaurants, cities and effects), so a candidate that predicts worse really is worse on these outcomes.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import httpx
import numpy as np

from bench.harness import percentile
from data_collection.simulator.orders import durations  # the generative model's one entry point for durations
from data_collection.simulator.sizes import SIZES
from data_collection.simulator.world import World, generate_world
from strata_kernel.contracts import headers, topics
from strata_kernel.contracts.events import OrderDelivered
from strata_kernel.eventlog import EventLog

DELIVERED_TOPIC = topics.ORDER_DELIVERED.name


class FixedRateLoad:
    """Calls ``send(i)`` on slot i = start + i/rate from a thread pool: a slow call never delays the next slot.

    A scheduler that falls behind (a stalled machine) sends the late slots at once, keeping the average rate;
    ``max_lag_seconds`` says how late the worst slot was.
    """

    def __init__(
        self,
        send: Callable[[int], None],
        rate: float,
        *,
        workers: int = 64,
        clock: Callable[[], float] = time.monotonic,
        executor: Executor | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.send = send
        self.rate = rate
        self.clock = clock
        self.max_lag_seconds = 0.0
        self.sent = 0
        self._executor = executor or ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quote")
        self._futures: list[Future[None]] = []

    def run(self, stop: threading.Event, seconds: float, wait: Callable[[float], object] | None = None) -> int:
        """Send until ``stop`` is set or ``seconds`` have passed; returns how many calls were started."""
        pause = wait or stop.wait  # stop.wait: a stop request ends the pause at once
        started = self.clock()
        for i in itertools.count():
            offset = i / self.rate
            if stop.is_set() or offset >= seconds:
                break
            delay = started + offset - self.clock()
            if delay > 0:
                pause(delay)
                if stop.is_set():
                    break
            else:
                self.max_lag_seconds = max(self.max_lag_seconds, -delay)
            self._futures.append(self._executor.submit(self.send, i))
            self.sent = i + 1
        return self.sent

    def wait(self) -> None:
        """Wait for every call in flight (the run's last answers count too)."""
        for future in self._futures:
            future.result()
        self._executor.shutdown(wait=True)


class Tally:
    """Thread-safe counts of a run: every non-2xx answer and transport error is a failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = self.ok = self.failed = 0
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def record(self, seconds: float, failure: str | None = None) -> None:
        with self._lock:
            self.sent += 1
            self.latencies.append(seconds)
            if failure is None:
                self.ok += 1
            else:
                self.failed += 1
                if len(self.failures) < 5:
                    self.failures.append(failure)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            latencies = list(self.latencies)
            return {"sent": self.sent, "ok": self.ok, "failed": self.failed, "failures": list(self.failures),
                    "p50_ms": percentile(latencies, 50) * 1000 if latencies else 0.0,
                    "p99_ms": percentile(latencies, 99) * 1000 if latencies else 0.0}  # fmt: skip


@dataclass(frozen=True)
class TruthModel:
    """The simulated world of the demo and where "today" sits in its history (drift keeps going after it)."""

    world: World
    start: date  # first simulated day
    days: int
    index: Mapping[str, int]  # restaurant id -> index in the world

    @classmethod
    def for_demo(cls, size: str, seed: int, built_at: float) -> TruthModel:
        """The demo's history ends the day before it was built (`strata build` passes --end-date yesterday)."""
        world_size = SIZES[size]
        # simulate() draws the world first from default_rng(seed): the same draws give the same world
        world = generate_world(np.random.default_rng(seed), world_size)
        start = date.fromtimestamp(built_at) - timedelta(days=world_size.days)
        return cls(world, start, world_size.days, {rid: i for i, rid in enumerate(world.restaurant_ids)})

    def delivery(self, restaurant_id: str, n_items: int, placed_at: datetime, key: str) -> tuple[float, float]:
        """(prep_minutes, delivery_minutes) of one order; the noise is drawn from a generator seeded by ``key``."""
        rng = np.random.default_rng(zlib.crc32(key.encode()))
        prep, delivery = durations(
            rng,
            self.world,
            np.array([self.index[restaurant_id]]),
            np.array([n_items]),
            np.array([np.datetime64(placed_at.replace(tzinfo=None), "s")]),
            self.start,
            self.days,
        )
        return float(prep[0]), float(delivery[0])


class DeliveryTimes(Protocol):
    """What an outcome needs of the simulated world (TruthModel is one): one order's (prep, delivery) minutes."""

    def delivery(self, restaurant_id: str, n_items: int, placed_at: datetime, key: str) -> tuple[float, float]: ...


def outcome_event(truth: DeliveryTimes, quote: Mapping[str, Any], request_id: str) -> dict[str, Any]:
    """The ``etd.order_delivered`` event of an order placed with this quote (docs/contracts.md, "Outcomes")."""
    placed_at = datetime.fromisoformat(str(quote["quoted_at"])).replace(tzinfo=None, microsecond=0)
    prep, minutes = truth.delivery(str(quote["restaurant_id"]), int(quote["n_items"]), placed_at, request_id)
    seconds = round(minutes * 60)
    delivered_at = placed_at + timedelta(seconds=seconds)
    order_id = f"bench-{request_id}"
    return OrderDelivered(
        event_id=f"{order_id}:delivered", order_id=order_id, restaurant_id=str(quote["restaurant_id"]),
        placed_at=placed_at, delivered_at=delivered_at, prep_minutes=round(min(prep, seconds / 60), 2),
        delivery_minutes=round(seconds / 60, 3), quote_request_id=request_id,
    ).to_wire()  # fmt: skip


class OutcomePublisher:
    """Publishes each answered quote's outcome ``delay_seconds`` later, in batches, off the request threads."""

    def __init__(self, log: EventLog, truth: TruthModel, delay_seconds: float = 2.0) -> None:
        self.log = log
        self.truth = truth
        self.delay_seconds = delay_seconds
        self.published = 0
        self._due: list[tuple[float, int, dict[str, Any]]] = []
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def schedule(self, quote: Mapping[str, Any], request_id: str) -> None:
        event = outcome_event(self.truth, quote, request_id)
        with self._lock:
            heapq.heappush(self._due, (time.monotonic() + self.delay_seconds, next(self._counter), event))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Publish what is still waiting (the run is over), then stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._flush(until=float("inf"))

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._flush(until=time.monotonic())

    def _flush(self, until: float) -> None:
        with self._lock:
            batch = []
            while self._due and self._due[0][0] <= until:
                batch.append(heapq.heappop(self._due)[2])
        if batch:
            self.log.publish(DELIVERED_TOPIC, batch, key_field=topics.ORDER_DELIVERED.key_field)
            self.published += len(batch)


class QuoteSender:
    """One ETD quote per call through business logic, with a customer id (the routing key) and a request id."""

    def __init__(self, base_url: str, bodies: Sequence[Mapping[str, Any]], tally: Tally,
                 outcomes: OutcomePublisher | None, *, customers: int = 500, seed: int = 7,
                 transport: httpx.BaseTransport | None = None) -> None:  # fmt: skip
        self.bodies = bodies
        self.tally = tally
        self.outcomes = outcomes
        self.run_id = f"{random.Random(seed).getrandbits(32):08x}"
        self.customers = [f"cust-{i:05d}" for i in range(customers)]
        self._client = httpx.Client(base_url=base_url, timeout=10.0, transport=transport,
                                     limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))  # fmt: skip

    def send(self, i: int) -> None:
        request_id = f"rollout-{self.run_id}-{i:07d}"
        # a customer keeps the same routing key across quotes: the canary split is sticky per customer
        customer = self.customers[zlib.crc32(str(i).encode()) % len(self.customers)]
        body = {**self.bodies[i % len(self.bodies)], "customer_id": customer}
        started = time.perf_counter()
        try:
            response = self._client.post("/v1/etd", json=body, headers={headers.REQUEST_ID: request_id})
        except httpx.TransportError as exc:
            self.tally.record(time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            return
        elapsed = time.perf_counter() - started
        if not 200 <= response.status_code < 300:
            self.tally.record(elapsed, f"HTTP {response.status_code}: {response.text.strip()[:200]}")
            return
        self.tally.record(elapsed)
        if self.outcomes is not None:
            self.outcomes.schedule(response.json(), request_id)


def quote_bodies(base_url: str, restaurants: int = 100, seed: int = 7) -> list[dict[str, Any]]:
    """Baskets from the live catalog: up to ``restaurants`` restaurants, one to three menu lines each."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, timeout=10) as client:
        listed = client.get("/v1/restaurants", params={"limit": 200}).raise_for_status().json()["restaurants"]
        bodies = []
        for restaurant in listed[:restaurants]:
            menu = client.get(f"/v1/restaurants/{restaurant['id']}").raise_for_status().json()["menu"]
            lines = rng.sample(menu, k=min(len(menu), rng.randint(1, 3)))
            basket = [{"item_id": item["item_id"], "quantity": rng.randint(1, 3)} for item in lines]
            bodies.append({"restaurant_id": restaurant["id"], "basket": basket})
    if not bodies:
        raise RuntimeError("business_logic lists no restaurants")
    return bodies
