"""Usage recording: in memory on the hot path, flushed in one write, periodically, never lost on a failed flush."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import pytest

from data_processing.directory.ports import FeatureDirectory
from data_processing.directory.usage import UsageRecorder
from data_processing.domain.registry_rules import FeatureUsage, GroupEntry, RegisteredFeature, RegistrationPlan
from tests.data_processing.directory.groups import NOW

# what a model reads from stored groups (directory.services.stored_expressions; context features are computed)
EXPRESSIONS = ("@restaurant_stats:order_count_7d", "@restaurant_stats:avg_prep_minutes_7d")


class RecordingDirectory(FeatureDirectory):
    """Counts the writes it receives; ``down`` makes them fail like an unreachable database."""

    def __init__(self) -> None:
        self.writes: list[list[FeatureUsage]] = []
        self.down = False

    def add_usage(self, usage: Sequence[FeatureUsage]) -> None:
        if self.down:
            raise ConnectionError("directory down")
        self.writes.append(list(usage))

    def save_registration(self, plan: RegistrationPlan, at: datetime) -> None:
        raise NotImplementedError

    def groups(self, text: str = "") -> list[GroupEntry]:
        return []

    def group(self, name: str) -> GroupEntry | None:
        return None

    def features(self, group: str) -> list[RegisteredFeature]:
        return []

    def deprecate(self, group: str, feature: str, reason: str, at: datetime) -> RegisteredFeature | None:
        return None

    def record_availability(self, group: str, newest_nominal_time: datetime, at: datetime) -> None:
        pass

    def usage(self, group: str, feature: str | None = None) -> list[FeatureUsage]:
        return []


def test_reads_stay_in_memory_until_a_flush_writes_them_at_once() -> None:
    directory = RecordingDirectory()
    recorder = UsageRecorder(directory, interval_seconds=3600, clock=lambda: NOW)

    for _ in range(1000):
        recorder.record("model:etd", EXPRESSIONS)
    recorder.record("job:training-set etd", EXPRESSIONS)
    assert directory.writes == []

    assert recorder.flush() == 1001
    assert len(directory.writes) == 1
    counts = {(u.consumer, u.feature): u.count for u in directory.writes[0]}
    assert counts == {
        ("model:etd", "order_count_7d"): 1000,
        ("model:etd", "avg_prep_minutes_7d"): 1000,
        ("job:training-set etd", "order_count_7d"): 1,
        ("job:training-set etd", "avg_prep_minutes_7d"): 1,
    }  # fmt: skip
    assert recorder.flush() == 0 and len(directory.writes) == 1


def test_a_failed_flush_keeps_the_counts_for_the_next_one() -> None:
    directory = RecordingDirectory()
    recorder = UsageRecorder(directory, interval_seconds=3600, clock=lambda: NOW)
    recorder.record("model:etd", EXPRESSIONS, count=2)
    directory.down = True

    with pytest.raises(ConnectionError):
        recorder.flush()
    recorder.record("model:etd", EXPRESSIONS)
    directory.down = False

    assert recorder.flush() == 3
    assert {u.count for u in directory.writes[0]} == {3}


def test_the_background_thread_flushes_periodically() -> None:
    directory = RecordingDirectory()
    recorder = UsageRecorder(directory, interval_seconds=0.05)
    recorder.record("model:etd", EXPRESSIONS)
    deadline = time.monotonic() + 5
    while not directory.writes and time.monotonic() < deadline:
        time.sleep(0.02)
    recorder.close()

    assert [u.count for u in directory.writes[0]] == [1, 1]
