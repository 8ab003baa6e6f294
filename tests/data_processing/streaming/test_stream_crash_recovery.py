"""The worker killed (SIGKILL) mid-batch and restarted loses and duplicates nothing — as real processes.

A fault-injection setting makes the worker kill itself at batch 2, either after saving its window state
(stores not yet written) or after writing both stores (offsets not yet committed). The restarted worker
must end with the from-scratch values online and every offline row exactly once in the lake.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.settings import Settings
from strata_kernel.eventlog import open_event_log
from tests.data_processing.streaming.conftest import GROUP, TABLE
from tests.data_processing.streaming.processes import data_lake_service, run_stream
from tests.data_processing.streaming.stream_data import (
    all_events,
    assert_same_features,
    order_events,
    publish,
    reference_features,
)

BATCH = 7


@pytest.fixture
def lake_url(tmp_path: Path) -> Iterator[str]:
    with data_lake_service(tmp_path / "lake_service" / "var") as url:
        yield url


@pytest.mark.parametrize("fault_point", ["after_state", "before_offsets"])
def test_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    tmp_path: Path, lake_url: str, fault_point: str
) -> None:
    settings = Settings(var_dir=tmp_path / "var", lake_root=tmp_path / "lake_service" / "var" / "lake")
    events = order_events(40)
    log = open_event_log(settings)
    publish(log, events)
    log.close()
    env = {"STRATA_VAR_DIR": str(settings.var_dir), "STRATA_LAKE_ROOT": str(settings.lake_root),
           "STRATA_DATA_LAKE_URL": lake_url, "STRATA_LOG_JSON": "false",
           "STRATA_STREAM_MAX_BATCH_EVENTS": str(BATCH), "STRATA_STREAM_OFFLINE_FLUSH_SECONDS": "0"}  # fmt: skip

    crashed = run_stream({**env, "STRATA_STREAM_FAULT_POINT": fault_point, "STRATA_STREAM_FAULT_AFTER_BATCHES": "2"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    restarted = run_stream(env)
    assert restarted.returncode == 0, restarted.stderr

    total = len(all_events(events))
    assert json.loads(restarted.stdout)["events"] == total - BATCH  # batch 2 came again: its offsets never moved
    store = SqliteOnlineStore(settings.var_dir / "data_processing" / "online.db")  # the default online store
    expected = reference_features(all_events(events))
    for restaurant, values in expected.items():
        row = store.get(GROUP, restaurant)
        assert row is not None, restaurant
        assert_same_features(row, values)
    _assert_lake_rows_once(settings, lake_url, store, set(expected))


def _assert_lake_rows_once(settings: Settings, lake_url: str, store: SqliteOnlineStore, restaurants: set[str]) -> None:
    import pyarrow.parquet as pq

    rows = pq.read_table(settings.resolved_lake_root() / "features" / "restaurant_realtime", partitioning="hive")
    records = rows.to_pylist()
    # each event changes its restaurant once at most: a second row naming it would be a replayed batch
    keys = [(r["restaurant_id"], r["event_id"]) for r in records]
    assert len(keys) == len(set(keys)), "an offline row was written twice"
    catalog = httpx.get(f"{lake_url}/v1/tables/{TABLE}").json()
    assert catalog["rows"] == len(records)
    newest = {}
    for record in sorted(records, key=lambda r: (r["event_time"], r["created_at"])):
        newest[record["restaurant_id"]] = record
    assert set(newest) == restaurants
    for restaurant, record in newest.items():
        online = store.get(GROUP, restaurant)
        assert online is not None and online["feature_time"] == record["event_time"]
        assert online["orders_last_1h"] == record["orders_last_1h"]
