"""The sidecar's use cases: probe the component once, and keep probing in a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from monitoring.domain.probes import Probe, ProbeResult
from monitoring.ports import ProbeRecorder, ProbeTarget

log = logging.getLogger(__name__)


class SidecarMonitor:
    """Probes one component and hands every outcome to the recorders; remembers the latest for /v1/probes."""

    def __init__(self, component: str, target: ProbeTarget, recorders: Iterable[ProbeRecorder]) -> None:
        self.component = component
        self._target = target
        self._recorders = list(recorders)
        self._latest: dict[Probe, ProbeResult] = {}
        self._lock = threading.Lock()

    def probe_once(self) -> list[ProbeResult]:
        results = [self._target.check(probe) for probe in Probe]
        for result in results:
            self._log_change(result)
            for recorder in self._recorders:
                recorder.record(result)
        with self._lock:
            self._latest.update({result.probe: result for result in results})
        return results

    def latest(self) -> list[ProbeResult]:
        with self._lock:
            return [self._latest[probe] for probe in Probe if probe in self._latest]

    def _log_change(self, result: ProbeResult) -> None:
        with self._lock:
            previous = self._latest.get(result.probe)
        if previous is None or previous.success != result.success:
            state = "passes" if result.success else "fails"
            log.warning("%s %s probe %s (%s)", self.component, result.probe.value, state, result.detail)


class ProbeLoop:
    """Runs :meth:`SidecarMonitor.probe_once` every ``interval_seconds`` in a daemon thread."""

    def __init__(self, monitor: SidecarMonitor, interval_seconds: float) -> None:
        self._monitor = monitor
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Idempotent: a second call while running does nothing."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sidecar-probe-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout_seconds: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._monitor.probe_once()
            except Exception:  # a bug in one round must not silence the sidecar for good
                log.exception("probe round failed")
            self._stop.wait(self._interval)
