"""The OnlineStore contract, run against every adapter (and the in-memory fake the unit tests rely on)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.domain.online import OnlineRow
from data_processing.errors import OnlineStoreLoadFailed
from data_processing.ports import OnlineStore
from tests.data_processing.fakes import InMemoryOnlineStore

GROUP = "restaurant_stats"
DAY = datetime(2025, 1, 10)


def _rows(n: int, count: int, day: datetime = DAY) -> list[OnlineRow]:
    return [OnlineRow(f"r-{i}", day, {"order_count_7d": count, "avg_prep_minutes_7d": 10.5}) for i in range(n)]


STORES: dict[str, Callable[[Path], OnlineStore]] = {
    "sqlite": lambda tmp: SqliteOnlineStore(tmp / "online.db"),
    "in_memory": lambda tmp: InMemoryOnlineStore(),
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    built = STORES[request.param](tmp_path)
    yield built
    built.close()


def test_nothing_is_served_before_the_first_load(store: OnlineStore) -> None:
    assert store.current_version(GROUP) is None
    assert store.get(GROUP, "r-1") is None


def test_a_load_serves_each_entity_row_with_its_feature_time(store: OnlineStore) -> None:
    version = store.load_version(GROUP, _rows(3, count=7))

    assert version == 1
    assert store.get(GROUP, "r-2") == {"order_count_7d": 7, "avg_prep_minutes_7d": 10.5, "feature_time": DAY}
    assert store.get(GROUP, "r-9") is None
    assert store.get_many([GROUP, "other_group"], "r-0") == {
        GROUP: {"order_count_7d": 7, "avg_prep_minutes_7d": 10.5, "feature_time": DAY},
        "other_group": None,
    }
    current = store.current_version(GROUP)
    assert current is not None
    assert (current.version, current.rows, current.newest_feature_time) == (1, 3, DAY)


def test_a_new_load_replaces_the_whole_version(store: OnlineStore) -> None:
    store.load_version(GROUP, _rows(3, count=7))
    version = store.load_version(GROUP, _rows(1, count=8, day=datetime(2025, 1, 11)))

    assert version == 2
    assert store.get(GROUP, "r-0") == {
        "order_count_7d": 8,
        "avg_prep_minutes_7d": 10.5,
        "feature_time": datetime(2025, 1, 11),
    }
    assert store.get(GROUP, "r-2") is None  # not in the new version: no mix of old and new


def test_a_failed_load_keeps_the_previous_version_serving(store: OnlineStore) -> None:
    store.load_version(GROUP, _rows(2, count=7))

    def broken() -> Iterator[OnlineRow]:
        yield from _rows(2, count=99)
        raise RuntimeError("source vanished")

    with pytest.raises(OnlineStoreLoadFailed, match="source vanished"):
        store.load_version(GROUP, broken())

    assert store.get(GROUP, "r-1") == {"order_count_7d": 7, "avg_prep_minutes_7d": 10.5, "feature_time": DAY}
    current = store.current_version(GROUP)
    assert current is not None and current.version == 1
    assert store.load_version(GROUP, _rows(1, count=8)) == 2


def test_sqlite_reader_sees_the_old_version_while_a_load_is_in_flight_and_after_it_fails(tmp_path: Path) -> None:
    store = SqliteOnlineStore(tmp_path / "online.db")
    store.load_version(GROUP, _rows(2, count=7))
    halfway, release = threading.Event(), threading.Event()

    def slow_then_broken() -> Iterator[OnlineRow]:
        yield from _rows(2, count=99)
        halfway.set()
        release.wait(10)
        raise RuntimeError("killed mid-load")

    errors: list[Exception] = []

    def load() -> None:
        try:
            store.load_version(GROUP, slow_then_broken())
        except OnlineStoreLoadFailed as exc:
            errors.append(exc)

    writer = threading.Thread(target=load)
    writer.start()
    assert halfway.wait(10)
    reader = SqliteOnlineStore(tmp_path / "online.db")  # another process would use another connection too
    during = [reader.get(GROUP, "r-0"), reader.get(GROUP, "r-1")]
    release.set()
    writer.join(10)

    assert [row["order_count_7d"] for row in during if row] == [7, 7]
    assert len(errors) == 1
    assert reader.get(GROUP, "r-0")["order_count_7d"] == 7  # type: ignore[index]


def test_sqlite_keeps_only_the_current_and_previous_versions(tmp_path: Path) -> None:
    import sqlite3

    store = SqliteOnlineStore(tmp_path / "online.db")
    for count in range(4):
        store.load_version(GROUP, _rows(1, count=count))

    tables = sqlite3.connect(tmp_path / "online.db").execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'fg_%' ORDER BY name"
    )
    assert [name for (name,) in tables] == ["fg_restaurant_stats__v3", "fg_restaurant_stats__v4"]


def test_sqlite_lookups_are_well_under_a_millisecond(tmp_path: Path) -> None:
    store = SqliteOnlineStore(tmp_path / "online.db")
    store.load_version(GROUP, _rows(20_000, count=7))
    timings = []
    for i in range(2_000):
        started = time.perf_counter()
        store.get_many([GROUP], f"r-{(i * 7919) % 20_000}")
        timings.append(time.perf_counter() - started)

    p99 = sorted(timings)[int(len(timings) * 0.99)]
    assert p99 < 0.0005, f"p99 {p99 * 1e6:.0f} µs"
