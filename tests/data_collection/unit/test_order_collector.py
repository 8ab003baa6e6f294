"""The collector over a real LocalEventLog (in tmp_path) with fake lake and quarantine ports."""

from __future__ import annotations

from pathlib import Path

import pytest
from dc_fakes import FakeQuarantine, FakeRawLake
from prometheus_client import CollectorRegistry

from data_collection.adapters.metrics import PrometheusBatchObserver
from data_collection.bootstrap import bootstrap
from data_collection.domain.events import ORDER_PLACED_TOPIC, ORDER_TOPICS, TOPICS
from data_collection.errors import LakeWriteFailed
from data_collection.services import JOB_NAME, publish_batches
from data_collection.settings import Settings
from data_collection.simulator import Simulation
from data_collection.simulator.events import event_batches
from data_collection.status import CollectorStatus
from strata_kernel.eventlog import EventLog
from strata_kernel.eventlog.local import LocalEventLog
from tests.support import RebalancedEventLog


@pytest.fixture
def event_log(tmp_path: Path) -> LocalEventLog:
    return LocalEventLog(tmp_path / "eventlog")


def _publish_tiny(event_log: LocalEventLog, simulation: Simulation) -> None:
    publish_batches(event_log, event_batches(simulation.world, simulation.orders), size=500)


def _collector(settings: Settings, event_log: EventLog, lake: FakeRawLake, quarantine: FakeQuarantine, **kw):
    return bootstrap(settings, event_log=event_log, lake=lake, quarantine=quarantine).collector(**kw)


