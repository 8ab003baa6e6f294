"""Redis online store against this machine's Redis: what the shared contract suite cannot see from outside —
lost races between loaders, a loader killed mid-load, the URL wiring and an unreachable server.
(The OnlineStore contract itself runs on Redis in tests/data_processing/contracts/test_dp_online_store.py.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from data_processing.adapters.online_redis import RedisOnlineStore
from data_processing.bootstrap import bootstrap
from data_processing.domain.online import OnlineRow
from data_processing.errors import OnlineStoreLoadFailed
from data_processing.settings import Settings
from strata_kernel.errors import Unavailable
from tests.data_processing.contracts.online_stores import REDIS_URL, redis_client_or_skip

pytestmark = pytest.mark.integration
GROUP = "restaurant_stats"
DAY = datetime(2025, 1, 10)


def _rows(n: int, count: int) -> list[OnlineRow]:
    return [OnlineRow(f"r-{i}", DAY, {"order_count_7d": count}) for i in range(n)]


@pytest.fixture
def client() -> Any:
    return redis_client_or_skip()


@pytest.fixture
def prefix(client: Any) -> Iterator[str]:
    prefix = f"strata-test:{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.unlink(key)


def _data_keys(client: Any, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{prefix}:{GROUP}:data:*"))


def test_a_loader_that_loses_the_race_fails_and_leaves_the_winner_serving(client: Any, prefix: str) -> None:
    store = RedisOnlineStore(client, prefix=prefix)
    store.load_version(GROUP, _rows(2, count=1))
    halfway, release = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def slow_rows() -> Iterator[OnlineRow]:
        yield from _rows(2_500, count=2)
        halfway.set()
        release.wait(10)

    def slow_load() -> None:
        try:
            store.load_version(GROUP, slow_rows())
        except OnlineStoreLoadFailed as exc:
            errors.append(exc)

    loser = threading.Thread(target=slow_load)
    loser.start()
    assert halfway.wait(10)
    assert store.load_version(GROUP, _rows(1, count=3)) == 2
    release.set()
    loser.join(10)

    assert "lost a race" in str(errors[0])
    assert store.get(GROUP, "r-0") == {"order_count_7d": 3, "feature_time": DAY}
    assert store.get(GROUP, "r-1") is None
    assert len(_data_keys(client, prefix)) == 2  # the winner and the version it replaced; the loser's is gone


def test_a_loader_killed_mid_load_leaves_an_expiring_orphan_and_the_old_version_serving(
    client: Any, prefix: str, tmp_path: Path
) -> None:
    store = RedisOnlineStore(client, prefix=prefix)
    store.load_version(GROUP, _rows(2, count=1))
    script = tmp_path / "loader.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys, time
        from datetime import datetime
        from data_processing.adapters.online_redis import RedisOnlineStore
        from data_processing.domain.online import OnlineRow

        def rows():
            for i in range(5_000):
                yield OnlineRow(f"r-{{i}}", datetime(2025, 1, 10), {{"order_count_7d": 99}})
            print("halfway", flush=True)
            time.sleep(60)

        RedisOnlineStore.from_url({REDIS_URL!r}, prefix={prefix!r}).load_version({GROUP!r}, rows())
    """)
    )
    loader = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd())
    try:
        assert loader.stdout is not None and loader.stdout.readline().strip() == "halfway"
    finally:
        loader.kill()
        loader.wait(10)

    orphans = [key for key in _data_keys(client, prefix) if client.ttl(key) > 0]
    assert len(orphans) == 1 and client.hlen(orphans[0]) == 4_000  # two full write chunks got out
    assert store.get(GROUP, "r-0") == {"order_count_7d": 1, "feature_time": DAY}
    assert store.get(GROUP, "r-3000") is None
    assert store.load_version(GROUP, _rows(1, count=2)) == 2


def test_the_online_store_url_picks_redis(client: Any, prefix: str, tmp_path: Path) -> None:
    store = bootstrap(Settings(var_dir=tmp_path / "var", online_store_url=REDIS_URL)).online_store

    assert isinstance(store, RedisOnlineStore)
    assert store.current_version(f"never_loaded_{uuid.uuid4().hex[:8]}") is None
    store.close()


def test_an_unreachable_redis_is_reported_as_unavailable() -> None:
    store = RedisOnlineStore.from_url("redis://127.0.0.1:1/0")
    started = time.perf_counter()

    with pytest.raises(Unavailable, match="online store \\(redis\\) unavailable") as raised:
        store.get_many([GROUP], "r-1")

    assert raised.value.status == 503 and raised.value.code == "online_store_unavailable"
    assert time.perf_counter() - started < 5
