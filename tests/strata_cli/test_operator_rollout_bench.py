"""The rollout bench's building blocks: fixed-rate (open-loop) scheduling and the true outcome of each quote."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from bench.rollout import Timeline, scratch_copy, wait_for_end_of
from bench.rollout_load import (
    DELIVERED_TOPIC,
    FixedRateLoad,
    OutcomePublisher,
    QuoteSender,
    Tally,
    TruthModel,
    outcome_event,
)
from data_collection.simulator import DEFAULT_START, SIZES, simulate
from strata_kernel.eventlog import EventConsumer, EventLog


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class RecordingExecutor:
    """Remembers when each call was submitted (by the fake clock) and never runs it: submission is the send."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.submitted: list[tuple[float, int]] = []

    def submit(self, fn: Callable[[int], None], i: int) -> Future[None]:
        self.submitted.append((self.clock(), i))
        future: Future[None] = Future()
        future.set_result(None)
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


def test_each_request_goes_out_on_its_own_slot_at_the_fixed_rate() -> None:
    clock = FakeClock()
    executor = RecordingExecutor(clock)
    load = FixedRateLoad(lambda i: None, rate=50, clock=clock, executor=executor)  # type: ignore[arg-type]

    sent = load.run(threading.Event(), seconds=2.0, wait=clock.sleep)

    assert sent == 100
    assert [i for _, i in executor.submitted] == list(range(100))
    assert [at for at, _ in executor.submitted] == pytest.approx([100.0 + i / 50 for i in range(100)])
    assert load.max_lag_seconds == 0.0


def test_a_stalled_scheduler_catches_up_so_the_average_rate_holds() -> None:
    clock = FakeClock()
    executor = RecordingExecutor(clock)
    stalled = [False]

    def oversleep(seconds: float) -> None:
        clock.sleep(seconds + (0.5 if not stalled[0] and clock.now > 100.9 else 0.0))
        stalled[0] = stalled[0] or clock.now > 101.4

    load = FixedRateLoad(lambda i: None, rate=10, clock=clock, executor=executor)  # type: ignore[arg-type]

    assert load.run(threading.Event(), seconds=3.0, wait=oversleep) == 30
    times = [at for at, _ in executor.submitted]
    late = [at for at, i in executor.submitted if at > 100.0 + i / 10 + 1e-9]
    assert late and len(late) <= 5  # the slots that fell in the stall went out at once, then back on schedule
    assert times[-1] == pytest.approx(102.9)
    assert load.max_lag_seconds == pytest.approx(0.4, abs=0.11)


def test_slow_answers_do_not_lower_the_rate() -> None:
    """No answer comes back before the last slot went out: a closed loop would have sent one request, not 50."""
    release = threading.Event()
    done: list[int] = []

    def unanswered_send(i: int) -> None:
        release.wait(10.0)
        done.append(i)

    load = FixedRateLoad(unanswered_send, rate=100, workers=64)
    sent = load.run(threading.Event(), seconds=0.5)
    answered_while_scheduling = len(done)
    release.set()
    load.wait()

    assert sent == 50
    assert answered_while_scheduling == 0
    assert sorted(done) == list(range(50))


def test_stop_ends_the_run_early() -> None:
    stop = threading.Event()
    load = FixedRateLoad(lambda i: None, rate=20)
    threading.Timer(0.2, stop.set).start()

    sent = load.run(stop, seconds=30.0)
    load.wait()

    assert 2 <= sent <= 6


@pytest.fixture(scope="module")
def truth() -> TruthModel:
    days = SIZES["tiny"].days
    built = datetime.combine(DEFAULT_START + timedelta(days=days), datetime.min.time()) + timedelta(hours=9)
    return TruthModel.for_demo("tiny", 7, built.timestamp())


def _quote(restaurant_id: str, at: str, n_items: int = 2) -> dict[str, Any]:
    return {"restaurant_id": restaurant_id, "etd_minutes": 31, "subtotal": 24.5, "n_items": n_items, "quoted_at": at}


def test_the_world_is_the_demos_and_today_follows_its_history(truth: TruthModel) -> None:
    assert truth.start == DEFAULT_START  # built the day after the last simulated day
    assert truth.world.restaurant_ids[:2] == ["r-000001", "r-000002"] and len(truth.index) == 30


