"""Settings of data_processing (the only place reading the environment)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from strata_kernel.settings import StrataSettings

#: the name its metrics, logs and settings section go by
COMPONENT = "data_processing"


class Settings(StrataSettings):
    section: ClassVar[str] = "data_processing"

    #: any Spark master URL ("local[2]", "spark://host:7077", "yarn"); executors must see lake_root
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4
    spark_driver_memory: str = "1g"
    spark_log_level: str = "WARN"
    #: lake root (default <var_dir>/lake)
    lake_root: Path | None = None
    #: online store URL: "sqlite:///<path>" (default <var_dir>/data_processing/online.db), "redis://host:port/db",
    #: "cassandra://host1,host2[:port]/keyspace"
    online_store_url: str = ""
    #: directory of the feature group definitions (YAML + code); default: the package's feature_groups/
    feature_groups_dir: Path | None = None
    etd_model: str = "etd"
    #: the help-centre chatbot model in the inference engine (``POST /v1/help/answer``)
    help_model: str = "helpbot"
    #: feature directory (SQLAlchemy URL): default sqlite under <var_dir>/data_processing; postgresql+psycopg://...
    directory_url: str = ""
    #: how often the runtime service flushes its in-memory feature-usage counts to the directory
    usage_flush_seconds: float = 10.0

    # near-real-time workers (``python -m data_processing stream <group>``, data_processing/streaming/)
    #: window state + outbox files (default <var_dir>/data_processing/stream, next to the online store)
    stream_state_dir: Path | None = None
    #: port of the worker's /healthz /readyz /metrics (0: none)
    stream_metrics_port: int = 8012
    #: one poll round over the group's topics waits at most this long (split between them)
    stream_poll_timeout_seconds: float = 0.1
    stream_max_batch_events: int = 500
    #: a background thread appends the outbox's rows to the lake every this many seconds, at most N rows a file
    stream_offline_flush_seconds: float = 5.0
    stream_offline_flush_rows: int = 5000
    #: fault injection for crash tests: SIGKILL itself at "after_state" (window state saved, stores not yet
    #: written) or "before_offsets" (stores written, offsets not yet committed) of batch N; "" = never
    stream_fault_point: str = ""
    stream_fault_after_batches: int = 1
    #: point-in-time join engine of training sets: "local" (numpy, one machine), "spark", or "auto"
    #: (Spark from pit_spark_min_rows orders: below that its start-up dominates)
    pit_engine: Literal["auto", "local", "spark"] = "auto"
    pit_spark_min_rows: int = 20_000_000

    def resolved_lake_root(self) -> Path:
        return self.lake_root if self.lake_root is not None else self.var_dir / "lake"

    def resolved_online_store_url(self) -> str:
        return self.online_store_url or f"sqlite:///{self.path('data_processing', 'online.db').resolve()}"

    def resolved_stream_state_dir(self) -> Path:
        return self.stream_state_dir or self.path("data_processing", "stream", ".keep").parent

    def resolved_directory_url(self) -> str:
        return self.directory_url or self.sqlite_url("data_processing/directory.db")

    def resolved_feature_groups_dir(self) -> Path:
        return self.feature_groups_dir or Path(__file__).parent / "feature_groups"
