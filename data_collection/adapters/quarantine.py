"""Quarantine as one JSON-lines file per topic (append-only, flushed and fsynced per batch)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from data_collection.ports import Quarantine, QuarantinedEvent


class FileQuarantine(Quarantine):
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def file_for(self, topic: str) -> Path:
        return self._directory / f"{topic}.jsonl"

    def put(self, events: Sequence[QuarantinedEvent]) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        by_topic: dict[str, list[str]] = {}
        for event in events:
            entry = {"topic": event.topic, "offset": event.offset, "reason": event.reason, "value": event.value}
            by_topic.setdefault(event.topic, []).append(json.dumps({**entry, "quarantined_at": at}, default=str))
        self._directory.mkdir(parents=True, exist_ok=True)
        for topic, lines in by_topic.items():
            with open(self.file_for(topic), "a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
