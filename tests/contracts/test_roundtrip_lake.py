"""The lake commit, producer -> consumer: the kernel's ``LakeClient`` (every writer's client) commits into the real
data_lake app (httpx's WSGI transport carries the bytes), and each side's body is the contract's type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

from data_lake.entrypoints.app import CommitIn, create_app
from data_lake.settings import Settings
from strata_kernel.contracts.lake_commit import Column, CommitAnswer, CommitRequest, StagedFile
from strata_kernel.errors import BadRequest
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import service_credential_for

ORDERS = pa.table({"order_id": ["o-1", "o-2", "o-3"], "day": ["2026-12-01", "2026-12-01", "2026-12-02"],
                   "minutes": [12.5, 30.0, 7.25]})  # fmt: skip


def test_what_a_writer_commits_is_what_the_catalog_records_and_its_answer_is_what_the_writer_reads(
    tmp_path: Path,
) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    app = create_app(settings)
    sent: list[Any] = []

    def data_lake(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            sent.append(json.loads(request.content))
        return httpx.WSGITransport(app=app).handle_request(request)

    credential = service_credential_for(settings, "data_processing")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.MockTransport(data_lake))
    lake = LakeClient(settings.resolved_lake_root(), catalog)

    answer = lake.write_arrow("processed.orders", ORDERS, partition_column="day", job="data_processing.orders",
                              inputs=["raw.order_placed"])  # fmt: skip

    [body] = sent
    request = CommitRequest.from_wire(body)
    assert request.to_wire() == body  # the writer sends exactly the contract's fields
    assert (request.partition_column, request.job, request.mode, request.inputs) == (
        "day", "data_processing.orders", "append", ("raw.order_placed",)
    )  # fmt: skip
    assert Column("minutes", "double") in request.schema
    assert sorted((f.partition, f.rows) for f in request.files) == [("2026-12-01", 2), ("2026-12-02", 1)]
    assert CommitAnswer.from_wire(answer) == CommitAnswer("processed.orders", 1, 3, "data_processing", False)
    info = lake.table("processed.orders")
    assert (info.version, info.rows, info.partition_column) == (1, 3, "day")
    assert {"name": "order_id", "type": "string"} in info.schema


def test_the_catalogs_route_documents_the_contracts_fields() -> None:
    assert set(CommitIn().fields) == set(CommitRequest.FIELDS)
    request = CommitRequest("day", (Column("order_id", "string"),), (StagedFile("p/t/_staging/r/day=1/f.parquet",
                            "1", 2),), job="j", inputs=("raw.x",), accept_schema_change=True,
                            continuous=True)  # fmt: skip
    assert CommitIn().load(request.to_wire()) == request.to_wire()
    assert CommitRequest.from_wire(CommitIn().load(request.to_wire())) == request


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"partition_column": "day", "schema": [], "files": "x", "job": "j"}, "files"),
        ({"partition_column": "day", "schema": [], "files": [{"path": "p", "partition": "1", "rows": -1}], "job": "j"},
         "files[0].rows"),
        ({"partition_column": "day", "schema": [{"name": "a"}], "files": [], "job": "j"}, "schema[0].type"),
        ({"schema": [], "files": [], "job": "j"}, "partition_column"),
        ({"partition_column": "day", "schema": [], "files": [], "job": "j", "inputs": [1]}, "inputs"),
        ({"partition_column": "day", "schema": [], "files": [], "job": "j", "continuous": "yes"}, "continuous"),
    ],
)  # fmt: skip
def test_a_commit_that_breaks_the_contract_is_a_400_naming_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        CommitRequest.from_wire(body)
    assert refused.value.status == 400 and refused.value.field == field


def test_an_answer_without_a_version_is_refused_by_the_writer() -> None:
    with pytest.raises(BadRequest) as refused:
        CommitAnswer.from_wire({"name": "processed.orders", "rows": 3})
    assert refused.value.field == "version"
