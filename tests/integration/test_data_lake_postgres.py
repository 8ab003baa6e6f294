"""The data lake catalog on a real PostgreSQL, chosen by nothing but the catalog URL.

Each run works in its own schema (``search_path`` in the URL) and drops it afterwards, so reruns and
parallel runs never see each other's tables.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest
from sqlalchemy import create_engine, inspect, text

from data_lake.entrypoints.app import create_app
from data_lake.settings import Settings
from strata_kernel.errors import BadRequest, Conflict, NotFound
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient, committed_files
from tests.support import postgres_schema_url, shared_credential

pytestmark = pytest.mark.integration


@pytest.fixture
def catalog_url() -> Iterator[str]:
    with postgres_schema_url("lake_test") as url:
        yield url


@pytest.fixture
def lake(tmp_path: Path, catalog_url: str) -> Iterator[LakeClient]:
    app = create_app(Settings(var_dir=tmp_path / "var", catalog_url=catalog_url))
    credential = shared_credential("data_processing")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    yield LakeClient(tmp_path / "var" / "lake", catalog)
    catalog.close()
    _finish_profiling(app)


def _finish_profiling(app: Any) -> None:
    """Wait for the profiles the lake computes in the background after each commit: one still writing to the
    catalog when the schema is dropped deadlocks the DROP (seen in CI: DeadlockDetected at teardown)."""
    app.extensions["data_lake.lake"].profiles.close()


def orders(day: str, *ids: str) -> pa.Table:
    return pa.table({"order_id": list(ids), "nominal_date": [day] * len(ids)})


def test_catalog_tables_live_in_postgres(lake: LakeClient, catalog_url: str) -> None:
    lake.write_arrow("raw.order_placed", orders("2024-05-01", "a"), partition_column="nominal_date", job="j", inputs=[])
    engine = create_engine(catalog_url)
    try:
        assert {"lake_tables", "lake_commits", "lake_files"} <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name, version FROM lake_tables")).all() == [("raw.order_placed", 1)]
    finally:
        engine.dispose()


def test_commits_overwrites_and_refusals_on_postgres(lake: LakeClient) -> None:
    both_days = pa.concat_tables([orders("2024-05-01", "a", "b"), orders("2024-05-02", "c")])
    lake.write_arrow("processed.orders", both_days, partition_column="nominal_date", job="etl", inputs=["raw.x@v1"])
    lake.write_arrow(
        "processed.orders",
        orders("2024-05-02", "d"),
        partition_column="nominal_date",
        job="etl",
        inputs=["raw.x@v2"],
        mode="overwrite_partitions",
    )
    with pytest.raises(BadRequest, match="at least one file"):
        lake.write_arrow("processed.orders", orders("2024-05-03"), partition_column="nominal_date", job="e", inputs=[])

    info = lake.table("processed.orders")
    assert (info.version, info.rows) == (2, 3)
    rows = duckdb.execute("SELECT order_id FROM read_parquet(?)", [committed_files(info)]).fetchall()
    assert sorted(r[0] for r in rows) == ["a", "b", "d"]


def test_concurrent_commits_on_postgres_lose_no_version(lake: LakeClient) -> None:
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def write(day: str) -> None:
        barrier.wait()
        try:
            lake.write_arrow("raw.order_placed", orders(day, day), partition_column="nominal_date", job=day, inputs=[])
        except Exception as exc:  # collected and asserted below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(day,)) for day in ("2024-05-01", "2024-05-02")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    info = lake.table("raw.order_placed")
    assert (info.version, info.rows, len(info.partitions)) == (2, 2, 2)


def test_a_held_version_outlives_the_retention_on_postgres(tmp_path: Path, catalog_url: str) -> None:
    """The held version's files stay once later overwrites replaced them (retention 0); an unheld one's go."""
    app = create_app(Settings(var_dir=tmp_path / "var", catalog_url=catalog_url, superseded_retention_seconds=0.0))
    credential = shared_credential("data_processing")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    lake = LakeClient(tmp_path / "var" / "lake", catalog)
    try:
        lake.write_arrow("processed.orders", orders("2024-05-01", "a"), partition_column="nominal_date", job="j",
                         inputs=[])  # fmt: skip
        lake.hold("processed.orders", 1, "etd training run r1")
        for order in ("b", "c"):
            lake.write_arrow("processed.orders", orders("2024-05-01", order), partition_column="nominal_date",
                             job="j", inputs=[], mode="overwrite")  # fmt: skip
        held = lake.table("processed.orders", version=1)
        assert duckdb.execute("SELECT order_id FROM read_parquet(?)", [committed_files(held)]).fetchall() == [("a",)]
        with pytest.raises(Conflict):
            lake.table("processed.orders", version=2)
    finally:
        catalog.close()
        _finish_profiling(app)


def test_a_released_hold_lets_the_next_commit_delete_the_version_on_postgres(tmp_path: Path, catalog_url: str) -> None:
    """Held: an overwrite keeps v1's files; listed with its holder; released by the operator: the next overwrite
    deletes them (retention 0); a second release is a 404."""
    app = create_app(Settings(var_dir=tmp_path / "var", catalog_url=catalog_url, superseded_retention_seconds=0.0,
                              operator_token="op-postgres"))  # fmt: skip
    writer = ServiceClient("data_lake", "http://lake", credential=shared_credential("data_processing"),
                           transport=httpx.WSGITransport(app=app))  # fmt: skip
    operator = ServiceClient("data_lake", "http://lake", token="op-postgres", transport=httpx.WSGITransport(app=app))
    lake, as_operator = LakeClient(tmp_path / "var" / "lake", writer), LakeClient(tmp_path / "var" / "lake", operator)
    try:
        lake.write_arrow("processed.orders", orders("2024-05-01", "a"), partition_column="nominal_date", job="j",
                         inputs=[])  # fmt: skip
        lake.hold("processed.orders", 1, "etd training run r1")
        lake.write_arrow("processed.orders", orders("2024-05-01", "b"), partition_column="nominal_date", job="j",
                         inputs=[], mode="overwrite")  # fmt: skip
        assert [(h["version"], h["holder"]) for h in lake.holds("processed.orders")] == [(1, "etd training run r1")]
        assert committed_files(lake.table("processed.orders", version=1))  # held: still there

        as_operator.release("processed.orders", 1, "etd training run r1")
        lake.write_arrow("processed.orders", orders("2024-05-01", "c"), partition_column="nominal_date", job="j",
                         inputs=[], mode="overwrite")  # fmt: skip
        assert lake.holds("processed.orders") == []
        with pytest.raises(Conflict):
            lake.table("processed.orders", version=1)
        with pytest.raises(NotFound):
            as_operator.release("processed.orders", 1, "etd training run r1")
    finally:
        writer.close()
        operator.close()
        _finish_profiling(app)
