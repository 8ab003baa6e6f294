"""Which Flask request hooks strata_kernel.lean does the work of. A lean route serves a request without Flask, so it
would skip a hook it does not know: it refuses to serve an app that has one (and Flask serves it instead)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_COVERED = "_strata_lean_covered"

Hook = TypeVar("Hook", bound=Callable[..., Any])


def lean_covered(hook: Hook) -> Hook:
    """``hook`` is one of the kernel's request hooks whose work strata_kernel.lean does as well."""
    setattr(hook, _COVERED, True)
    return hook


def is_lean_covered(hook: Callable[..., Any]) -> bool:
    return bool(getattr(hook, _COVERED, False))
