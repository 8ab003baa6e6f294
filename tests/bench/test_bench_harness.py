"""The load generators of `bench etd`: the open loop keeps its schedule and counts a stall in every request it
delays (no coordinated omission); `bench footprint` names a stack's processes and what they hold."""

from __future__ import annotations

import os
import threading
import time

from bench.footprint import _name, measure
from bench.harness import closed_loop, open_loop


def test_open_loop_counts_a_stall_in_the_requests_it_delays() -> None:
    stalled = threading.Event()

    def call(i: int) -> int:
        if i == 10 and not stalled.is_set():  # one answer takes 300 ms; one sender only, so the next ones wait
            stalled.set()
            time.sleep(0.3)
        return 200

    latencies, elapsed, errors = open_loop(call, rate=100, seconds=1.0, senders=1)

    assert (len(latencies), errors) == (100, 0)
    assert sum(latency > 0.1 for latency in latencies) >= 10  # the requests queued behind it waited, and it shows
    assert elapsed < 1.6


def test_closed_loop_counts_errors_and_exceptions() -> None:
    def call(i: int) -> int:
        if i % 10 == 0:
            raise ConnectionError("refused")
        return 503 if i % 10 == 1 else 200

    latencies, _elapsed, errors = closed_loop(call, requests=50, concurrency=4)

    assert (len(latencies), errors) == (50, 10)


def test_footprint_measures_a_process_and_names_workers_and_sidecars() -> None:
    me = measure(os.getpid())
    assert me is not None
    assert me.rss_mb > 0 and 0 < me.pss_mb <= me.rss_mb + 1
    serve = ["python", "-m", "inference_engine", "serve", "--port", "8003"]
    assert _name(serve, ["supervisord"]) == "inference_engine serve"
    assert _name(serve, serve) == "inference_engine serve worker"
    sidecar = ["python", "-m", "monitoring", "sidecar", "--component", "ui", "--target", "http://x"]
    assert _name(sidecar, ["supervisord"]) == "ui sidecar"