def test_an_outcome_event_carries_the_quote_request_id_and_the_true_delivery_time(truth: TruthModel) -> None:
    event = outcome_event(truth, _quote("r-000003", "2025-01-27T19:30:05"), "rollout-ab-0000042")

    assert set(event) == {"event_id", "event_type", "event_time", "order_id", "restaurant_id", "placed_at",
                          "delivered_at", "prep_minutes", "delivery_minutes", "quote_request_id"}  # fmt: skip
    assert event["event_type"] == "order_delivered" and event["quote_request_id"] == "rollout-ab-0000042"
    assert event["restaurant_id"] == "r-000003" and event["placed_at"] == "2025-01-27T19:30:05"
    placed, delivered = datetime.fromisoformat(event["placed_at"]), datetime.fromisoformat(event["delivered_at"])
    assert event["event_time"] == event["delivered_at"]
    assert (delivered - placed).total_seconds() == pytest.approx(event["delivery_minutes"] * 60)
    assert 8.0 <= event["delivery_minutes"] <= 150.0 and 2.0 <= event["prep_minutes"] < event["delivery_minutes"]
    # the same quote always has the same outcome (reproducible runs); another quote draws its own noise
    assert outcome_event(truth, _quote("r-000003", "2025-01-27T19:30:05"), "rollout-ab-0000042") == event
    other = outcome_event(truth, _quote("r-000003", "2025-01-27T19:30:05"), "rollout-ab-0000043")
    assert other["delivery_minutes"] != event["delivery_minutes"] and other["order_id"] != event["order_id"]


def test_the_truth_is_the_simulators_model_of_that_world(truth: TruthModel) -> None:
    """Orders the simulator generated for the demo and the bench's truth for the same restaurant, basket and time
    agree up to the model's noise: the restaurant, city, rush-hour and basket effects are the same."""
    sim = simulate(SIZES["tiny"], 7, DEFAULT_START)
    picked = np.random.default_rng(1).choice(len(sim.orders), size=400, replace=False)
    simulated, bench = [], []
    for k in picked:
        restaurant = truth.world.restaurant_ids[int(sim.orders.restaurant[k])]
        placed = np.datetime_as_string(sim.orders.placed_at[k], unit="s")
        quote = _quote(restaurant, str(placed), int(sim.orders.n_items[k]))
        bench.append(outcome_event(truth, quote, f"q-{k}")["delivery_minutes"])
        simulated.append(float(sim.orders.delivery_minutes[k]))

    assert np.corrcoef(simulated, bench)[0, 1] > 0.85
    assert abs(np.mean(simulated) - np.mean(bench)) < 1.0
    assert np.mean(np.abs(np.subtract(simulated, bench))) < 5.0  # the noise alone: travel ±2.5, prep ±12%, ±1


def test_rush_hour_and_bigger_baskets_take_longer(truth: TruthModel) -> None:
    def mean(at: str, n_items: int) -> float:
        return float(np.mean([outcome_event(truth, _quote("r-000005", at, n_items), f"k{i}")["delivery_minutes"]
                              for i in range(200)]))  # fmt: skip

    assert mean("2025-01-28T19:30:00", 2) > mean("2025-01-28T16:00:00", 2) + 2
    assert mean("2025-01-28T16:00:00", 8) > mean("2025-01-28T16:00:00", 1) + 1


class MemoryEventLog(EventLog):
    def __init__(self) -> None:
        self.published: list[tuple[str, list[dict[str, Any]], str | None]] = []

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        self.published.append((topic, [dict(e) for e in events], key_field))

    def consumer(self, topic: str, group: str) -> EventConsumer:
        raise NotImplementedError


def test_outcomes_are_published_after_their_delay_keyed_by_order(truth: TruthModel) -> None:
    log = MemoryEventLog()
    publisher = OutcomePublisher(log, truth, delay_seconds=0.3)
    publisher.start()
    publisher.schedule(_quote("r-000001", "2025-01-28T12:00:00"), "req-1")
    publisher.schedule(_quote("r-000002", "2025-01-28T12:00:01"), "req-2")

    time.sleep(0.1)
    assert log.published == []  # not before the delay
    deadline = time.monotonic() + 3
    while not log.published and time.monotonic() < deadline:
        time.sleep(0.05)
    publisher.stop()

    assert [(topic, key) for topic, _, key in log.published] == [(DELIVERED_TOPIC, "order_id")]
    assert [e["quote_request_id"] for e in log.published[0][1]] == ["req-1", "req-2"]
    assert publisher.published == 2


