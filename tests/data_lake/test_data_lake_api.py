"""The catalog API over a real SQLite catalog and real Parquet files, also through the kernel's LakeClient."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest
from flask.testing import FlaskClient

from data_lake.entrypoints.app import create_app
from data_lake.settings import Settings
from strata_kernel.errors import BadRequest, Conflict, NotFound
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient, TableInfo, committed_files
from tests.support import as_caller, json_of, serve, service_credential_for

WriteParquet = Callable[..., dict[str, Any]]  # the write_parquet fixture of conftest.py

SCHEMA = [{"name": "order_id", "type": "string"}, {"name": "minutes", "type": "double"}]


def body(files: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    return {
        "partition_column": "nominal_date",
        "schema": SCHEMA,
        "files": files,
        "mode": "append",
        "job": "test-job",
        "inputs": ["raw.order_placed@v1"],
    } | changes


def orders(day: str, *ids: str) -> pa.Table:
    return pa.table({"order_id": list(ids), "minutes": [30.0] * len(ids), "nominal_date": [day] * len(ids)})


def _committed_file(lake_root: Path) -> str:
    [found] = sorted(lake_root.glob("processed/orders/nominal_date=*/*.parquet"))
    return str(found.relative_to(lake_root))


def read_with_duckdb(info: TableInfo) -> list[tuple[str, str]]:
    """The version's files as the catalog lists them (strata_kernel.lake.committed_files), read by DuckDB."""
    query = "SELECT order_id, CAST(nominal_date AS VARCHAR) FROM read_parquet(?, hive_partitioning=true)"
    return sorted(duckdb.execute(query, [committed_files(info)]).fetchall())


def test_write_arrow_commits_a_table_readers_see_as_is(lake: LakeClient, lake_root: Path) -> None:
    data = pa.concat_tables([orders("2024-05-01", "a", "b"), orders("2024-05-02", "c")])

    answer = lake.write_arrow("processed.orders", data, partition_column="nominal_date", job="etl", inputs=["raw.x@v1"])

    assert answer["name"] == "processed.orders" and answer["version"] == 1 and answer["rows"] == 3
    info = lake.table("processed.orders")
    assert info.location == lake_root / "processed" / "orders" and info.rows == 3
    by_day = {p["value"]: (p["rows"], p["files"]) for p in info.partitions}
    assert by_day == {"2024-05-01": (2, 1), "2024-05-02": (1, 1)}
    assert read_with_duckdb(info) == [("a", "2024-05-01"), ("b", "2024-05-01"), ("c", "2024-05-02")]
    assert not (info.location / "_staging").exists() or not any((info.location / "_staging").iterdir())


def test_overwrite_partitions_replaces_one_day_and_records_lineage(
    lake: LakeClient, client: FlaskClient, lake_root: Path
) -> None:
    first = pa.concat_tables([orders("2024-05-01", "a", "b"), orders("2024-05-02", "c")])
    lake.write_arrow("processed.orders", first, partition_column="nominal_date", job="etl", inputs=["raw.x@v1"])
    old_files = sorted((lake_root / "processed/orders/nominal_date=2024-05-01").glob("*.parquet"))

    lake.write_arrow(
        "processed.orders",
        orders("2024-05-01", "z"),
        partition_column="nominal_date",
        job="etl",
        inputs=["raw.x@v2"],
        mode="overwrite_partitions",
    )

    info = lake.table("processed.orders")
    assert (info.version, info.rows) == (2, 2)
    assert read_with_duckdb(info) == [("c", "2024-05-02"), ("z", "2024-05-01")]
    assert all(path.exists() for path in old_files)  # a reader that listed version 1 still reads it whole
    assert not set(old_files) & set(info.files)
    commits = client.get("/v1/tables/processed.orders").get_json()["commits"]
    assert [(c["version"], c["caller"], c["job"], c["inputs"], c["mode"], c["rows"]) for c in commits] == [
        (1, "data_processing", "etl", ["raw.x@v1"], "append", 3),
        (2, "data_processing", "etl", ["raw.x@v2"], "overwrite_partitions", 1),
    ]


