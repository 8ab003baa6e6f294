"""Embedded event log: one append-only JSON-lines file per topic, one committed byte offset per group.

Appends take an exclusive ``flock`` so several processes (gunicorn workers) can publish safely;
offsets are replaced atomically, so a crash never leaves a half-written position.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from strata_kernel.eventlog.port import Event, EventConsumer, EventLog

log = logging.getLogger(__name__)


class LocalEventLog(EventLog):
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def _topic_file(self, topic: str) -> Path:
        if not topic or "/" in topic or topic.startswith("."):
            raise ValueError(f"invalid topic name {topic!r}")
        path = self._root / topic / "events.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        if not events:
            return
        lines = []
        for event in events:
            key = str(event[key_field]) if key_field else None
            lines.append(json.dumps({"k": key, "v": event}, separators=(",", ":"), default=str))
        payload = ("\n".join(lines) + "\n").encode()
        with open(self._topic_file(topic), "ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def consumer(self, topic: str, group: str) -> EventConsumer:
        return _LocalConsumer(topic, self._topic_file(topic), self._root / topic / "offsets" / f"{group}.json")


class _LocalConsumer(EventConsumer):
    def __init__(self, topic: str, log_file: Path, offset_file: Path) -> None:
        self._topic = topic
        self._log_file = log_file
        self._offset_file = offset_file
        offset_file.parent.mkdir(parents=True, exist_ok=True)
        self._committed = self._read_committed()
        self._position = self._committed  # byte offset of the next unread line
        self._handle = open(log_file, "a+b")  # noqa: SIM115 - held for the consumer's life

    def _read_committed(self) -> int:
        if not self._offset_file.exists():
            return 0
        return int(json.loads(self._offset_file.read_text())["position"])

    def poll(self, max_records: int = 500, timeout_seconds: float = 1.0) -> list[Event]:
        deadline = time.monotonic() + timeout_seconds
        while True:
            events = self._read(max_records)
            if events or time.monotonic() >= deadline:
                return events
            time.sleep(min(0.02, max(deadline - time.monotonic(), 0)))

    def _read(self, max_records: int) -> list[Event]:
        self._handle.seek(self._position)
        events: list[Event] = []
        while len(events) < max_records:
            line = self._handle.readline()
            if not line.endswith(b"\n"):  # nothing more, or a line still being written
                break
            offset = self._position
            self._position += len(line)
            try:
                record = json.loads(line)
            except ValueError:
                # a complete but corrupt line must not wedge the consumer forever: skip it, loudly
                log.error("skipping corrupt event at %s:%d", self._log_file, offset)
                continue
            events.append(Event(self._topic, offset, record["k"], record["v"]))
        return events

    def commit(self) -> None:
        if self._position == self._committed:
            return
        tmp = self._offset_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"position": self._position}))
        os.replace(tmp, self._offset_file)
        self._committed = self._position

    def close(self) -> None:
        self._handle.close()
