"""Probe a component's /healthz and /readyz over HTTP (loopback when run as a sidecar).

On the standard library's ``http.client``, not httpx: two GETs every few seconds need no pool or HTTP/2, and
httpx with its dependencies (httpcore, anyio, and rich and pygments for its command line) was most of a probe-only
sidecar's memory beyond the interpreter and the service scaffolding.
"""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

from monitoring.domain.probes import Probe, ProbeResult, failed_to_connect, judge_response
from monitoring.ports import ProbeTarget

#: a readiness body longer than this is not read for its reasons (a Strata service's is a few hundred bytes)
MAX_REASONS_BODY = 64 * 1024


class HttpProbeTarget(ProbeTarget):
    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"probe target {base_url!r} must be an http:// or https:// URL with a host")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout_seconds

    def check(self, probe: Probe) -> ProbeResult:
        # A new connection per probe, no retries: a probe that needs a retry is a failed probe, and the next round
        # comes soon anyway (a kept-alive connection the component closed meanwhile would fail a healthy probe).
        started = time.perf_counter()
        connection = self._connection()
        try:
            try:
                connection.connect()
            except TimeoutError:
                return failed_to_connect(probe, time.perf_counter() - started, "timed out")
            except OSError:  # refused, unreachable, unknown host: the component cannot be reached
                return failed_to_connect(probe, time.perf_counter() - started, "connection refused")
            try:
                connection.request("GET", self._prefix + probe.path, headers={"Accept": "application/json"})
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

    def _connection(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)


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
