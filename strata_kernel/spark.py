"""The one way a Strata job builds its SparkSession: any master URL (local[N], spark://, yarn, k8s), same code."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def build_session(
    app_name: str,
    *,
    master: str,
    shuffle_partitions: int,
    driver_memory: str,
    log_level: str = "WARN",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A session with the settings every Strata job needs, plus the job's own ``config``."""
    from pyspark.sql import SparkSession  # heavy: imported only when a job runs

    # Python workers must be this venv's interpreter; a local master must bind loopback only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        # instants land as Parquet TIMESTAMP(MICROS, adjusted to UTC), what every reader reads as an instant
        # (Spark's default, INT96, reads as a naive time elsewhere)
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # Hadoop's file system applies its own umask (022) to what it writes: keep the lake private like every
        # other state file of Strata (umask 027: files 0640, directories 0750)
        .config("spark.hadoop.fs.permissions.umask-mode", "027")
    )
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(log_level)
    return session
