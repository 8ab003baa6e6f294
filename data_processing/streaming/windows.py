"""Window maths of streaming features, pure and clock-free: every operation takes event times as arguments.

Both windows are idempotent by event id and independent of arrival order, so an at-least-once event log
(redelivery after a crash, late events) yields exactly the values of a single in-order pass:

- :class:`SlidingCount` counts events with ``clock - width < time <= clock``; ``clock`` only moves forward.
  An event id is remembered while its event is inside the window; an evicted event can only come back
  older than the window, where it is ignored anyway.
- :class:`LastN` keeps the newest ``n`` events by ``(time, event_id)``; a redelivered evicted event is older
  than all of them and falls straight out again.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass
class SlidingCount:
    width: timedelta
    events: dict[str, datetime] = field(default_factory=dict)  # event id -> event time, inside the window

    def add(self, event_id: str, time: datetime, clock: datetime) -> bool:
        """Count the event if it is new and inside the window ending at ``clock``; True if the count changed."""
        if event_id in self.events or time <= clock - self.width or time > clock:
            return False
        self.events[event_id] = time
        return True

    def advance(self, clock: datetime) -> bool:
        """Forget the events that left the window ending at ``clock``; True if any did."""
        start = clock - self.width
        expired = [event_id for event_id, time in self.events.items() if time <= start]
        for event_id in expired:
            del self.events[event_id]
        return bool(expired)

    def count(self) -> int:
        return len(self.events)

    def snapshot(self) -> dict[str, str]:
        return {event_id: time.isoformat() for event_id, time in self.events.items()}

    @classmethod
    def restore(cls, width: timedelta, snapshot: dict[str, str]) -> SlidingCount:
        return cls(width, {event_id: datetime.fromisoformat(time) for event_id, time in snapshot.items()})


@dataclass
class LastN:
    n: int
    items: list[tuple[datetime, str, float]] = field(default_factory=list)  # sorted by (time, event_id)

    def add(self, event_id: str, time: datetime, value: float) -> bool:
        """Keep the event if it is among the newest ``n``; True if the kept set changed."""
        if any(kept_id == event_id for _, kept_id, _ in self.items):
            return False
        item = (time, event_id, value)
        bisect.insort(self.items, item)
        if len(self.items) > self.n:
            dropped = self.items.pop(0)
            return dropped is not item
        return True

    def mean(self) -> float | None:
        return sum(value for _, _, value in self.items) / len(self.items) if self.items else None

    def snapshot(self) -> list[list[Any]]:
        return [[time.isoformat(), event_id, value] for time, event_id, value in self.items]

    @classmethod
    def restore(cls, n: int, snapshot: list[list[Any]]) -> LastN:
        return cls(n, [(datetime.fromisoformat(t), str(event_id), float(v)) for t, event_id, v in snapshot])
