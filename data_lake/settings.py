"""Settings of the data lake service (the only module reading the environment)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "data_lake"

    #: root of the lake's Parquet files; default ``<var_dir>/lake``
    lake_root: Path | None = None
    #: SQLAlchemy URL of the catalog; default an SQLite file under ``var_dir``
    catalog_url: str | None = None
    #: attempts at a commit that loses a race with another writer (2 = one retry)
    commit_attempts: int = 2
    #: seconds a file superseded by a commit stays in storage, so a reader that listed the previous version (before
    #: the commit) reads it whole; deleted by the first commit of the table after that
    superseded_retention_seconds: float = 300.0
    #: which engine profiles committed files: ``duckdb`` in this process, or ``spark`` (``spark_master``)
    profile_engine: Literal["duckdb", "spark"] = "duckdb"
    #: when a version's profile is computed: ``background`` (right after the commit is answered), ``sync``
    #: (before answering), ``off`` (on first read); a read always computes a missing profile
    profile_on_commit: Literal["background", "sync", "off"] = "background"
    spark_master: str = "local[2]"
    spark_driver_memory: str = "1g"
    #: ``profile_engine: spark``: cores the lake's Spark application takes from the cluster at most
    #: (``spark.cores.max``, one executor core each): the rest stays free for the data jobs
    profile_spark_cores_max: int = Field(default=1, ge=1)
    #: ``profile_engine: spark``: seconds without a profiling job after which the lake stops its Spark session
    #: and gives its cores back; the next large commit starts one again
    profile_spark_idle_seconds: float = Field(default=120.0, gt=0)
    #: ``profile_engine: spark``: profiling work of fewer rows than this (a small incremental commit, e.g. a
    #: streaming table's) runs on DuckDB in the lake's process, never waiting on a Spark start; the two engines
    #: give the same numbers
    profile_spark_min_rows: int = Field(default=1_000_000, ge=0)
    #: ``python -m data_lake sql``: rows returned at most, seconds before a query is interrupted
    sql_row_limit: int = 1000
    sql_timeout_seconds: float = 120.0

    def resolved_lake_root(self) -> Path:
        return self.lake_root if self.lake_root is not None else self.var_dir / "lake"

    def resolved_catalog_url(self) -> str:
        return self.catalog_url or self.sqlite_url("data_lake/catalog.db")

    def listen_address(self) -> tuple[str, int]:
        """Host and port from ``data_lake_url`` so the service listens where its clients look."""
        parts = urlsplit(self.data_lake_url)
        return parts.hostname or "127.0.0.1", parts.port or 8004
