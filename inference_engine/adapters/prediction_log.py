"""The prediction log over the kernel's EventLog (local files or Kafka), batched by one background thread.

The request thread only appends a tuple to a bounded queue (no lock, no wake-up); every ``flush_seconds`` the
thread turns what gathered into events and publishes them in small batches. A full queue drops the entry
(counted) rather than slow down a prediction.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from inference_engine.routing.ports import PredictionEntry, PredictionLog
from strata_kernel.background import BackgroundLoop
from strata_kernel.contracts.events import PredictionLogged
from strata_kernel.eventlog import EventLog

log = logging.getLogger(__name__)


def _ignore(_count: int) -> None:
    return None


class EventLogPredictionLog(PredictionLog):
    def __init__(
        self,
        event_log: EventLog,
        *,
        max_queue: int = 10_000,
        batch_size: int = 16,
        flush_seconds: float = 0.1,
        on_dropped: Callable[[int], None] | None = None,
        on_failed: Callable[[int], None] | None = None,
    ) -> None:
        self._event_log = event_log
        # a deque's append/popleft are atomic: the request thread takes no lock and wakes no thread
        self._pending: deque[PredictionEntry] = deque()
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._on_dropped = on_dropped or _ignore
        self._on_failed = on_failed or _ignore
        self._busy = False  # the thread holds entries it has taken but not yet published
        # event ids: unique per process start + a counter (uuid4 per event costs a syscall each)
        self._id_prefix = f"{uuid.uuid4().hex[:16]}-"
        self._ids = itertools.count(1)
        # again at once while batches are full; otherwise let entries gather: one write (and fsync) per interval
        self._loop = BackgroundLoop("prediction-log", self._publish_batch, flush_seconds)
        self._started = False

    def record(self, entry: PredictionEntry) -> None:
        if not self._started:  # started on first use (after the fork, by a request): an unused app runs no thread
            self._started = True
            self._loop.start()
        if len(self._pending) >= self._max_queue:  # the bound may be overshot by a few racing threads: harmless
            self._on_dropped(1)
            return
        self._pending.append(entry)

    def close(self) -> None:
        self._loop.stop()
        while self._pending:  # anything recorded after the thread's last batch
            self._publish_batch()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every recorded entry has been published (tests, shutdown); False on time-out."""
        deadline = time.monotonic() + timeout
        while self._pending or self._busy:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _publish_batch(self) -> bool:
        """Publish up to batch_size pending entries; True when the batch was full (more may be waiting)."""
        self._busy = True
        try:
            batch: list[PredictionEntry] = []
            while len(batch) < self._batch_size and self._pending:
                batch.append(self._pending.popleft())
            if batch:
                self._publish(batch)
            return len(batch) == self._batch_size
        finally:
            self._busy = False

    def _publish(self, batch: list[PredictionEntry]) -> None:
        try:
            events = [to_event(entry, f"{self._id_prefix}{next(self._ids)}") for entry in batch]
            self._event_log.publish(PredictionLogged.TOPIC.name, events, key_field=PredictionLogged.TOPIC.key_field)
        except Exception:  # the log must never take serving down: count the loss, say why, carry on
            log.exception("could not publish %d prediction events", len(batch))
            self._on_failed(len(batch))


def to_event(entry: PredictionEntry, event_id: str) -> dict[str, Any]:
    """The ``inference.predictions`` event (strata_kernel.contracts.events.PredictionLogged)."""
    return PredictionLogged(
        event_id=event_id,
        event_time=datetime.fromtimestamp(entry.at, UTC),
        request_id=entry.request_id,
        model=entry.model,
        version=str(entry.version),
        route=entry.route,
        routing_key=entry.routing_key,
        node=entry.node,
        instance=entry.instance,
        prediction=_loggable(entry.prediction),
        latency_ms=entry.latency_ms,
        outcome="ok" if entry.error is None else "error",
        error=entry.error,
    ).to_wire()


def _loggable(prediction: Any) -> Any:
    """A number as is; the chatbot's answer by its article id (None when it did not know)."""
    if isinstance(prediction, Mapping):
        return prediction.get("article_id")
    return prediction
