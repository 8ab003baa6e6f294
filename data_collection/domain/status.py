"""The outcome of one collected batch, in domain terms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchResult:
    """One flushed batch of a topic. ``collected`` rows reached the lake; offsets were then committed.

    The collector keeps no event ids across batches (the raw zone is at-least-once; processed.orders dedupes): an
    event delivered again in a later batch (a refused commit, a restart before the commit) is collected again."""

    topic: str
    collected: int  # rows appended to the raw table
    quarantined: int
    duplicates: int  # copies of an event_id within this batch: kept once (never a copy from an earlier batch)
    lake_version: int | None = None
