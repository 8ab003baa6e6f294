"""Usage logging that keeps the serving hot path cheap.

``record`` is one lock and one counter increment per request — keyed by (consumer, the consumer's feature
expressions), so a model reading 7 features costs one increment, not 7. A background loop (``loop()``, started
by the server after the fork) flushes the counts to the directory every ``interval_seconds`` and once more when it
stops; a failed flush keeps the counts for the next one. Each flush also refreshes the deprecation warnings of
every consumer seen, logs them once per flush for the consumers that read a deprecated feature since the last one,
and ``warnings(consumer)`` lets the service return them with every response.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from data_processing.directory.ports import FeatureDirectory
from data_processing.directory.services import deprecation_warnings, usage_rows
from strata_kernel.background import BackgroundLoop

log = logging.getLogger(__name__)

UsageKey = tuple[str, tuple[str, ...]]


class UsageRecorder:
    def __init__(
        self,
        directory: FeatureDirectory,
        interval_seconds: float = 10.0,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._directory = directory
        self._interval = interval_seconds
        self._clock = clock
        self._counts: Counter[UsageKey] = Counter()
        self._lock = threading.Lock()
        self._consumers: dict[str, tuple[str, ...]] = {}
        self._warnings: dict[str, tuple[str, ...]] = {}

    # -- hot path -----------------------------------------------------------------------------------------------
    def record(self, consumer: str, expressions: tuple[str, ...], count: int = 1) -> None:
        with self._lock:
            self._counts[(consumer, expressions)] += count

    def warnings(self, consumer: str) -> tuple[str, ...]:
        """Deprecation warnings for ``consumer`` as of the last flush (or ``watch``)."""
        return self._warnings.get(consumer, ())

    # -- background ---------------------------------------------------------------------------------------------
    def watch(self, consumer: str, expressions: tuple[str, ...]) -> None:
        """Know a consumer's features before its first read, so its first responses carry warnings too."""
        self._consumers[consumer] = expressions
        try:
            self._warnings[consumer] = tuple(deprecation_warnings(self._directory, expressions, consumer))
        except Exception as exc:  # the directory being down must not stop serving
            log.warning("feature directory unavailable, deprecation warnings unknown: %s", exc)

    def flush(self) -> int:
        """Write the pending counts and refresh every known consumer's warnings; return the reads flushed."""
        with self._lock:
            pending, self._counts = self._counts, Counter()
        if pending:
            self._write(pending)
        readers = {consumer: expressions for consumer, expressions in pending}
        for consumer, expressions in {**self._consumers, **readers}.items():
            self.watch(consumer, expressions)
            for warning in self._warnings.get(consumer, ()) if consumer in readers else ():
                log.warning("%s", warning)  # once per flush, for the consumers that read since the last one
        return sum(pending.values())

    def _write(self, pending: Counter[UsageKey]) -> None:
        now = self._clock()
        rows = [row for (consumer, exprs), count in pending.items() for row in usage_rows(consumer, exprs, count, now)]
        try:
            self._directory.add_usage(rows)  # one transaction: all counted or none
        except Exception:
            with self._lock:
                self._counts.update(pending)  # kept for the next flush
            raise

    def loop(self) -> BackgroundLoop:
        """Flush every ``interval_seconds`` (a failure keeps the counts for the next round); write what is pending
        when the loop stops (the worker exits)."""

        def flush() -> None:
            self.flush()

        return BackgroundLoop("feature-usage-flush", flush, self._interval, wait_first=True, on_stop=self.close)

    def close(self) -> None:
        """Write what is pending (at exit)."""
        with self._lock:
            pending, self._counts = self._counts, Counter()
        if not pending:
            return
        try:
            self._write(pending)
        except Exception as exc:
            log.warning("feature usage not flushed at exit: %s", exc)


def model_consumer(model: str) -> str:
    """How usage names a model served by the runtime service."""
    return f"model:{model}"


def job_consumer(job: str, model: str) -> str:
    """How usage names a batch job run for a model, e.g. ``job:training-set etd``."""
    return f"job:{job} {model}"


def counting_observer(
    observe: Callable[[float], None], usage: UsageRecorder, consumer: str, expressions: tuple[str, ...]
) -> Callable[[float], None]:
    """Wrap the estimator's lookup observer: each online lookup also counts one read of the model's features."""

    def observe_and_count(seconds: float) -> None:
        observe(seconds)
        usage.record(consumer, expressions)

    return observe_and_count
