"""Spark reads a lake table version as the catalog lists it: after an overwrite, the new version's rows only (the
superseded files still lie in the table's directories for the retention period), and a reader that listed the
previous version before the overwrite still reads that version whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.lake_reads import TABLE, generation_table
from data_lake.entrypoints.app import create_app
from data_lake.settings import Settings
from data_processing.jobs.lake_io import read_arrow, read_table
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import service_credential_for

pytestmark = pytest.mark.spark


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[LakeClient]:
    """The real catalog (SQLite, default retention) in-process, called as data_processing."""
    settings = Settings(var_dir=tmp_path / "var", profile_on_commit="off")
    app = create_app(settings)
    credential = service_credential_for(settings, "data_processing")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    yield LakeClient(settings.resolved_lake_root(), catalog)
    catalog.close()


def generations(frame: Any) -> list[tuple[int, int]]:
    return sorted((row["generation"], row["count"]) for row in frame.groupBy("generation").count().collect())


def test_spark_reads_the_listed_version_not_the_directory(spark: Any, lake: LakeClient) -> None:
    lake.write_arrow(TABLE, generation_table(1, 80), partition_column="nominal_date", job="j", inputs=[],
                     mode="overwrite")  # fmt: skip
    listed_before = lake.table(TABLE)
    lake.write_arrow(TABLE, generation_table(2, 40), partition_column="nominal_date", job="j", inputs=[],
                     mode="overwrite")  # fmt: skip
    current = lake.table(TABLE)

    on_disk = sorted(current.location.glob("nominal_date=*/*.parquet"))
    assert len(on_disk) == 16 and len(current.files) == 8  # v1's files are kept for the retention period
    frame = read_table(spark, current)
    assert generations(frame) == [(2, 40)]
    assert frame.select("nominal_date").distinct().count() == 8  # the partition column comes from the paths
    assert generations(read_table(spark, listed_before)) == [(1, 80)]  # a reader of v1 still reads v1 whole
    assert read_arrow(current).column("generation").to_pylist() == [2] * 40
