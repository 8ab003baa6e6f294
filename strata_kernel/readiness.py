"""Readiness checks, shared by the Flask service app (strata_kernel.service) and the sidecar's plain WSGI app, which
must not load Flask."""

from __future__ import annotations

from collections.abc import Callable

#: A readiness check returns ``None`` when fine, else a one-line reason.
ReadinessCheck = Callable[[], str | None]


def run_check(check: ReadinessCheck) -> str | None:
    """The check's reason, or None; a check that raises means "not ready" with its error, never a 500."""
    try:
        return check()
    except Exception as exc:
        return f"{getattr(check, '__name__', 'check')}: {exc}"
