"""The kernel's background loop: interval, again-at-once while busy, log-and-continue, done, the lease, metrics."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from strata_kernel.background import BackgroundLoop, FileLease, Lease, LoopDone, LoopMetrics


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_busy_step_runs_again_at_once_an_idle_one_waits_for_the_interval() -> None:
    calls: list[float] = []
    backlog = [True, True, True]

    def step() -> bool:
        calls.append(time.monotonic())
        return backlog.pop() if backlog else False

    loop = BackgroundLoop("t", step, interval_seconds=0.3)
    loop.start()
    wait_until(lambda: len(calls) >= 5)
    loop.stop()
    assert calls[3] - calls[0] < 0.2  # the three busy rounds back to back
    assert calls[4] - calls[3] >= 0.28  # then the interval


def test_a_failing_step_is_logged_once_and_retried_and_the_loop_says_when_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = iter([RuntimeError("database down"), RuntimeError("database down"), None])
    done = threading.Event()

    def step() -> None:
        outcome = next(outcomes, None)
        if outcome is not None:
            raise outcome
        done.set()

    registry = CollectorRegistry()
    loop = BackgroundLoop("flaky", step, 0.01, error_interval_seconds=0.02, metrics=LoopMetrics.create("t", registry))
    with caplog.at_level(logging.INFO, logger="strata_kernel.background"):
        loop.start()
        assert done.wait(5)
        loop.stop()
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None  # one traceback per outage, not per round
    assert any("recovered" in r.getMessage() for r in caplog.records)
    runs = registry.get_sample_value
    assert runs("strata_t_background_runs_total", {"loop": "flaky", "outcome": "error"}) == 2.0
    ok = runs("strata_t_background_runs_total", {"loop": "flaky", "outcome": "ok"})
    assert ok is not None and ok >= 1.0


def test_loop_done_ends_the_loop_and_stop_runs_the_closing_step() -> None:
    closed = threading.Event()

    def step() -> None:
        raise LoopDone

    loop = BackgroundLoop("once", step, 0.01, on_stop=closed.set)
    loop.start()
    wait_until(lambda: not loop.running)
    loop.stop()
    assert closed.is_set()


def test_wait_first_waits_one_interval_before_the_first_step() -> None:
    started = time.monotonic()
    first: list[float] = []

    def step() -> None:
        first.append(time.monotonic())

    loop = BackgroundLoop("late", step, 0.2, wait_first=True)
    loop.start()
    wait_until(lambda: first)
    loop.stop()
    assert first[0] - started >= 0.19


class _Never(Lease):
    def try_acquire(self) -> bool:
        return False

    def release(self) -> None:
        return None


def test_without_the_lease_a_loop_stands_by() -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)

    registry = CollectorRegistry()
    loop = BackgroundLoop("led", step, 0.01, lease=_Never(), metrics=LoopMetrics.create("t", registry))
    loop.start()
    time.sleep(0.1)
    loop.stop()
    assert calls == []
    assert registry.get_sample_value("strata_t_background_leading", {"loop": "led"}) == 0.0
    standby = registry.get_sample_value("strata_t_background_runs_total", {"loop": "led", "outcome": "standby"})
    assert standby is not None and standby > 0


def _hold(path: str, held: multiprocessing.synchronize.Event) -> None:
    lease = FileLease(Path(path))
    assert lease.try_acquire()
    held.set()
    time.sleep(60)  # until killed


def test_a_file_lease_has_one_holder_and_is_free_again_when_the_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "leases" / "loop.lease"
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    holder = context.Process(target=_hold, args=(str(path), held))
    holder.start()
    try:
        assert held.wait(30)
        mine = FileLease(path)
        assert not mine.try_acquire()  # another process leads
        holder.kill()  # no release: the kernel frees the flock when the process dies
        holder.join(10)
        assert mine.try_acquire() and mine.try_acquire()  # taken over; renewing is free
        mine.release()
    finally:
        holder.kill()
        holder.join(10)
