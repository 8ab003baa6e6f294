"""A file pandas wrote (nanosecond timestamps) breaks Spark; landed with `data_lake load` it reads fine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from data_lake.bootstrap import bootstrap
from data_lake.loading import Loader
from data_lake.settings import Settings as LakeSettings

pytestmark = pytest.mark.spark


def test_a_pandas_file_breaks_spark_until_it_is_landed_in_microseconds(spark: Any, tmp_path: Path) -> None:
    started = pd.to_datetime(["2025-01-02 08:00:00.5", "2025-01-03 09:00:00"], format="ISO8601")
    pd.DataFrame({"trip_id": ["t-1", "t-2"], "started_at": started}).to_parquet(tmp_path / "trips.parquet")
    with pytest.raises(Exception, match="TIMESTAMP\\(NANOS"):
        spark.read.parquet(str(tmp_path / "trips.parquet")).collect()

    settings = LakeSettings(var_dir=tmp_path / "var", profile_on_commit="off")
    loader = Loader(bootstrap(settings).catalog, settings.resolved_lake_root())
    loader.load(loader.plan(tmp_path / "trips.parquet", "raw.trips", ["started_at=Europe/Madrid"]))

    rows = spark.read.parquet(str(settings.resolved_lake_root() / "raw" / "trips")).orderBy("trip_id").collect()
    assert [row["trip_id"] for row in rows] == ["t-1", "t-2"]
    # Spark reads instants; the session's zone is UTC: 08:00:00.5 in Madrid (CET, +1) is 07:00:00.5 UTC
    assert rows[0]["started_at"].replace(tzinfo=UTC) == datetime(2025, 1, 2, 7, 0, 0, 500000, tzinfo=UTC)
