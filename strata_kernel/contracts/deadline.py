"""One deadline per request chain, carried down every hop in the ``X-Deadline-Ms`` header.

A caller sends the milliseconds it will still wait for the answer; the callee answers (or fails) within them and
gives every call it makes in turn only what is left, minus a small reserve to send its own answer back. So no hop
waits longer than its caller, and a timed-out call is never retried below the hop that started the chain: its time
is spent. (Relative milliseconds, not a wall-clock instant: hosts need not agree on the time.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from strata_kernel.contracts.headers import DEADLINE_MS
from strata_kernel.errors import BadRequest

__all__ = ["DEADLINE_MS", "Deadline", "InvalidDeadline"]

#: what a hop keeps for itself from what it was given: time to turn a failed call into its own answer
RESERVE_SECONDS = 0.1


class InvalidDeadline(BadRequest):
    code = "invalid_deadline"


@dataclass(frozen=True, slots=True)
class Deadline:
    #: ``time.monotonic()`` when the caller stops waiting
    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.expires_at - time.monotonic()

    def for_call(self) -> float:
        """Seconds a call made now may take: what is left, minus this hop's reserve."""
        return self.remaining() - RESERVE_SECONDS

    @staticmethod
    def to_wire(seconds: float) -> str:
        return str(max(int(seconds * 1000), 0))

    @classmethod
    def from_wire(cls, value: str | None) -> Deadline | None:
        """The deadline an incoming request's header gives (None without one); InvalidDeadline when malformed."""
        if value is None:
            return None
        text = value.strip() if isinstance(value, str) else ""
        # ASCII digits only (str.isdigit also takes '²', which int() refuses); at most ~11 days: more is a bug
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            raise InvalidDeadline(f"{DEADLINE_MS} must be a whole number of milliseconds, got {value!r}",
                                  field=DEADLINE_MS)  # fmt: skip
        return cls.after(int(text) / 1000)