def test_an_earlier_version_is_read_by_number_until_its_files_are_deleted(
    lake: LakeClient, client: FlaskClient
) -> None:
    first = pa.concat_tables([orders("2024-05-01", "a", "b"), orders("2024-05-02", "c")])
    lake.write_arrow("processed.orders", first, partition_column="nominal_date", job="etl", inputs=["raw.x@v1"])
    lake.write_arrow("processed.orders", orders("2024-05-01", "z"), partition_column="nominal_date", job="etl",
                     inputs=["raw.x@v2"], mode="overwrite_partitions")  # fmt: skip

    earlier = lake.table("processed.orders", version=1)  # a rebuild reads the rows its version was trained on

    assert (earlier.version, earlier.rows) == (1, 3)
    assert read_with_duckdb(earlier) == [("a", "2024-05-01"), ("b", "2024-05-01"), ("c", "2024-05-02")]
    assert lake.table("processed.orders").version == 2
    unknown = client.get("/v1/tables/processed.orders?version=3")
    assert (unknown.status_code, unknown.get_json()["error"]["code"]) == (404, "version_not_found")
    replaced = next(path for path in earlier.files if path not in lake.table("processed.orders").files)
    replaced.unlink()  # what the retention purge does once later commits replaced it long enough ago
    gone = client.get("/v1/tables/processed.orders?version=1")
    assert (gone.status_code, gone.get_json()["error"]["code"]) == (409, "version_files_gone")
    assert "processed.orders v1" in gone.get_json()["error"]["message"]


def test_a_training_run_holds_the_version_it_read_past_the_retention(settings: Settings) -> None:
    """The engine holds the training set's version through the kernel's client; with a retention of 0 the next
    commits delete an unheld version's files at once and never the held one's, on the real SQL catalog."""
    app = create_app(settings.model_copy(update={"superseded_retention_seconds": 0.0}))
    writer = as_caller(app.test_client(), settings, "data_processing")
    credential = service_credential_for(settings, "inference_engine")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    engine = LakeClient(settings.resolved_lake_root(), catalog)
    writes = LakeClient(settings.resolved_lake_root(), ServiceClient(
        "data_lake", "http://lake", credential=service_credential_for(settings, "data_processing"),
        transport=httpx.WSGITransport(app=app)))  # fmt: skip
    for day, order in (("2024-05-01", "a"), ("2024-05-01", "b"), ("2024-05-01", "c")):
        writes.write_arrow("processed.orders", orders(day, order), partition_column="nominal_date", job="etl",
                           inputs=["raw.x@v1"], mode="overwrite" if order != "a" else "append")  # fmt: skip
        if order == "a":
            engine.hold("processed.orders", 1, "etd training run r1")
            engine.hold("processed.orders", 1, "etd training run r1")  # again: one hold

    assert read_with_duckdb(engine.table("processed.orders", version=1)) == [("a", "2024-05-01")]
    gone = writer.get("/v1/tables/processed.orders?version=2")
    assert (gone.status_code, gone.get_json()["error"]["code"]) == (409, "version_files_gone")
    late = writer.post("/v1/tables/processed.orders/holds", json={"version": 2, "holder": "x"})
    assert late.status_code == 409
    anonymous = app.test_client().post("/v1/tables/processed.orders/holds", json={"version": 1, "holder": "x"})
    assert anonymous.status_code == 401
    with pytest.raises(NotFound):
        engine.hold("processed.orders", 7, "no such version")
    catalog.close()


def _lake_as(app: Any, settings: Settings, caller: str) -> LakeClient:
    """The kernel's client calling ``app`` in-process as ``caller`` (a deployable, or the operator)."""
    credential = service_credential_for(settings, caller)
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    return LakeClient(settings.resolved_lake_root(), catalog)


