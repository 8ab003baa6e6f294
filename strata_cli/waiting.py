"""Wait until services report ready on ``/readyz``."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping

import httpx


class NotReady(RuntimeError):
    pass


def readiness(url: str, client: httpx.Client) -> tuple[bool, str]:
    try:
        response = client.get(f"{url}/readyz", timeout=2.0)
    except httpx.TransportError:
        return False, "not answering"
    if response.status_code == 200:
        return True, "ready"
    try:
        reasons = response.json().get("reasons", [])
    except ValueError:
        reasons = []
    return False, "; ".join(map(str, reasons)) or f"HTTP {response.status_code}"


def wait_ready(
    urls: Mapping[str, str],
    *,
    timeout_seconds: float,
    processes: Mapping[str, subprocess.Popen[bytes]] | None = None,
) -> None:
    """Poll every URL until all are ready; fail fast if a watched process exits."""
    deadline = time.monotonic() + timeout_seconds
    pending = dict(urls)
    last: dict[str, str] = {}
    with httpx.Client() as client:
        while pending:
            for name, url in list(pending.items()):
                ready, why = readiness(url, client)
                last[name] = why
                if ready:
                    del pending[name]
            for name, process in (processes or {}).items():
                if process.poll() is not None:
                    raise NotReady(f"{name} exited with code {process.returncode} before it was ready")
            if not pending:
                return
            if time.monotonic() > deadline:
                detail = ", ".join(f"{name}: {last.get(name, '?')}" for name in pending)
                raise NotReady(f"not ready after {timeout_seconds:.0f}s: {detail}")
            time.sleep(0.3)
