"""strata_kernel.spark.build_session: what every Strata Spark job shares."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.spark
def test_files_a_spark_job_writes_are_not_readable_by_other_users(tmp_path: Path) -> None:
    """Strata's processes keep their state private (umask 027); Hadoop's file system applies its own umask (022)
    to what Spark writes, so the lake's feature and training files were 0644."""
    from strata_kernel.spark import build_session

    session = build_session("strata-umask-test", master="local[1]", shuffle_partitions=1, driver_memory="512m")
    try:
        session.createDataFrame([(1, "a"), (2, "b")], ["n", "s"]).write.parquet(str(tmp_path / "out"))
    finally:
        session.stop()

    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in (tmp_path / "out").rglob("*")}
    assert any(name.endswith(".parquet") for name in modes)
    assert all(int(mode, 8) & 0o007 == 0 for mode in modes.values()), modes
