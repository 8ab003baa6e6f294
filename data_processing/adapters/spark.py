"""The SparkSession of a batch job, built from settings (any master URL: local[N], spark://, yarn, k8s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_processing.settings import Settings
from strata_kernel.spark import build_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# timestamps are zone-less local wall-clock times (contract): keep them NTZ, never shift them
_NAIVE_TIMESTAMPS = {
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}


def build_spark_session(settings: Settings, app_name: str = "strata-data-processing") -> SparkSession:
    return build_session(
        app_name,
        master=settings.spark_master,
        shuffle_partitions=settings.spark_shuffle_partitions,
        driver_memory=settings.spark_driver_memory,
        log_level=settings.spark_log_level,
        config=_NAIVE_TIMESTAMPS,
    )
