"""Probe a component's /healthz and /readyz over HTTP (loopback when run as a sidecar)."""

from __future__ import annotations

import time

import httpx

from monitoring.domain.probes import Probe, ProbeResult, failed_to_connect, judge_response
from monitoring.ports import ProbeTarget


class HttpProbeTarget(ProbeTarget):
    def __init__(self, base_url: str, *, timeout_seconds: float, transport: httpx.BaseTransport | None = None) -> None:
        # No retries: a probe that needs a retry is a failed probe, and the next round comes soon anyway.
        self._client = httpx.Client(base_url=base_url, timeout=timeout_seconds, transport=transport)

    def check(self, probe: Probe) -> ProbeResult:
        started = time.perf_counter()
        try:
            response = self._client.get(probe.path)
        except httpx.TransportError as exc:
            return failed_to_connect(probe, time.perf_counter() - started, _describe(exc))
        return judge_response(probe, response.status_code, time.perf_counter() - started, _reasons(response))

    def close(self) -> None:
        self._client.close()


def _reasons(response: httpx.Response) -> str:
    """The readiness reasons a Strata service lists in its 503 body, on one line."""
    if response.status_code == 200:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    reasons = body.get("reasons") if isinstance(body, dict) else None
    return "; ".join(str(reason) for reason in reasons) if isinstance(reasons, list) else ""


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__
