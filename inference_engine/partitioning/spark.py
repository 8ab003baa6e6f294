"""The SparkSession of a partitioned training run (any master URL), built by the kernel like every job's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strata_kernel.spark import build_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from inference_engine.settings import Settings


def build_spark_session(settings: Settings, app_name: str = "strata-partitioned-training") -> SparkSession:
    return build_session(
        app_name,
        master=settings.spark_master,
        shuffle_partitions=settings.spark_shuffle_partitions,
        driver_memory=settings.spark_driver_memory,
        log_level=settings.spark_log_level,
        # one Python worker per core trains one node at a time: keep Arrow batches whole per group
        config={"spark.sql.execution.arrow.pyspark.enabled": "true"},
    )