def test_a_quote_sends_customer_and_request_id_and_every_failure_is_counted(truth: TruthModel) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 2:
            return httpx.Response(503, json={"error": {"code": "etd_unavailable", "message": "engine down"}})
        if len(seen) == 3:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=_quote("r-000001", "2025-01-28T12:00:00"))

    log = MemoryEventLog()
    publisher = OutcomePublisher(log, truth, delay_seconds=0.0)
    tally = Tally()
    body = {"restaurant_id": "r-000001", "basket": [{"item_id": "i-000001-01", "quantity": 2}]}
    sender = QuoteSender("http://bl", [body], tally, publisher, transport=httpx.MockTransport(handler))

    for i in range(4):
        sender.send(i)
    publisher.stop()

    snapshot = tally.snapshot()
    assert (snapshot["sent"], snapshot["ok"], snapshot["failed"]) == (4, 2, 2)
    assert snapshot["failures"][0].startswith("HTTP 503") and "ConnectError" in snapshot["failures"][1]
    request_ids = [r.headers["X-Request-ID"] for r in seen]
    assert len(set(request_ids)) == 4
    bodies = [json.loads(r.content) for r in seen]
    assert all(b["customer_id"].startswith("cust-") and b["restaurant_id"] == "r-000001" for b in bodies)
    published = [e["quote_request_id"] for _, batch, _ in log.published for e in batch]
    assert published == [request_ids[0], request_ids[3]]  # only answered quotes have an order and an outcome


def test_the_scratch_copy_points_its_registry_at_its_own_artifacts(tmp_path: Path) -> None:
    demo = tmp_path / "demo-var"
    (demo / "demo").mkdir(parents=True)
    (demo / "demo" / "BUILT").write_text('{"size": "tiny", "seed": 7}')
    (demo / "run").mkdir()
    (demo / "run" / "supervisord.log").write_text("old run")
    (demo / "mlflow").mkdir()
    with closing(sqlite3.connect(demo / "mlflow" / "mlflow.db")) as db, db:
        db.execute("CREATE TABLE experiments (experiment_id INTEGER, artifact_location VARCHAR(256))")
        db.execute("INSERT INTO experiments VALUES (1, ?)", (f"file://{demo}/mlflow/artifacts",))
    (tmp_path / "work").mkdir()

    copy = scratch_copy(demo, tmp_path / "work")

    with closing(sqlite3.connect(copy / "mlflow" / "mlflow.db")) as db:
        assert db.execute("SELECT artifact_location FROM experiments").fetchall() == [
            (f"file://{copy}/mlflow/artifacts",)
        ]
    with closing(sqlite3.connect(demo / "mlflow" / "mlflow.db")) as db:  # the demo itself is untouched
        assert db.execute("SELECT artifact_location FROM experiments").fetchall() == [
            (f"file://{demo}/mlflow/artifacts",)
        ]
    assert not (copy / "run").exists() and (copy / "demo" / "BUILT").is_file()


def test_a_var_dir_without_a_built_demo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="holds no built demo"):
        scratch_copy(tmp_path, tmp_path / "work")


class ScriptedDeployments:
    """comparative_eval's GET /v1/deployments/{model}, answering the next scripted record on each call."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def deployment(self, model: str) -> dict[str, Any]:
        record = self.records.pop(0) if len(self.records) > 1 else self.records[0]
        return {"record": record, "analysis": {"verdict": "hold", "reasons": ["waiting"]}}


def _record(revision: int, candidate: str | None, mode: str, actor: str = "analysis") -> dict[str, Any]:
    return {"revision": revision, "stable_version": "2", "candidate_version": candidate, "mode": mode, "weight": 5,
            "actor": actor, "reason": "r", "created_at": "2026-01-01T00:00:00Z"}  # fmt: skip


def test_the_end_of_a_canary_is_a_record_newer_than_its_deploy_not_the_previous_full_one() -> None:
    previous_full, deploy, rolled_back = _record(4, None, "full"), _record(5, "3", "canary"), _record(6, None, "full")
    client = ScriptedDeployments([previous_full])
    timeline = Timeline(client, time.monotonic())  # type: ignore[arg-type]
    timeline.poll()  # the poller has not seen the deploy yet: the latest record has no candidate

    with pytest.raises(TimeoutError, match="rollback: not reached"):
        wait_for_end_of(deploy, timeline, time.monotonic() + 0.3, "rollback")

    client.records = [deploy, rolled_back]
    timeline.poll()
    timeline.poll()
    assert wait_for_end_of(deploy, timeline, time.monotonic() + 1, "rollback") == rolled_back
    assert [text for _, text in timeline.events] == [
        "rev 4: stable v2, full by analysis (r)",
        "verdict hold: waiting",
        "rev 5: stable v2, candidate v3, canary 5% by analysis (r)",
        "rev 6: stable v2, full by analysis (r)",
    ]
