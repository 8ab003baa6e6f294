"""A background thread that drains the outbox into the event log every few seconds.

One runs in every service process (each gunicorn worker builds its own app); claims are atomic in the database,
so several relays share the work without publishing a row twice. While the event log is down, rows stay in the
outbox and the next round retries them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from business_logic.domain.outbox import RelayResult

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, drain: Callable[[], RelayResult], interval_seconds: float) -> None:
        self._drain = drain
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> None:
        if self._thread is None and self._interval > 0:
            self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
            self._thread.start()

    def stop(self, timeout_seconds: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            self._thread = None

    def run_once(self) -> RelayResult:
        """One drain; failures are logged once per outage (not every round) and returned, never raised."""
        try:
            result = self._drain()
        except Exception as exc:  # the database itself may be down: keep the thread alive for the next round
            result = RelayResult(error=(str(exc).strip().splitlines() or [type(exc).__name__])[0])
        if result.error is not None and not self._failing:
            log.warning("outbox relay: %s (events wait in the outbox; retrying)", result.error)
        elif result.error is None and self._failing:
            log.info("outbox relay recovered")
        self._failing = result.error is not None
        return result

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.run_once()