def test_the_operator_lists_and_releases_holds_and_the_next_commit_deletes_the_released_version(
    settings: Settings,
) -> None:
    """On the SQLite catalog through the API (retention 0): a held version survives an overwrite; once the operator
    releases its only hold, the next commit deletes its files. Releasing again is a 404, not a silent success."""
    app = create_app(settings.model_copy(update={"superseded_retention_seconds": 0.0}))
    writes, engine, operator = (_lake_as(app, settings, caller) for caller in
                                ("data_processing", "inference_engine", "operator"))  # fmt: skip
    for order in ("a", "b"):
        writes.write_arrow("processed.orders", orders("2024-05-01", order), partition_column="nominal_date", job="etl",
                           inputs=[], mode="overwrite" if order != "a" else "append")  # fmt: skip
        if order == "a":
            engine.hold("processed.orders", 1, "etd training run r1")

    [hold] = writes.holds("processed.orders")  # any of the platform's callers reads them
    assert (hold["version"], hold["holder"]) == (1, "etd training run r1")
    assert datetime.fromisoformat(hold["held_at"]).tzinfo is not None
    assert read_with_duckdb(operator.table("processed.orders", version=1)) == [("a", "2024-05-01")]

    operator.release("processed.orders", 1, "etd training run r1")
    assert operator.holds("processed.orders") == []
    assert read_with_duckdb(operator.table("processed.orders", version=1)) == [("a", "2024-05-01")]  # until a commit
    writes.write_arrow("processed.orders", orders("2024-05-01", "c"), partition_column="nominal_date", job="etl",
                       inputs=[], mode="overwrite")  # fmt: skip
    with pytest.raises(Conflict, match=r"processed\.orders v1"):
        operator.table("processed.orders", version=1)
    with pytest.raises(NotFound, match="is not held by 'etd training run r1'"):
        operator.release("processed.orders", 1, "etd training run r1")


@pytest.mark.parametrize(
    ("caller", "path", "status", "code"),
    [
        (None, "/v1/tables/processed.orders/holds", 401, None),
        ("operator", "/v1/tables/processed.nothing/holds", 404, "table_not_found"),
    ],
    ids=["anonymous", "unknown-table"],
)
def test_listing_holds_needs_a_known_caller_and_a_known_table(
    settings: Settings, lake: LakeClient, caller: str | None, path: str, status: int, code: str | None
) -> None:
    app = create_app(settings)
    lake.write_arrow("processed.orders", orders("2024-05-01", "a"), partition_column="nominal_date", job="etl",
                     inputs=[])  # fmt: skip
    client = app.test_client() if caller is None else as_caller(app.test_client(), settings, caller)

    answer = client.get(path)

    assert answer.status_code == status
    assert code is None or answer.get_json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("caller", "path", "status", "code"),
    [
        ("operator", "/v1/tables/processed.orders/holds/1?holder=etd%20training%20run%20r1", 200, None),
        ("inference_engine", "/v1/tables/processed.orders/holds/1?holder=etd%20training%20run%20r1", 403, None),
        (None, "/v1/tables/processed.orders/holds/1?holder=etd%20training%20run%20r1", 401, None),
        ("operator", "/v1/tables/processed.orders/holds/one?holder=x", 400, "invalid_version"),
        ("operator", "/v1/tables/processed.orders/holds/0?holder=x", 400, "invalid_version"),
        ("operator", "/v1/tables/processed.orders/holds/1", 400, None),
        ("operator", "/v1/tables/processed.orders/holds/1?holder=", 400, None),
        ("operator", f"/v1/tables/processed.orders/holds/1?holder={'x' * 201}", 400, None),
        ("operator", "/v1/tables/processed.nothing/holds/1?holder=x", 404, "table_not_found"),
        ("operator", "/v1/tables/processed.orders/holds/9?holder=x", 404, "version_not_found"),
        ("operator", "/v1/tables/processed.orders/holds/1?holder=etd%20training%20run%20r2", 404, "hold_not_found"),
    ],
    ids=["operator", "engine-403", "anonymous-401", "bad-version", "version-0", "no-holder", "empty-holder",
         "long-holder", "unknown-table", "unknown-version", "unknown-hold"],
)  # fmt: skip
def test_only_the_operator_releases_a_hold_and_a_bad_release_says_why(
    settings: Settings, lake: LakeClient, caller: str | None, path: str, status: int, code: str | None
) -> None:
    app = create_app(settings)
    lake.write_arrow("processed.orders", orders("2024-05-01", "a"), partition_column="nominal_date", job="etl",
                     inputs=[])  # fmt: skip
    _lake_as(app, settings, "inference_engine").hold("processed.orders", 1, "etd training run r1")
    client = app.test_client() if caller is None else as_caller(app.test_client(), settings, caller)

    answer = client.delete(path)

    assert answer.status_code == status, answer.get_json()
    assert code is None or answer.get_json()["error"]["code"] == code
    held = [hold["holder"] for hold in _lake_as(app, settings, "operator").holds("processed.orders")]
    assert held == ([] if status == 200 else ["etd training run r1"])
    if status == 200:
        assert answer.get_json() == {"table": "processed.orders", "version": 1, "holder": "etd training run r1"}


