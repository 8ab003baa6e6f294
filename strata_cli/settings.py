"""Settings of the `strata` CLI (section ``cli`` of the YAML file)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "cli"

    demo_size: str = "small"
    demo_seed: int = 7
    #: how long a starting service may show no progress (no answer, or the same step) before the start is given
    #: up and everything stopped; scaled by the load average per core (a busy machine is slower, not broken)
    ready_timeout_seconds: float = 90.0
    #: gunicorn workers for the hot-path services (the rest run one worker with threads). One each on a 2-core
    #: host: the three hot services already run in parallel, and a second worker each only added processes fighting
    #: for the same cores (bench etd: ETD at c=32 107 vs 38 req/s, 0 vs 100 errors; 470 MB less RSS)
    hot_path_workers: int = 1
    #: sidecar of service number n (ui 0, business_logic 1, ... stream worker 12) listens on base + n
    sidecar_base_port: int = 9100
    #: bearer token of mutating deployment calls (STRATA_OPERATOR_TOKEN); when unset the CLI reads
    #: ``<var_dir>/comparative_eval/operator_token``, the file comparative_eval keeps its token in
    operator_token: str | None = None
    #: the MLflow registry `strata mlflow-ui` shows; None = ``sqlite:///<var_dir>/mlflow/mlflow.db`` (the embedded one)
    mlflow_tracking_uri: str | None = None
    #: where `strata mlflow-ui` listens by default (and the UI's model pages link runs to)
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    #: a deploy validates the candidate (load, warm, predict) before it answers: allow it time
    operator_timeout_seconds: float = 120.0
    #: gunicorn workers of the other services but data_collection (one collector loop per process: one worker)
    service_workers: int = 1
    #: the lake's files (the services' ``lake_root``); None = ``<var_dir>/lake``. `strata reproduce` retrains a
    #: version from the table versions it read there when it was trained on this lake
    lake_root: Path | None = None

    def lake(self) -> Path:
        return (self.lake_root or self.var_dir / "lake").resolve()


class ClusterSettings(StrataSettings):
    """What `strata cluster up` starts on loopback (section ``cluster`` of deploy/cluster.yaml); the services
    find the same addresses in their own sections of that file."""

    section: ClassVar[str] = "cluster"

    #: logs, pids, Spark work directories, MLflow's served artifacts (outside var_dir: a build wipes var_dir)
    cluster_dir: Path = Path("var-cluster")
    spark_master: str = "spark://127.0.0.1:7077"
    spark_master_webui_port: int = 8080
    spark_workers: int = 2
    spark_worker_cores: int = 1
    spark_worker_memory: str = "1g"
    #: worker n (1, 2, ...) serves its web UI on base + n - 1
    spark_worker_webui_base_port: int = 8081
    #: partitions of every topic of strata_kernel.contracts.topics, created by `up`
    kafka_partitions: int = 3
    mlflow_tracking_uri: str = "http://127.0.0.1:5000"
    #: MLflow's backend store (runs, registry): created empty by `up`
    mlflow_backend_store_uri: str = "postgresql+psycopg://postgres@127.0.0.1:5432/strata_cluster_mlflow"
    mlflow_workers: int = 2
    #: PostgreSQL databases of the relational stores: dropped and created empty by `up`
    databases: list[str] = Field(default_factory=list)
    #: Redis databases (online store, deployment lock): flushed by `up`
    redis_urls: list[str] = Field(default_factory=list)
    #: how long one component may take to become ready
    ready_timeout_seconds: float = 180.0
