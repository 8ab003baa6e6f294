"""The prediction log adapter: batched off the request path, bounded (drops are counted), survives a broken log."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from inference_engine.adapters.prediction_log import EventLogPredictionLog
from inference_engine.routing.ports import PredictionEntry
from strata_kernel.eventlog import EventConsumer, EventLog
from strata_kernel.eventlog.local import LocalEventLog


def entry(request_id: str, prediction: Any = 12.5, error: str | None = None) -> PredictionEntry:
    return PredictionEntry(time.time(), request_id, "etd", 3, "canary", "cust-1", "country_code=NL",
                           {"f": 1.0}, prediction, 0.42, error)  # fmt: skip


class FlakyEventLog(EventLog):
    """Fails while ``down``; remembers what it published."""

    def __init__(self) -> None:
        self.down = True
        self.published: list[Mapping[str, Any]] = []

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.published.extend(events)

    def consumer(self, topic: str, group: str) -> EventConsumer:
        raise NotImplementedError


def test_entries_become_contract_events_on_the_topic(tmp_path: Path) -> None:
    log = EventLogPredictionLog(LocalEventLog(tmp_path), flush_seconds=0.01)

    log.record(entry("req-1"))
    log.record(entry("req-2", prediction={"known": True, "article_id": "refunds", "confidence": 0.9}))
    log.record(entry("req-3", prediction=None, error="ValueError: boom"))
    assert log.flush()

    consumer = LocalEventLog(tmp_path).consumer("inference.predictions", "t")
    events = consumer.poll(timeout_seconds=0.2)
    assert [e.key for e in events] == ["req-1", "req-2", "req-3"]
    first, chat, failed = (e.value for e in events)
    assert {k: first[k] for k in ("model", "version", "route", "routing_key", "node", "prediction", "outcome")} == {
        "model": "etd", "version": "3", "route": "canary", "routing_key": "cust-1", "node": "country_code=NL",
        "prediction": 12.5, "outcome": "ok",
    }  # fmt: skip
    assert chat["prediction"] == "refunds"  # the chatbot's answer is logged by its article id
    assert (failed["outcome"], failed["error"]) == ("error", "ValueError: boom")
    assert len({e.value["event_id"] for e in events}) == 3


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    dropped: list[int] = []
    log = EventLogPredictionLog(LocalEventLog(tmp_path), max_queue=5, flush_seconds=60, on_dropped=dropped.append)

    started = time.perf_counter()
    for i in range(20):
        log.record(entry(f"req-{i}"))

    assert time.perf_counter() - started < 0.5
    # 5 fit in the queue, plus at most one queue-full the starting thread may have taken already
    assert 10 <= sum(dropped) <= 15
    log.close()


def test_a_broken_event_log_loses_counted_events_and_the_log_carries_on() -> None:
    event_log, failed = FlakyEventLog(), list[int]()
    log = EventLogPredictionLog(event_log, flush_seconds=0.01, on_failed=failed.append)

    log.record(entry("lost"))
    assert log.flush()
    event_log.down = False
    log.record(entry("kept"))
    assert log.flush()

    assert sum(failed) == 1
    assert [event["request_id"] for event in event_log.published] == ["kept"]