def test_table_detail_and_list_follow_the_contract(client: FlaskClient, write_parquet: WriteParquet) -> None:
    files = [
        write_parquet("features/restaurant_stats/nominal_date=2024-05-01/p-0.parquet", "2024-05-01", rows=3),
        write_parquet("features/restaurant_stats/nominal_date=2024-05-02/p-1.parquet", "2024-05-02", rows=1),
    ]
    created = client.post("/v1/tables/features.restaurant_stats/commits", json=body(files))
    assert created.status_code == 201
    assert created.get_json() == {
        "name": "features.restaurant_stats", "version": 1, "rows": 4, "caller": "data_processing", "replayed": False,
    }  # fmt: skip

    detail = client.get("/v1/tables/features.restaurant_stats").get_json()
    assert {k: detail[k] for k in ("name", "zone", "location", "partition_column", "schema", "version", "rows")} == {
        "name": "features.restaurant_stats",
        "zone": "features",
        "location": "features/restaurant_stats",
        "partition_column": "nominal_date",
        "schema": SCHEMA,
        "version": 1,
        "rows": 4,
    }
    assert detail["partitions"] == [
        {"value": "2024-05-01", "rows": 3, "files": 1},
        {"value": "2024-05-02", "rows": 1, "files": 1},
    ]
    [listed] = client.get("/v1/tables").get_json()["tables"]
    assert {k: listed[k] for k in ("name", "zone", "version", "rows", "partitions")} == {
        "name": "features.restaurant_stats",
        "zone": "features",
        "version": 1,
        "rows": 4,
        "partitions": 2,
    }
    assert listed["updated_at"] == detail["updated_at"]


BAD_COMMITS = [
    ("gold.orders", {}, "unknown zone 'gold'", "zone"),
    ("processed.Orders!", {}, "must start with a letter", "table"),
    ("processed.orders", {"files": []}, "at least one file", "files"),
    ("processed.orders", {"missing": True}, "no staged file at", "files.0.path"),
    ("processed.orders", {"outside": True}, "must be a staged file processed/orders/_staging", "files.0.path"),
    ("processed.orders", {"committed": True}, "must be a staged file", "files.0.path"),
    ("processed.orders", {"rows": 10**15}, "less than or equal to 1000000000000", "files.0.rows"),
    ("processed.orders", {"rows": 7}, "declared 7, but the file's footer says 2", "files.0.rows"),
    ("processed.orders", {"schema": [{"name": "order_id", "type": "string"}]}, "does not declare", "schema"),
    ("processed.orders", {"mode": "upsert"}, "'upsert' is not one of", "mode"),
    ("processed.orders", {"job": None}, "job", "job"),
]


@pytest.mark.parametrize(("table", "change", "message", "field"), BAD_COMMITS)
def test_bad_commits_are_400_with_a_message_and_change_nothing(
    client: FlaskClient, write_parquet: WriteParquet, lake_root: Path, table: str, change: dict[str, Any],
    message: str, field: str,
) -> None:  # fmt: skip
    good = write_parquet("processed/orders/nominal_date=2024-05-01/first.parquet", "2024-05-01")
    assert client.post("/v1/tables/processed.orders/commits", json=body([good])).status_code == 201
    before = client.get("/v1/tables").get_json()

    candidate = write_parquet("processed/orders/nominal_date=2024-05-02/second.parquet", "2024-05-02", run="r2")
    if change.pop("missing", False):
        candidate["path"] = "processed/orders/_staging/r2/nominal_date=2024-05-02/ghost.parquet"
    if change.pop("outside", False):
        candidate = write_parquet("processed/other/nominal_date=2024-05-02/x.parquet", "2024-05-02", run="r2")
    if change.pop("committed", False):  # the lake attack: name a file the table already holds
        candidate["path"] = client.get("/v1/tables").get_json() and _committed_file(lake_root)
    if "rows" in change:
        candidate["rows"] = change.pop("rows")
    payload = {k: v for k, v in (body([candidate]) | change).items() if v is not None}
    response = client.post(f"/v1/tables/{table}/commits", json=payload)

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert message in error["message"] and error["field"] == field
    assert client.get("/v1/tables").get_json() == before