def test_drains_both_topics_into_their_raw_tables_with_lineage(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    _publish_tiny(event_log, tiny_simulation)
    status = CollectorStatus(TOPICS)
    collector = _collector(settings.model_copy(update={"flush_events": 1_000}), event_log, fake_lake, fake_quarantine,
                           observers=[status])  # fmt: skip

    assert collector.run_until_idle() == 6_000
    assert len(fake_lake.rows["raw.order_placed"]) == len(fake_lake.rows["raw.order_delivered"]) == 3_000
    assert {c["job"] for c in fake_lake.commits} == {JOB_NAME}
    assert {tuple(c["inputs"]) for c in fake_lake.commits} == {(f"topic:{t}",) for t in ORDER_TOPICS}
    assert max(c["rows"] for c in fake_lake.commits) == 1_000  # flushed at flush_events
    snapshot = status.snapshot()
    assert snapshot[ORDER_PLACED_TOPIC]["collected"] == 3_000 and snapshot[ORDER_PLACED_TOPIC]["batches"] == 3
    assert fake_quarantine.events == []


def test_a_second_run_finds_nothing_new_because_offsets_were_committed(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    _publish_tiny(event_log, tiny_simulation)
    first = _collector(settings, event_log, fake_lake, fake_quarantine)
    first.run_until_idle()
    first.close()
    assert _collector(settings, event_log, fake_lake, fake_quarantine).run_until_idle() == 0
    assert len(fake_lake.rows["raw.order_placed"]) == 3_000


def test_bad_events_are_quarantined_with_reasons_and_kept_out_of_the_lake(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    good = next(events for topic, events in event_batches(tiny_simulation.world, tiny_simulation.orders)
                if topic == ORDER_PLACED_TOPIC)[:2]  # fmt: skip
    bad = [{**good[0], "event_id": "bad-1", "n_items": "three"}, {**good[1], "event_id": "bad-2", "order_id": None}]
    event_log.publish(ORDER_PLACED_TOPIC, [good[0], bad[0], good[1]])
    event_log.publish(ORDER_PLACED_TOPIC, [bad[1]])
    status = CollectorStatus(TOPICS)

    _collector(settings, event_log, fake_lake, fake_quarantine, observers=[status]).run_until_idle()

    assert [row["event_id"] for row in fake_lake.rows["raw.order_placed"]] == [good[0]["event_id"], good[1]["event_id"]]
    assert [(q.value["event_id"], q.reason) for q in fake_quarantine.events] == [
        ("bad-1", "n_items: expected a number, got 'three'"),
        ("bad-2", "order_id: missing"),
    ]
    assert status.snapshot()[ORDER_PLACED_TOPIC]["quarantined"] == 2


def test_duplicate_event_ids_within_a_batch_are_landed_once(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    events = next(events for topic, events in event_batches(tiny_simulation.world, tiny_simulation.orders)
                  if topic == ORDER_PLACED_TOPIC)[:3]  # fmt: skip
    event_log.publish(ORDER_PLACED_TOPIC, [*events, events[0], events[2]])
    status = CollectorStatus(TOPICS)
    _collector(settings, event_log, fake_lake, fake_quarantine, observers=[status]).run_until_idle()
    assert [row["event_id"] for row in fake_lake.rows["raw.order_placed"]] == [e["event_id"] for e in events]
    assert status.snapshot()[ORDER_PLACED_TOPIC]["duplicates"] == 2


def test_a_batch_delivered_again_after_a_refused_commit_lands_and_counts_again_as_collected(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    """What GET /v1/status and events_total say (docs/contracts.md): ``collected`` counts rows appended to the raw
    zone, so a batch that comes again after a refused commit (a rebalance) counts again; ``duplicates`` counts the
    copies of an event id within one batch only. The collector keeps no event ids across batches: the dedupe across
    batches is process-orders' (processed.orders)."""
    events = next(events for topic, events in event_batches(tiny_simulation.world, tiny_simulation.orders)
                  if topic == ORDER_PLACED_TOPIC)[:3]  # fmt: skip
    event_log.publish(ORDER_PLACED_TOPIC, [*events, events[0]])  # and one copy within the batch
    rebalanced = RebalancedEventLog(event_log, [ORDER_PLACED_TOPIC])
    status, registry = CollectorStatus(TOPICS), CollectorRegistry()
    collector = _collector(settings, rebalanced, fake_lake, fake_quarantine,
                           observers=[status, PrometheusBatchObserver(registry)])  # fmt: skip

    assert collector.run_until_idle() == 8
    assert rebalanced.refused == [ORDER_PLACED_TOPIC]
    ids = [e["event_id"] for e in events]
    assert [row["event_id"] for row in fake_lake.rows["raw.order_placed"]] == ids + ids  # at-least-once, by design
    placed = status.snapshot()[ORDER_PLACED_TOPIC]
    assert (placed["batches"], placed["collected"], placed["duplicates"]) == (2, 6, 2)
    counted = {outcome: registry.get_sample_value("strata_data_collection_events_total",
                                                  {"topic": ORDER_PLACED_TOPIC, "outcome": outcome})
               for outcome in ("collected", "duplicate")}  # fmt: skip
    assert counted == {"collected": 6.0, "duplicate": 2.0}


def test_offsets_stay_uncommitted_when_the_lake_write_fails_so_nothing_is_lost(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    _publish_tiny(event_log, tiny_simulation)
    fake_lake.failing = True
    status = CollectorStatus(TOPICS)
    crashed = _collector(settings, event_log, fake_lake, fake_quarantine, observers=[status])
    with pytest.raises(LakeWriteFailed):
        crashed.run_until_idle()
    assert (
        status.snapshot()[ORDER_PLACED_TOPIC]["last_error"] == "writing raw.order_placed failed: data_lake unavailable"
    )
    crashed.close()

    fake_lake.failing = False  # the lake is back; a restarted collector gets every event again
    restarted = _collector(settings, event_log, fake_lake, fake_quarantine)
    assert restarted.run_until_idle() == 6_000
    assert len({row["order_id"] for row in fake_lake.rows["raw.order_delivered"]}) == 3_000


def test_the_same_collector_retries_a_failed_batch_after_the_lake_recovers(
    settings: Settings, event_log: LocalEventLog, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine,
    tiny_simulation: Simulation,
) -> None:  # fmt: skip
    _publish_tiny(event_log, tiny_simulation)
    collector = _collector(settings, event_log, fake_lake, fake_quarantine)
    fake_lake.failing = True
    with pytest.raises(LakeWriteFailed):
        collector.step()
    fake_lake.failing = False
    collector.run_until_idle()
    assert len(fake_lake.rows["raw.order_placed"]) == 3_000  # exactly once: the failed batch was never committed
