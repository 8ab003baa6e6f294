"""strata_kernel.eventlog.local: appends from several processes, committed offsets, partial lines."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from strata_kernel.eventlog import open_event_log
from strata_kernel.eventlog.local import LocalEventLog
from strata_kernel.settings import StrataSettings

EVENTS_PER_PROCESS = 300


def _publish_many(root: str, writer: str) -> None:
    log = LocalEventLog(Path(root))
    for batch_start in range(0, EVENTS_PER_PROCESS, 10):
        batch = [{"order_id": f"{writer}-{n}", "n": n} for n in range(batch_start, batch_start + 10)]
        log.publish("etd.order_placed", batch, key_field="order_id")


def _drain(log: LocalEventLog, group: str) -> list[str]:
    consumer = log.consumer("etd.order_placed", group)
    keys: list[str] = []
    while events := consumer.poll(max_records=200, timeout_seconds=0.05):
        keys.extend(event.key or "" for event in events)
    consumer.close()
    return keys


def test_two_processes_publishing_concurrently_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_publish_many, args=(str(tmp_path), name)) for name in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0

    keys = _drain(LocalEventLog(tmp_path), "reader")

    expected = {f"{writer}-{n}" for writer in ("a", "b") for n in range(EVENTS_PER_PROCESS)}
    assert len(keys) == len(expected)
    assert set(keys) == expected


def test_consumer_resumes_after_its_last_commit_only(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    log.publish("etd.order_placed", [{"order_id": f"o-{n}"} for n in range(5)], key_field="order_id")

    first = log.consumer("etd.order_placed", "collector")
    assert [e.key for e in first.poll(max_records=3)] == ["o-0", "o-1", "o-2"]
    first.commit()
    assert [e.key for e in first.poll(max_records=3)] == ["o-3", "o-4"]
    first.close()  # not committed: delivered again

    second = log.consumer("etd.order_placed", "collector")
    assert [e.key for e in second.poll()] == ["o-3", "o-4"]
    second.close()
    assert len(_drain(log, "another-group")) == 5


def test_partial_trailing_line_is_not_consumed_until_complete(tmp_path: Path) -> None:
    log = LocalEventLog(tmp_path)
    log.publish("etd.order_placed", [{"order_id": "o-1"}], key_field="order_id")
    topic_file = tmp_path / "etd.order_placed" / "events.jsonl"
    complete_line = b'{"k":"o-2","v":{"order_id":"o-2"}}\n'
    with open(topic_file, "ab") as handle:  # a writer caught half-way through its line
        handle.write(complete_line[:10])

    consumer = log.consumer("etd.order_placed", "collector")
    assert [e.key for e in consumer.poll(timeout_seconds=0.05)] == ["o-1"]
    assert consumer.poll(timeout_seconds=0.05) == []

    with open(topic_file, "ab") as handle:
        handle.write(complete_line[10:])
    assert [e.value for e in consumer.poll(timeout_seconds=0.05)] == [{"order_id": "o-2"}]
    consumer.close()


def test_open_event_log_picks_the_local_adapter_under_var_dir(tmp_path: Path) -> None:
    log = open_event_log(StrataSettings(var_dir=tmp_path, event_log="local"))
    log.publish("etd.order_delivered", [{"order_id": "o-1"}], key_field="order_id")
    assert (tmp_path / "eventlog" / "etd.order_delivered" / "events.jsonl").is_file()


def test_unknown_event_log_is_a_configuration_error(tmp_path: Path) -> None:
    import pytest

    from strata_kernel.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown event_log 'rabbit'"):
        open_event_log(StrataSettings(var_dir=tmp_path, event_log="rabbit"))
