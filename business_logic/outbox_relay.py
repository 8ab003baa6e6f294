"""The relay step: drain the outbox into the event log, saying so once per outage (not every round).

The service runs it every few seconds in a strata_kernel.background loop, in every process (each gunicorn worker):
claims are atomic in the database, so several relays share the work without publishing a row twice. While the
event log is down, rows stay in the outbox and the next round retries them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from business_logic.domain.outbox import RelayResult
from strata_kernel.background import BackgroundLoop

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, drain: Callable[[], RelayResult], interval_seconds: float) -> None:
        self._drain = drain
        self.interval_seconds = interval_seconds
        self._failing = False

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

    def loop(self) -> BackgroundLoop:
        """Every ``interval_seconds`` (the first drain after one interval)."""

        def step() -> None:
            self.run_once()

        return BackgroundLoop("outbox-relay", step, self.interval_seconds, wait_first=True)