def test_changed_column_type_is_409_and_keeps_the_old_version(
    client: FlaskClient, write_parquet: WriteParquet, lake_root: Path
) -> None:
    first = write_parquet("processed/orders/nominal_date=2024-05-01/a.parquet", "2024-05-01")
    client.post("/v1/tables/processed.orders/commits", json=body([first]))
    second = write_parquet("processed/orders/nominal_date=2024-05-01/b.parquet", "2024-05-01", run="r2",
                           order_id=[1, 2])  # fmt: skip
    schema = [{"name": "order_id", "type": "int64"}]

    response = client.post(
        "/v1/tables/processed.orders/commits", json=body([second], schema=schema, mode="overwrite_partitions")
    )

    assert response.status_code == 409
    assert "'order_id' changes type from string to int64" in response.get_json()["error"]["message"]
    assert client.get("/v1/tables/processed.orders").get_json()["version"] == 1
    assert _committed_file(lake_root) == "processed/orders/nominal_date=2024-05-01/part-r1-0.parquet"


def test_new_columns_extend_the_schema(client: FlaskClient, write_parquet: WriteParquet) -> None:
    first = write_parquet("raw/order_placed/nominal_date=2024-05-01/a.parquet", "2024-05-01")
    client.post("/v1/tables/raw.order_placed/commits", json=body([first]))
    second = write_parquet("raw/order_placed/nominal_date=2024-05-02/b.parquet", "2024-05-02", run="r2",
                           order_id=["x"], n=[1])  # fmt: skip
    extended = [{"name": "order_id", "type": "string"}, {"name": "n", "type": "int64"}]
    lacking = [column["name"] for column in SCHEMA if column["name"] not in ("order_id", "nominal_date")]

    # the files lack columns the table has: quarantined (kept staged, the reason recorded) until accepted
    refused = client.post("/v1/tables/raw.order_placed/commits", json=body([second], schema=extended))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "commit_quarantined"
    assert f"no column {lacking[0]!r}" in refused.get_json()["error"]["message"]
    held = client.get("/v1/commit-checks?quarantined=true").get_json()["checks"]
    assert {(c["table"], c["field"], c["reason"]) for c in held} >= {("raw.order_placed", lacking[0], "missing_column")}
    assert client.get("/v1/tables/raw.order_placed").get_json()["version"] == 1
    accepted = {**body([second], schema=extended), "accept_schema_change": True}
    assert client.post("/v1/tables/raw.order_placed/commits", json=accepted).status_code == 201
    assert client.get("/v1/tables/raw.order_placed").get_json()["schema"] == [*SCHEMA, extended[1]]
    assert client.get("/v1/commit-checks?quarantined=true").get_json()["checks"] == []


def test_the_lake_sidecar_sees_a_quarantined_commit(app: Any, client: FlaskClient, write_parquet: WriteParquet) -> None:
    """The data_lake sidecar's monitor reads the checks over the lake's API and exports the quarantine."""
    from prometheus_client import CollectorRegistry

    from monitoring.adapters.data_metrics import PrometheusDataRecorder
    from monitoring.adapters.lake_checks_http import HttpLakeChecks
    from monitoring.lake_monitor import LakeCheckMonitor

    first = write_parquet("raw/order_placed/nominal_date=2024-05-01/a.parquet", "2024-05-01")
    client.post("/v1/tables/raw.order_placed/commits", json=body([first]))
    second = write_parquet("raw/order_placed/nominal_date=2024-05-02/b.parquet", "2024-05-02", run="r2",
                           order_id=["x"], n=[1])  # fmt: skip
    renamed = [{"name": "order_id", "type": "string"}, {"name": "n", "type": "int64"}]
    assert client.post("/v1/tables/raw.order_placed/commits", json=body([second], schema=renamed)).status_code == 409
    registry = CollectorRegistry()
    server, url = serve(app)
    try:
        LakeCheckMonitor(HttpLakeChecks(url), PrometheusDataRecorder(registry, aspects=frozenset())).poll()
    finally:
        server.shutdown()
    labels = {"component": "data_lake", "layer": "data_lake", "flow": "development", "table": "raw.order_placed"}
    assert registry.get_sample_value("strata_monitor_lake_quarantined_commits", labels) == 1
    missing = {**labels, "field": "minutes", "reason": "missing_column"}
    assert registry.get_sample_value("strata_monitor_lake_commit_anomalies_total", missing) == 1


