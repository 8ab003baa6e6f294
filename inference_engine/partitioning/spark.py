"""The SparkSession of a partitioned training run, built like data_processing's (any master URL)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from inference_engine.settings import Settings


def build_spark_session(settings: Settings, app_name: str = "strata-partitioned-training") -> SparkSession:
    from pyspark.sql import SparkSession  # heavy: imported only when a partitioned run starts

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
        .config("spark.sql.session.timeZone", "UTC")
        # one Python worker per core trains one node at a time: keep Arrow batches whole per group
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel(settings.spark_log_level)
    return session
