"""The lake adapter asks the catalog where the training set lives (catalog behind an httpx mock transport)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from inference_engine.adapters.lake import LakeTrainingData
from strata_kernel.errors import NotFound
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient


def catalog(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/tables/processed.etd_training_set":
        return httpx.Response(
            200,
            json={
                "name": "processed.etd_training_set",
                "zone": "processed",
                "location": "processed/etd_training_set",
                "partition_column": "nominal_date",
                "schema": [],
                "version": 5,
                "rows": 10,
                "partitions": [],
                "commits": [],
                "files": [
                    {
                        "path": "processed/etd_training_set/nominal_date=2024-05-01/part-r1-0.parquet",
                        "partition": "2024-05-01",
                        "rows": 10,
                    }
                ],
            },
        )
    return httpx.Response(404, json={"error": {"code": "table_not_found", "message": "no table processed.nope"}})


@pytest.fixture
def source(tmp_path: Path) -> LakeTrainingData:
    client = ServiceClient("data_lake", "http://lake", transport=httpx.MockTransport(catalog))
    return LakeTrainingData(LakeClient(tmp_path / "lake", client))


def test_locates_the_table_under_the_lake_root_with_its_version(source: LakeTrainingData, tmp_path: Path) -> None:
    table = source.locate("processed.etd_training_set")

    assert table.location == (tmp_path / "lake").resolve() / "processed" / "etd_training_set"
    assert (table.name, table.version) == ("processed.etd_training_set", 5)
    assert table.files == (table.location / "nominal_date=2024-05-01" / "part-r1-0.parquet",)  # the version's files


def test_an_unknown_table_is_the_catalogs_404(source: LakeTrainingData) -> None:
    with pytest.raises(NotFound, match=r"processed\.nope"):
        source.locate("processed.nope")
