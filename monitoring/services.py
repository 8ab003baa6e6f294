"""The sidecar's use case: probe the component once (bootstrap runs it in a strata_kernel.background loop)."""

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
