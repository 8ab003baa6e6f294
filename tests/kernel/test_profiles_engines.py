"""DuckDB and Spark profile the same files with one definition and the same numbers.

Identical between the engines: rows, partitions, nulls, NaNs, min, max, distinct estimates (HLL unions are
order-free), top categories (exact below 768 distinct values). Within a stated error: mean and standard deviation
(floating-point summation order, 1e-9 relative) and quantiles/histograms (KLL is randomised: each engine's
quantile is within 2x the sketch's 99%-confidence rank error of the exact rank).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from strata_kernel.profiles import merge_profiles, profile_arrow
from strata_kernel.profiles.engines import FileRef, profile_files_duckdb, profile_files_spark
from strata_kernel.profiles.sketches import kll_rank_error
from tests.kernel.test_profiles import orders

EXACT = ("count", "nulls", "nan", "minimum", "maximum")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[FileRef]:
    root = tmp_path_factory.mktemp("lake") / "processed" / "orders"
    refs = []
    for day, seed in (("2026-11-01", 1), ("2026-11-02", 2), ("2026-11-03", 3)):
        target = root / f"nominal_date={day}" / "part-0.parquet"
        target.parent.mkdir(parents=True)
        data = orders(n=8_000, seed=seed)
        if day == "2026-11-03":  # a newer file with one more column: older files count as missing there
            data = data.append_column("tip", pa.array(np.full(8_000, 1.5)))
        pq.write_table(data, target, row_group_size=3_000)
        refs.append(FileRef(str(target), day))
    return refs


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    from strata_kernel.spark import build_session

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    existing = SparkSession.getActiveSession()  # another suite's shared session: reuse it, leave it running
    session = existing or build_session("strata-profile-tests", master="local[2]", shuffle_partitions=2,
                                        driver_memory="1g")  # fmt: skip
    yield session
    if existing is None:
        session.stop()


def test_duckdb_profiles_each_file_like_the_builder(files: list[FileRef]) -> None:
    profiles = profile_files_duckdb(files, partition_column="nominal_date")
    assert list(profiles) == [file.path for file in files]
    for file in files:
        expected = profile_arrow(pq.read_table(file.path))
        got = profiles[file.path]
        assert got.partitions[0].value == file.partition and got.partitions[0].rows == expected.rows
        for column in expected.columns:
            mine = got.column(column.name)
            assert mine is not None
            assert [getattr(mine, f) for f in EXACT] == [getattr(column, f) for f in EXACT]
            assert mine.summary["distinct"] == column.summary["distinct"]


@pytest.mark.spark
def test_spark_and_duckdb_give_the_same_numbers(spark: Any, files: list[FileRef]) -> None:
    duck = merge_profiles(list(profile_files_duckdb(files, partition_column="nominal_date").values()))
    on_spark = merge_profiles(list(profile_files_spark(spark, files, partition_column="nominal_date").values()))
    assert (on_spark.rows, on_spark.partitions) == (duck.rows, duck.partitions)
    assert [c.name for c in on_spark.columns] == [c.name for c in duck.columns]
    everything = pa.concat_tables([pq.read_table(f.path) for f in files], promote_options="default")
    epsilon = kll_rank_error(duck.params)
    for column in duck.columns:
        other = on_spark.column(column.name)
        assert other is not None
        assert [getattr(other, f) for f in EXACT] == [getattr(column, f) for f in EXACT], column.name
        assert other.summary.get("distinct") == column.summary.get("distinct"), column.name
        assert other.summary.get("top") == column.summary.get("top"), column.name
        if column.moments is not None and other.moments is not None:
            assert other.moments.mean == pytest.approx(column.moments.mean, rel=1e-9)
            assert other.summary["std"] == pytest.approx(column.summary["std"], rel=1e-9)
        if column.kind == "numeric" and column.present:
            values = np.sort(everything.column(column.name).drop_null().to_numpy().astype(float))
            values = values[np.isfinite(values)]
            for engine in (column, other):
                for key, quantile in engine.summary["quantiles"].items():
                    rank = np.searchsorted(values, quantile, side="right") / len(values)
                    low = np.searchsorted(values, quantile, side="left") / len(values)
                    target = int(key[1:]) / 100
                    assert low - 2 * epsilon <= target <= rank + 2 * epsilon, (column.name, key)


def test_profile_files_of_nothing_is_nothing(tmp_path: Path) -> None:
    assert profile_files_duckdb([]) == {}


@pytest.mark.spark
def test_the_lake_profile_engines_agree(spark: Any, files: list[FileRef]) -> None:
    """Both adapters of data_lake's ProfileEngine port, on lake-relative paths: one contract."""
    from data_lake.adapters.profile_engines import DuckDBProfileEngine, SparkProfileEngine
    from data_lake.domain.commits import DataFile

    root = Path(files[0].path).parents[3]
    data_files = [DataFile(str(Path(f.path).relative_to(root)), f.partition or "", 8_000) for f in files]
    duck = DuckDBProfileEngine(root).profile_files(data_files, "nominal_date")
    on_spark = SparkProfileEngine(root, lambda: spark).profile_files(data_files, "nominal_date")
    assert set(duck) == set(on_spark) == {file.path for file in data_files}
    for path, profile in duck.items():
        assert on_spark[path].rows == profile.rows and on_spark[path].partitions == profile.partitions
