"""Ports of the sidecar monitor, in domain terms."""

from __future__ import annotations

import abc

from monitoring.domain.probes import Probe, ProbeResult


class ProbeTarget(abc.ABC):
    """The monitored component, as the sidecar sees it."""

    @abc.abstractmethod
    def check(self, probe: Probe) -> ProbeResult:
        """Run one probe; never raises for an unreachable or failing component (that is a failed result)."""


class ProbeRecorder(abc.ABC):
    """Where probe outcomes go so that Prometheus (and people) can read them."""

    @abc.abstractmethod
    def record(self, result: ProbeResult) -> None:
        """Remember the latest outcome of ``result.probe``."""
