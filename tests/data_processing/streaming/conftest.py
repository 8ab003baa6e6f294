"""Fixtures of the streaming tests: a local event log, the SQLite online store and a worker factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from prometheus_client import CollectorRegistry

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.bootstrap import bootstrap
from data_processing.entrypoints.stream_worker import build_worker
from data_processing.settings import Settings
from data_processing.streaming.worker import StreamWorker
from strata_kernel.eventlog import EventLog, open_event_log
from strata_kernel.lake import LakeClient
from tests.data_processing.fakes import FakeCatalog

GROUP = "restaurant_realtime"
TABLE = "features.restaurant_realtime"

WorkerFactory = Callable[..., StreamWorker]


@pytest.fixture
def stream_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_poll_timeout_seconds": 0.02, "stream_offline_flush_seconds": 0.0})


@pytest.fixture
def event_log(stream_settings: Settings) -> Iterator[EventLog]:
    log = open_event_log(stream_settings)
    yield log
    log.close()


@pytest.fixture
def online(tmp_path: Path) -> Iterator[SqliteOnlineStore]:
    store = SqliteOnlineStore(tmp_path / "var" / "data_processing" / "online.db")
    yield store
    store.close()


@pytest.fixture
def make_worker(
    stream_settings: Settings, event_log: EventLog, online: SqliteOnlineStore, lake: tuple[LakeClient, FakeCatalog]
) -> Iterator[WorkerFactory]:
    """``make_worker(registry=None, lake=None, **settings)``: a worker over the test's log, store and lake."""
    started: list[StreamWorker] = []

    def make(registry: CollectorRegistry | None = None, lake_client: LakeClient | None = None, **changes: Any):
        settings = stream_settings.model_copy(update=changes)
        deps = bootstrap(settings, registry=registry or CollectorRegistry(), event_log=event_log, online_store=online,
                         lake=lake_client or lake[0])  # fmt: skip
        worker = build_worker(deps, GROUP)
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.close()


def offline_rows(lake: LakeClient) -> list[dict[str, Any]]:
    directory = lake.table_dir(TABLE)
    if not directory.exists():
        return []
    return pq.read_table(directory, partitioning="hive").to_pylist()
