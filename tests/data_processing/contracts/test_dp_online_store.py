"""The OnlineStore contract, run against every adapter: SQLite, the in-memory fake, Redis (this machine's server)
and Cassandra (when STRATA_CASSANDRA_HOSTS is set). See online_stores.py for how each is built."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore, _lookup_sql, _multi_lookup_sql
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.errors import OnlineStoreLoadFailed
from data_processing.ports import OnlineStore
from tests.data_processing.contracts.online_stores import ADAPTERS, SERVED, StoreUnderTest

GROUP = "restaurant_stats"
OTHER = "restaurant_load"
DAY = datetime(2025, 1, 10)


def _rows(n: int, count: int, day: datetime = DAY) -> list[OnlineRow]:
    return [OnlineRow(f"r-{i}", day, {"order_count_7d": count, "avg_prep_minutes_7d": 10.5}) for i in range(n)]


def _row(count: int, day: datetime = DAY) -> dict[str, object]:
    return {"order_count_7d": count, "avg_prep_minutes_7d": 10.5, "feature_time": day}


@pytest.fixture(params=[pytest.param(n, marks=[pytest.mark.integration] if n in SERVED else []) for n in ADAPTERS])
def under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    with ADAPTERS[request.param](tmp_path) as built:
        yield built


@pytest.fixture
def store(under_test: StoreUnderTest) -> OnlineStore:
    return under_test.store


def test_nothing_is_served_before_the_first_load(store: OnlineStore) -> None:
    assert store.current_version(GROUP) is None
    assert store.get(GROUP, "r-1") is None
    assert store.get_many([GROUP, OTHER], "r-1") == {GROUP: None, OTHER: None}


def test_a_load_serves_each_entity_row_with_its_feature_time(store: OnlineStore) -> None:
    version = store.load_version(GROUP, _rows(3, count=7))

    assert version == 1
    assert store.get(GROUP, "r-2") == _row(7)
    assert store.get(GROUP, "r-9") is None
    assert store.get_many([GROUP, OTHER], "r-0") == {GROUP: _row(7), OTHER: None}
    current = store.current_version(GROUP)
    assert current is not None
    assert (current.version, current.rows, current.newest_feature_time) == (1, 3, DAY)


def test_get_many_reads_every_group_of_one_entity(store: OnlineStore) -> None:
    store.load_version(GROUP, _rows(3, count=7))
    store.load_version(OTHER, [OnlineRow("r-1", DAY, {"open_orders": 4})])

    assert store.get_many([GROUP, OTHER], "r-1") == {GROUP: _row(7), OTHER: {"open_orders": 4, "feature_time": DAY}}
    assert store.get_many([GROUP, OTHER], "r-2") == {GROUP: _row(7), OTHER: None}
    assert store.get_many([GROUP, OTHER], "r-404") == {GROUP: None, OTHER: None}


def test_get_many_entities_reads_a_batch_in_the_order_asked(store: OnlineStore) -> None:
    store.load_version(GROUP, _rows(3, count=7))
    store.load_version(OTHER, [OnlineRow("r-2", DAY, {"open_orders": 4})])

    found = store.get_many_entities([GROUP, OTHER, "never_loaded"], ["r-2", "r-404", "r-0"])

    assert list(found) == ["r-2", "r-404", "r-0"]
    assert found["r-2"] == {GROUP: _row(7), OTHER: {"open_orders": 4, "feature_time": DAY}, "never_loaded": None}
    assert found["r-404"] == {GROUP: None, OTHER: None, "never_loaded": None}
    assert found["r-0"] == {GROUP: _row(7), OTHER: None, "never_loaded": None}


def test_values_come_back_with_their_types(store: OnlineStore) -> None:
    precise = datetime(2025, 1, 10, 13, 45, 7, 123456)
    values: dict[str, FeatureValue] = {
        "n": 3,
        "mean": 3.0,
        "ratio": 0.125,
        "big": 2**53 + 1,
        "city": "c-0007",
        "open": True,
        "gap": None,
    }
    store.load_version(GROUP, [OnlineRow("r-1", precise, values)])

    found = store.get(GROUP, "r-1")

    assert found == {**values, "feature_time": precise}
    assert found is not None
    assert [type(found[k]) for k in ("n", "mean", "big", "open")] == [int, float, int, bool]


def test_a_new_load_replaces_the_whole_version(store: OnlineStore) -> None:
    store.load_version(GROUP, _rows(3, count=7))
    version = store.load_version(GROUP, _rows(1, count=8, day=datetime(2025, 1, 11)))

    assert version == 2
    assert store.get(GROUP, "r-0") == _row(8, datetime(2025, 1, 11))
    assert store.get(GROUP, "r-2") is None  # not in the new version: no mix of old and new


def test_a_failed_load_keeps_the_previous_version_serving(store: OnlineStore) -> None:
    store.load_version(GROUP, _rows(2, count=7))

    def broken() -> Iterator[OnlineRow]:
        yield from _rows(2, count=99)
        raise RuntimeError("source vanished")

    with pytest.raises(OnlineStoreLoadFailed, match="source vanished"):
        store.load_version(GROUP, broken())

    assert store.get(GROUP, "r-1") == _row(7)
    current = store.current_version(GROUP)
    assert current is not None and current.version == 1
    assert store.load_version(GROUP, _rows(1, count=8)) == 2


def test_readers_see_the_old_version_while_a_load_is_in_flight_and_after_it_fails(under_test: StoreUnderTest) -> None:
    store = under_test.store
    store.load_version(GROUP, _rows(3, count=7))
    halfway, release = threading.Event(), threading.Event()

    def slow_then_broken() -> Iterator[OnlineRow]:
        yield from _rows(3_000, count=99)  # more than one write chunk of every adapter is already out
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
    reader = under_test.reopen()  # another serving process has its own connection
    during = [reader.get(GROUP, "r-0"), reader.get_many([GROUP], "r-2")[GROUP], reader.get(GROUP, "r-2999")]
    release.set()
    writer.join(10)

    assert during == [_row(7), _row(7), None]
    assert len(errors) == 1
    assert reader.get(GROUP, "r-0") == _row(7)
    assert store.get(GROUP, "r-2999") is None


def test_old_versions_are_garbage_collected(under_test: StoreUnderTest) -> None:
    store = under_test.store
    for count in range(4):
        store.load_version(GROUP, _rows(2, count=count))

    assert under_test.stored_versions(GROUP) <= 2  # the current one and the one a slow reader may still use
    assert store.get(GROUP, "r-1") == _row(3)
    current = store.current_version(GROUP)
    assert current is not None and current.version == 4


def test_streaming_upserts_land_in_the_serving_version(store: OnlineStore) -> None:
    later = datetime(2025, 1, 10, 12, 30)
    try:
        store.put_rows(GROUP, [OnlineRow("r-1", DAY, {"order_count_7d": 1})])
    except NotImplementedError:
        pytest.skip(f"{type(store).__name__} does not serve streaming groups")
    store.put_rows(
        GROUP, [OnlineRow("r-1", later, {"order_count_7d": 2}), OnlineRow("r-2", DAY, {"order_count_7d": 5})]
    )

    assert store.get_many([GROUP], "r-1") == {GROUP: {"order_count_7d": 2, "feature_time": later}}
    current = store.current_version(GROUP)
    assert current is not None
    assert (current.version, current.rows, current.newest_feature_time) == (1, 2, later)

    store.load_version(GROUP, _rows(1, count=7))
    store.put_rows(GROUP, [OnlineRow("r-3", DAY, {"order_count_7d": 9})])

    assert store.get(GROUP, "r-0") == _row(7)
    assert store.get(GROUP, "r-3") == {"order_count_7d": 9, "feature_time": DAY}
    assert store.get(GROUP, "r-2") is None  # the bulk load replaced the streamed version


def test_sqlite_lookups_search_the_primary_key_and_never_scan_a_table(tmp_path: Path) -> None:
    """What keeps a lookup well under a millisecond however large a group grows (the time itself is measured by
    ``python -m bench online``, not here): every lookup SQL the store runs is a primary-key search."""
    store = SqliteOnlineStore(tmp_path / "online.db")
    store.load_version(GROUP, _rows(2_000, count=7))
    store.load_version(OTHER, _rows(2_000, count=3))
    assert store.get_many([GROUP, OTHER], "r-7")[GROUP] == _row(7)  # the SQL below is what answered this
    queries = [(_lookup_sql(GROUP), ("r-7",)), (_multi_lookup_sql((GROUP, OTHER), False), ("r-7",)),
               (_multi_lookup_sql((GROUP, OTHER), True), ('["r-7", "r-8"]',))]  # fmt: skip
    with sqlite3.connect(tmp_path / "online.db") as connection:
        for sql, parameters in queries:
            plan = [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
            searches = [step for step in plan if step.startswith("SEARCH")]
            table_scans = [step for step in plan if step.startswith("SCAN") and "json_each" not in step]
            assert len(searches) >= 2 if "UNION" in sql else searches, plan
            assert not table_scans, plan
