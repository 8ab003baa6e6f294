"""Online lookup benchmark: one entity's 20 features from 5 feature groups, in-process, SQLite and Redis.

5 groups x 4 features, 10,000 entities bulk-loaded through ``OnlineStore.load_version``; then
- 10,000 single-entity lookups (``get_many`` over the 5 groups), random entities, p50/p99;
- batches of 100 random entities (``get_many_entities``), p50/p99 per batch and per entity.
Redis is this machine's server (db 15, a random key prefix removed afterwards); skipped if unreachable.
Baselines are the published/measured figures the issue names (not re-run here).
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.harness import percentile
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.ports import OnlineStore

GROUPS = tuple(f"bench_group_{i}" for i in range(5))
FEATURES_PER_GROUP = 4
ENTITIES = 10_000
BATCH = 100
REDIS_URL = "redis://127.0.0.1:6379/15"
TARGET_P99_MS = 1.0

#: (what, p99 ms per lookup) — Feast 0.67 in-process online read, 1 view x 3 features; Michelangelo's promise
BASELINES: tuple[tuple[str, str, float], ...] = (
    ("Feast 0.67 SQLite, 1 entity (1 view, 3 features)", "1", 0.27),
    ("Feast 0.67 Redis, 1 entity (1 view, 3 features)", "1", 0.39),
    ("Feast 0.67, batch of 100 entities", "100", 6.0),
    ("Michelangelo online serving", "1", 10.0),
)


@dataclass(frozen=True)
class Result:
    store: str
    what: str
    entities_per_call: int
    calls: int
    p50_ms: float
    p99_ms: float
    load_seconds: float

    @property
    def p99_per_entity_ms(self) -> float:
        return self.p99_ms / self.entities_per_call


def _rows(group_index: int) -> Iterator[OnlineRow]:
    day = datetime(2025, 1, 10)
    rng = random.Random(group_index)
    for e in range(ENTITIES):
        values: dict[str, FeatureValue] = {
            f"f{group_index}_{k}": (rng.randint(0, 500) if k % 2 == 0 else round(rng.uniform(0, 90), 3))
            for k in range(FEATURES_PER_GROUP)
        }
        yield OnlineRow(f"r-{e:06d}", day - timedelta(minutes=e % 1440), values)


def _timed(calls: int, call: Callable[[int], object]) -> list[float]:
    for i in range(min(500, calls)):  # warm-up: prepared statements, script cache, connection
        call(i)
    timings = []
    for i in range(calls):
        started = time.perf_counter()
        call(i)
        timings.append(time.perf_counter() - started)
    return timings


def measure_store(name: str, store: OnlineStore, lookups: int, batches: int) -> list[Result]:
    started = time.perf_counter()
    for index, group in enumerate(GROUPS):
        store.load_version(group, _rows(index))
    load_seconds = time.perf_counter() - started
    rng = random.Random(7)
    single_ids = [f"r-{rng.randrange(ENTITIES):06d}" for _ in range(lookups + 500)]
    batch_ids = [[f"r-{rng.randrange(ENTITIES):06d}" for _ in range(BATCH)] for _ in range(batches + 500)]
    assert all(store.get_many(GROUPS, single_ids[0]).values()), f"{name}: loaded rows not found"

    single = _timed(lookups, lambda i: store.get_many(GROUPS, single_ids[i]))
    batch = _timed(batches, lambda i: store.get_many_entities(GROUPS, batch_ids[i]))
    return [
        Result(name, "1 entity, 5 groups / 20 features", 1, lookups, *_ms(single), load_seconds),
        Result(name, f"{BATCH} entities, 5 groups / 20 features", BATCH, batches, *_ms(batch), load_seconds),
    ]


def _ms(timings: list[float]) -> tuple[float, float]:
    return percentile(timings, 50) * 1000, percentile(timings, 99) * 1000


@contextmanager
def _sqlite() -> Iterator[OnlineStore]:
    from data_processing.adapters.online_sqlite import SqliteOnlineStore

    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        store = SqliteOnlineStore(Path(tmp) / "online.db")
        yield store
        store.close()


@contextmanager
def _redis() -> Iterator[OnlineStore]:
    import redis

    from data_processing.adapters.online_redis import RedisOnlineStore

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    client.ping()
    prefix = f"strata-bench:{uuid.uuid4().hex[:12]}"
    try:
        yield RedisOnlineStore(client, prefix=prefix)
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.unlink(key)
        client.close()


def run(lookups: int = 10_000, batches: int = 1_000) -> tuple[list[Result], list[str]]:
    """Measure every store; return the results and one line per store that could not run."""
    results: list[Result] = []
    skipped: list[str] = []
    for name, open_store in (("SQLite", _sqlite), ("Redis", _redis)):
        try:
            with open_store() as store:
                results += measure_store(name, store, lookups, batches)
        except Exception as exc:  # a missing server skips that store, the others still run
            skipped.append(f"{name}: skipped ({type(exc).__name__}: {exc})")
    return results, skipped


def print_report(results: list[Result], skipped: list[str]) -> None:
    table = Table(title=f"Online lookup, in-process, {ENTITIES:,} entities loaded (2-core machine)")
    for column in ("store", "lookup", "calls", "p50 ms", "p99 ms", "p99 ms / entity", f"<= {TARGET_P99_MS} ms?"):
        table.add_column(column, justify="left" if column in ("store", "lookup") else "right")
    for r in results:
        ok = "yes" if r.p99_per_entity_ms <= TARGET_P99_MS else "NO"
        table.add_row(r.store, r.what, f"{r.calls:,}", f"{r.p50_ms:.3f}", f"{r.p99_ms:.3f}",
                      f"{r.p99_per_entity_ms:.3f}", ok)  # fmt: skip
    for what, entities, p99 in BASELINES:
        table.add_row("baseline", what, "", "", f"{p99:.2f}", f"{p99 / int(entities):.3f}", "")
    console = Console(width=150)
    console.print(table)
    for r in results[::2]:
        console.print(f"{r.store}: bulk load of {len(GROUPS)} groups x {ENTITIES:,} rows took {r.load_seconds:.2f} s")
    for line in skipped:
        console.print(line)


def main() -> None:
    print_report(*run())


if __name__ == "__main__":
    main()
