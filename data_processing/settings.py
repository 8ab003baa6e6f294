"""Settings of data_processing (the only place reading the environment)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "data_processing"

    #: any Spark master URL ("local[2]", "spark://host:7077", "yarn"); executors must see lake_root
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4
    spark_driver_memory: str = "1g"
    spark_log_level: str = "WARN"
    #: lake root (default <var_dir>/lake)
    lake_root: Path | None = None
    #: online store URL: "sqlite:///<path>" (default <var_dir>/data_processing/online.db); redis/cassandra later
    online_store_url: str = ""
    #: directory of the feature group definitions (YAML + code); default: the package's feature_groups/
    feature_groups_dir: Path | None = None
    etd_model: str = "etd"

    def resolved_lake_root(self) -> Path:
        return self.lake_root if self.lake_root is not None else self.var_dir / "lake"

    def resolved_online_store_url(self) -> str:
        return self.online_store_url or f"sqlite:///{self.path('data_processing', 'online.db').resolve()}"

    def resolved_feature_groups_dir(self) -> Path:
        return self.feature_groups_dir or Path(__file__).parent / "feature_groups"
