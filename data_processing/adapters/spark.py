"""The SparkSession of a batch job, built from settings (any master URL: local[N], spark://, yarn, k8s)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from data_processing.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def build_spark_session(settings: Settings, app_name: str = "strata-data-processing") -> SparkSession:
    from pyspark.sql import SparkSession  # heavy: imported only when a job runs

    # Python workers must be this venv's interpreter; a local master must bind loopback only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if settings.spark_master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master(settings.spark_master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.driver.memory", settings.spark_driver_memory)
        # timestamps are zone-less local wall-clock times (contract): keep them NTZ, never shift them
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel(settings.spark_log_level)
    return session
