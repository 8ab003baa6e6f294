"""Probe a component's /healthz and /readyz over HTTP (loopback when run as a sidecar), on the standard library
(monitoring.adapters.plain_http says why)."""

from __future__ import annotations

import http.client
import json
import time

from monitoring.adapters.plain_http import Endpoint
from monitoring.domain.probes import Probe, ProbeResult, failed_to_connect, judge_response
from monitoring.ports import ProbeTarget

#: a readiness body longer than this is not read for its reasons (a Strata service's is a few hundred bytes)
MAX_REASONS_BODY = 64 * 1024


class HttpProbeTarget(ProbeTarget):
    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        self._endpoint = Endpoint(base_url, timeout_seconds=timeout_seconds)

    def check(self, probe: Probe) -> ProbeResult:
        # No retries: a probe that needs a retry is a failed probe, and the next round comes soon anyway.
        started = time.perf_counter()
        connection = self._endpoint.connection()
        try:
            try:
                connection.connect()
            except TimeoutError:
                return failed_to_connect(probe, time.perf_counter() - started, "timed out")
            except OSError:  # refused, unreachable, unknown host: the component cannot be reached
                return failed_to_connect(probe, time.perf_counter() - started, "connection refused")
            try:
                connection.request("GET", self._endpoint.target(probe.path), headers={"Accept": "application/json"})
                response = connection.getresponse()
                reasons = "" if response.status == 200 else _reasons(response.read(MAX_REASONS_BODY + 1))
            except TimeoutError:
                return failed_to_connect(probe, time.perf_counter() - started, "timed out")
            except (OSError, http.client.HTTPException) as exc:  # reset, closed early, not HTTP
                return failed_to_connect(probe, time.perf_counter() - started, type(exc).__name__)
            return judge_response(probe, response.status, time.perf_counter() - started, reasons)
        finally:
            connection.close()

    def close(self) -> None:
        """Nothing held between probes (each opens and closes its own connection)."""


def _reasons(body: bytes) -> str:
    """The readiness reasons a Strata service lists in its 503 body, on one line."""
    if len(body) > MAX_REASONS_BODY:
        return ""
    try:
        parsed = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return ""
    reasons = parsed.get("reasons") if isinstance(parsed, dict) else None
    return "; ".join(str(reason) for reason in reasons) if isinstance(reasons, list) else ""
