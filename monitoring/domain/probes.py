"""What a sidecar checks and how one check's outcome is judged.

A sidecar runs on the same host as its component. It asks the component's liveness (``/healthz``)
and readiness (``/readyz``) endpoints over loopback, so Prometheus can tell apart three failures:
the host is gone (neither the service nor its sidecar can be scraped), the process is dead or hung
(the sidecar answers, its liveness probe fails) and the process is alive but not ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Probe(StrEnum):
    """The two probes every Strata service answers (strata_kernel.service gives them to all)."""

    LIVENESS = "healthz"
    READINESS = "readyz"

    @property
    def path(self) -> str:
        return f"/{self.value}"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    probe: Probe
    success: bool
    duration_seconds: float
    detail: str  # one line a person can read: "HTTP 200", "HTTP 503: ...", "connection refused"
    status_code: int | None = None


def judge_response(probe: Probe, status_code: int, duration_seconds: float, reason: str = "") -> ProbeResult:
    """Only HTTP 200 passes: a 503 from /readyz means "not ready", any other code means a broken endpoint."""
    detail = f"HTTP {status_code}" + (f": {reason}" if reason else "")
    return ProbeResult(probe, status_code == 200, duration_seconds, detail, status_code)


def failed_to_connect(probe: Probe, duration_seconds: float, reason: str) -> ProbeResult:
    """The component did not answer at all (refused, timed out, reset)."""
    return ProbeResult(probe, False, duration_seconds, reason, None)
