"""Every OnlineStore adapter, built for the contract suite, with a probe of how many versions it physically keeps.

Redis runs against this machine's server (127.0.0.1:6379, db 15, a random key prefix removed afterwards) and
skips when it is unreachable; Cassandra runs only when ``STRATA_CASSANDRA_HOSTS`` names a cluster (a random
keyspace, dropped afterwards).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.ports import OnlineStore
from tests.data_processing.fakes import InMemoryOnlineStore

REDIS_URL = "redis://127.0.0.1:6379/15"
CASSANDRA_HOSTS_ENV = "STRATA_CASSANDRA_HOSTS"


@dataclass
class StoreUnderTest:
    store: OnlineStore
    #: how many versions of a group are physically stored (tables, hashes...)
    stored_versions: Callable[[str], int]
    #: another handle on the same data, as a second serving process would have
    reopen: Callable[[], OnlineStore]


@contextmanager
def sqlite_store(tmp_path: Path) -> Iterator[StoreUnderTest]:
    path = tmp_path / "online.db"

    def stored_versions(group: str) -> int:
        with sqlite3.connect(path) as connection:
            found = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE ?", (f"fg_{group}__v%",)
            )
            return int(found.fetchone()[0])

    store = SqliteOnlineStore(path)
    yield StoreUnderTest(store, stored_versions, lambda: SqliteOnlineStore(path))
    store.close()


@contextmanager
def in_memory_store(tmp_path: Path) -> Iterator[StoreUnderTest]:
    store = InMemoryOnlineStore()
    yield StoreUnderTest(store, lambda group: 1 if store.current_version(group) else 0, lambda: store)


def redis_client_or_skip() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    return client


@contextmanager
def redis_store(tmp_path: Path) -> Iterator[StoreUnderTest]:
    from data_processing.adapters.online_redis import RedisOnlineStore

    client = redis_client_or_skip()
    prefix = f"strata-test:{uuid.uuid4().hex[:12]}"

    def stored_versions(group: str) -> int:
        return sum(1 for _ in client.scan_iter(match=f"{prefix}:{group}:data:*"))

    store = RedisOnlineStore(client, prefix=prefix)
    try:
        yield StoreUnderTest(store, stored_versions, lambda: RedisOnlineStore.from_url(REDIS_URL, prefix=prefix))
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.unlink(key)
        store.close()


@contextmanager
def cassandra_store(tmp_path: Path) -> Iterator[StoreUnderTest]:
    hosts = os.environ.get(CASSANDRA_HOSTS_ENV, "")
    if not hosts:
        pytest.skip(f"no Cassandra cluster: set {CASSANDRA_HOSTS_ENV}=host1,host2 to run the Cassandra contract")
    from cassandra.cluster import Cluster

    from data_processing.adapters.online_cassandra import CassandraOnlineStore

    keyspace = f"strata_test_{uuid.uuid4().hex[:10]}"
    cluster = Cluster(hosts.split(","))
    admin = cluster.connect()
    admin.execute(
        f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )

    def stored_versions(group: str) -> int:
        rows = admin.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))
        return sum(1 for row in rows if row.table_name.startswith(f"fg_{group}__v"))

    url = f"cassandra://{hosts}/{keyspace}"
    store = CassandraOnlineStore.from_url(url)
    try:
        yield StoreUnderTest(store, stored_versions, lambda: CassandraOnlineStore.from_url(url))
    finally:
        store.close()
        admin.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
        cluster.shutdown()


ADAPTERS: dict[str, Callable[[Path], Any]] = {
    "sqlite": sqlite_store,
    "in_memory": in_memory_store,
    "redis": redis_store,
    "cassandra": cassandra_store,
}
#: adapters that need a server: marked ``integration``
SERVED = {"redis", "cassandra"}
