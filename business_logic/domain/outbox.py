"""The transactional outbox: events written in the same transaction as the rows they describe, published later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutboxMessage:
    """One event waiting for the event log; ``key_field`` names the payload field that keys it on its topic."""

    id: int
    topic: str
    key_field: str
    payload: dict[str, Any]
    attempts: int = 0


@dataclass(frozen=True)
class RelayResult:
    """What one drain of the outbox did; ``error`` is the last publishing failure (rows stay for a later retry)."""

    published: int = 0
    failed: int = 0
    error: str | None = None