def test_kernel_client_sees_typed_errors(lake: LakeClient) -> None:
    with pytest.raises(NotFound, match=r"processed\.nothing does not exist"):
        lake.table("processed.nothing")
    with pytest.raises(BadRequest, match="at least one file"):
        lake.write_arrow(
            "processed.orders", orders("2024-05-01").slice(0, 0), partition_column="nominal_date", job="etl", inputs=[]
        )
    lake.write_arrow("processed.orders", orders("2024-05-01", "a"), partition_column="nominal_date", job="e", inputs=[])
    clash = pa.table({"order_id": [1], "minutes": [1.0], "nominal_date": ["2024-05-01"]})
    with pytest.raises(Conflict, match="order_id"):
        lake.write_arrow("processed.orders", clash, partition_column="nominal_date", job="etl", inputs=[])


def test_concurrent_commits_to_one_table_lose_no_version(app: Any, settings: Any, write_parquet: WriteParquet) -> None:
    files = [write_parquet(f"raw/order_placed/nominal_date=2024-05-0{i}/p.parquet", f"2024-05-0{i}", run=f"r{i}")
             for i in (1, 2)]  # fmt: skip
    barrier = threading.Barrier(len(files))
    statuses: list[int] = []

    def commit(file: dict[str, Any]) -> None:
        client = as_caller(app.test_client(), settings, "data_processing")
        barrier.wait()
        statuses.append(client.post("/v1/tables/raw.order_placed/commits", json=body([file])).status_code)

    threads = [threading.Thread(target=commit, args=(file,)) for file in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [201, 201]
    detail = app.test_client().get("/v1/tables/raw.order_placed").get_json()
    assert detail["version"] == 2 and [c["version"] for c in detail["commits"]] == [1, 2]
    assert detail["rows"] == 4 and len(detail["partitions"]) == 2


def test_readiness_reports_the_catalog_reachable(client: FlaskClient) -> None:
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_the_lake_attack_of_issue_18_is_refused_and_every_byte_is_still_there(
    app: Any, settings: Any, lake: LakeClient, lake_root: Path
) -> None:
    """Anonymous overwrite naming one existing file used to delete every other file of the table."""
    days = [f"2024-05-{day:02d}" for day in range(1, 25)]
    data = pa.concat_tables([orders(day, f"o-{day}-1", f"o-{day}-2") for day in days])
    lake.write_arrow("raw.order_placed", data, partition_column="nominal_date", job="collect", inputs=["topic:x"])
    files = sorted((lake_root / "raw" / "order_placed").rglob("*.parquet"))
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    victim = str(files[0].relative_to(lake_root))
    attack = body([{"path": victim, "partition": "2024-05-01", "rows": 10**12}], mode="overwrite", job="attacker",
                  schema=[{"name": "order_id", "type": "string"}])  # fmt: skip

    anonymous = app.test_client()
    assert anonymous.post("/v1/tables/raw.order_placed/commits", json=attack).status_code == 401
    assert anonymous.post("/v1/tables/raw.order_placed/commits", json=attack,
                          headers={"Authorization": "Bearer forged"}).status_code == 403  # fmt: skip
    other_writer = as_caller(app.test_client(), settings, "data_collection")
    refused = other_writer.post("/v1/tables/raw.order_placed/commits", json=attack)
    assert refused.status_code == 400 and "must be a staged file" in json_of(refused)["error"]["message"]
    owner = as_caller(app.test_client(), settings, "data_processing")
    assert owner.post("/v1/tables/raw.order_placed/commits", json=attack).status_code == 400

    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(lake_root.rglob("*.parquet"))}
    assert after == before
    info = lake.table("raw.order_placed")
    assert (info.version, info.rows, len(info.partitions)) == (1, 48, 24)
    metrics = anonymous.get("/metrics").get_data(as_text=True)
    assert (
        'strata_data_lake_http_refused_total{endpoint="/v1/tables/<table>/commits",reason="unauthenticated"} 1.0'
        in (metrics)
    )
