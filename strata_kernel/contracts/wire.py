"""Small readers shared by the ``from_wire`` parsers: JSON numbers, ISO-8601 times, the error they raise."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, TypeGuard

from strata_kernel.errors import BadRequest


class InvalidPayload(BadRequest):
    """A payload that breaks its contract; ``field`` names the first bad field."""

    code = "invalid_payload"


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number: int or float, not a bool (``true`` is an int in Python, never a number on the wire)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> TypeGuard[int | float]:
    return is_number(value) and math.isfinite(value)


def optional_text(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def utc_instant(value: Any) -> datetime:
    """ISO-8601 -> naive UTC; a string without zone is taken as UTC. ValueError when it is not a time."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not an ISO-8601 time: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


MAX_VERSION_DIGITS = 9


def version_number(value: Any) -> int | None:
    """A positive integer version from an int or a string of ASCII digits, else None. ``str.isdigit`` also accepts
    "²" and Arabic-Indic digits, which ``int`` then refuses (or reads as another number): versions are ASCII only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_VERSION_DIGITS or int(text) < 1:
        return None
    return int(text)
