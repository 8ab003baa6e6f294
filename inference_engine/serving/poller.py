"""Converge on comparative_eval's routing: every few seconds, apply each served model's newer routing record.

A restarted engine or another worker thus catches up with pushes it missed. comparative_eval unreachable or
without a record -> keep the current routing (said at debug level: it is the normal state without
comparative_eval). A record whose versions fail to load is retried after a back-off, not on every poll.
"""

from __future__ import annotations

import logging
import time

from inference_engine.domain.routing import RoutingRecord
from inference_engine.routing.ports import RoutingSource
from inference_engine.serving.routing_table import RoutingTable
from strata_kernel.background import BackgroundLoop, LoopMetrics
from strata_kernel.errors import StrataError

log = logging.getLogger(__name__)


class RoutingPoller:
    def __init__(
        self, table: RoutingTable, source: RoutingSource, interval_seconds: float, retry_failed_seconds: float = 30.0
    ) -> None:
        self._table = table
        self._source = source
        self._interval = interval_seconds
        self._retry_failed = retry_failed_seconds
        self._failed: dict[tuple[str, int], float] = {}  # (model, revision) -> when to try it again

    def loop(self, metrics: LoopMetrics | None = None) -> BackgroundLoop:
        """Poll every ``interval_seconds``; the first round at once, so a restarted engine converges before its
        first interval."""

        def poll() -> None:
            self.poll_once()

        return BackgroundLoop("routing-poller", poll, self._interval, metrics=metrics)

    def poll_once(self) -> list[str]:
        """One round over the served models; returns the models whose routing changed."""
        changed = []
        for name in self._table.served_names():  # declared models too: a deploy reaches them by routing
            try:
                if self._poll(name):
                    changed.append(name)
            except Exception:  # the poller must outlive any surprise; the next round tries again
                log.exception("routing poll of %s failed", name)
        return changed

    def _poll(self, name: str) -> bool:
        try:
            body = self._source.current(name)
        except StrataError as exc:
            log.debug("no routing from comparative_eval for %s: %s", name, exc.message)
            return False
        if body is None:
            return False
        try:
            record = RoutingRecord.from_wire(body, name)
        except StrataError as exc:
            log.warning("comparative_eval sent an invalid routing record for %s: %s", name, exc.message)
            return False
        if record.revision <= self._table.applied_revision(name):
            return False
        if self._failed.get((name, record.revision), 0.0) > time.monotonic():
            return False
        try:
            self._table.apply_routing(record)
        except StrataError as exc:
            self._failed[(name, record.revision)] = time.monotonic() + self._retry_failed
            log.warning("routing %s revision %d not applied (kept the current one): %s", name, record.revision,
                        exc.message)  # fmt: skip
            return False
        return True
