"""The outcome of one collected batch, in domain terms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchResult:
    """One flushed batch of a topic. ``collected`` rows reached the lake; offsets were then committed."""

    topic: str
    collected: int
    quarantined: int
    duplicates: int  # same event_id twice in the batch: kept once
    lake_version: int | None = None
