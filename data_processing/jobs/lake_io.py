"""Reading and writing lake tables from Spark through the kernel's LakeClient (catalog = lineage)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from strata_kernel.errors import Conflict
from strata_kernel.lake import LakeClient, TableInfo, committed_files, new_run_id

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PARTITION_COLUMN = "nominal_date"


def table_ref(info: TableInfo) -> str:
    """How a job names one version of an input in its commit's lineage: ``raw.order_placed@v3``."""
    return f"{info.name}@v{info.version}"


def require_rows(info: TableInfo, hint: str) -> None:
    if info.rows <= 0:
        raise Conflict(f"{info.name} has no rows yet: {hint}")


def read_arrow(info: TableInfo) -> pa.Table:
    """The files of the table version ``info`` names, on one machine (DuckDB)."""
    import duckdb

    with duckdb.connect() as con:
        table = con.sql(
            "SELECT * FROM read_parquet(?, hive_partitioning = false)", params=[committed_files(info)]
        ).arrow()
    return table if isinstance(table, pa.Table) else table.read_all()


def read_table(spark: SparkSession, info: TableInfo) -> DataFrame:
    """The files of the table version ``info`` names; the partition column comes from their paths."""
    return spark.read.option("basePath", str(info.location)).parquet(*committed_files(info))


def write_table(lake: LakeClient, frame: DataFrame, table: str, *, job: str, inputs: list[str]) -> dict[str, Any]:
    """Write ``frame`` partitioned by nominal_date into the table's staging dir, then commit it (overwrite)."""
    staging = lake.staging_dir(table, new_run_id())
    frame.write.mode("overwrite").partitionBy(PARTITION_COLUMN).parquet(str(staging))
    return lake.commit_staged(
        table, staging, partition_column=PARTITION_COLUMN, job=job, inputs=inputs, mode="overwrite"
    )
