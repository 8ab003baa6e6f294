"""The thin adapters: LakeClient-backed raw lake (against a stand-in catalog API) and the quarantine file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_collection.adapters.lake import LakeClientRawLake
from data_collection.adapters.quarantine import FileQuarantine
from data_collection.domain.events import ORDER_PLACED, validate_event
from data_collection.errors import LakeWriteFailed
from data_collection.ports import QuarantinedEvent
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient


def _rows() -> list[dict]:
    events = [
        {"event_id": f"o-{i}:placed", "event_type": "order_placed", "event_time": at, "order_id": f"o-{i}",
         "restaurant_id": "r-000001", "city_id": "c-0001", "country_code": "ES", "placed_at": at, "n_items": 1,
         "subtotal": 9.5}
        for i, at in enumerate(["2025-01-06T12:00:00", "2025-01-06T13:00:00", "2025-01-07T19:30:00"])
    ]  # fmt: skip
    return [validate_event(ORDER_PLACED, e) for e in events]


def _lake(root: Path, handler: object) -> LakeClientRawLake:
    client = ServiceClient("data_lake", "http://data-lake.test", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return LakeClientRawLake(LakeClient(root, client))


def test_append_writes_partitioned_parquet_and_commits_it_with_lineage(tmp_path: Path) -> None:
    commits: list[dict] = []

    def catalog(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        staged = pq.read_table(tmp_path / body["files"][0]["path"])  # read when committed: the catalog moves it
        commits.append({"path": request.url.path, "staged": staged, **body})
        return httpx.Response(201, json={"name": "raw.order_placed", "version": 3, "rows": 3})

    version = _lake(tmp_path, catalog).append(ORDER_PLACED, _rows(), job="data_collection.collect", inputs=["t:x"])
    assert version == 3
    (commit,) = commits
    assert commit["path"] == "/v1/tables/raw.order_placed/commits"
    assert (commit["partition_column"], commit["mode"], commit["job"]) == (
        "nominal_date",
        "append",
        "data_collection.collect",
    )
    assert sorted((f["partition"], f["rows"]) for f in commit["files"]) == [("2025-01-06", 2), ("2025-01-07", 1)]
    assert commit["files"][0]["path"].startswith("raw/order_placed/_staging/")
    assert commit["staged"].schema.field("placed_at").type == pa.timestamp("us")
    assert {"name": "placed_at", "type": "timestamp[us]"} in commit["schema"]


def test_a_refused_commit_becomes_lake_write_failed(tmp_path: Path) -> None:
    def catalog(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": "bad_request", "message": "schema mismatch: n_items"}})

    with pytest.raises(LakeWriteFailed, match=r"raw\.order_placed failed: schema mismatch: n_items"):
        _lake(tmp_path, catalog).append(ORDER_PLACED, _rows(), job="j", inputs=[])


def test_an_unreachable_catalog_becomes_lake_write_failed(tmp_path: Path) -> None:
    def catalog(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(LakeWriteFailed, match="data_lake unavailable"):
        _lake(tmp_path, catalog).append(ORDER_PLACED, _rows(), job="j", inputs=[])


def test_quarantine_file_keeps_the_event_and_its_reason(tmp_path: Path) -> None:
    quarantine = FileQuarantine(tmp_path / "quarantine")
    quarantine.put([QuarantinedEvent("etd.order_placed", 42, "n_items: missing", {"order_id": "o-1"})])
    quarantine.put([QuarantinedEvent("etd.order_placed", 99, "subtotal: expected a number", {"order_id": "o-2"})])
    lines = quarantine.file_for("etd.order_placed").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["offset"], e["reason"], e["value"]) for e in entries] == [
        (42, "n_items: missing", {"order_id": "o-1"}),
        (99, "subtotal: expected a number", {"order_id": "o-2"}),
    ]
