"""Settings of the inference engine: the only place that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "inference_engine"

    #: MLflow tracking + registry URI; None = embedded SQLite under var_dir (PostgreSQL: change the URI)
    mlflow_tracking_uri: str | None = None
    #: where new MLflow experiments keep their artifacts; None = ``<var_dir>/mlflow/artifacts``
    mlflow_artifact_root: Path | None = None
    mlflow_experiment: str = "strata-etd"
    lake_root: Path | None = None

    # serving
    host: str = "127.0.0.1"
    port: int = 8003
    workers: int = 1
    threads: int = 8
    models: list[str] = Field(default_factory=lambda: ["etd"])
    serving_alias: str = "production"
    warmup_predictions: int = 3
    load_retry_seconds: float = 5.0
    max_cached_versions: int = 4
    max_instances: int = 1000

    # routing between stable and candidate versions (docs/contracts.md "Routing in the inference engine")
    # (``operator_token`` of StrataSettings is the bearer token of ``PUT /v1/models/{name}/routing``; no token at
    # all = routing changes are refused, 503)
    #: seconds between polls of comparative_eval; 0 = do not poll (pushes only)
    routing_poll_seconds: float = 1.0
    #: log every prediction to the ``inference.predictions`` topic (of ``event_log``)
    prediction_log: bool = True
    #: predictions waiting to be published; beyond it events are dropped (counted), never the request slowed
    prediction_log_queue: int = 10_000
    #: shadow copies waiting for the candidate; beyond it copies are skipped (counted)
    shadow_queue: int = 100
    shadow_workers: int = 1

    # training
    validation_fraction: float = 0.15
    seed: int = 7
    #: OpenMP threads for training; more than the idle cores makes XGBoost far slower (measured 16x on 2 busy cores)
    training_threads: int = 1

    # partitioned models: one Spark application trains every node of a spec's hierarchy
    #: run directories (persisted split, node outcomes, node models); None = ``<var_dir>/inference_engine/partitioned``
    partitioned_runs_dir: Path | None = None
    partition_max_attempts: int = 3
    #: fault-injection hook: node id -> number of attempts that fail (drills and tests of retry/resume)
    partition_inject_failures: dict[str, int] = Field(default_factory=dict)
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4
    spark_driver_memory: str = "2g"
    spark_log_level: str = "WARN"

    def partitioned_runs(self) -> Path:
        return self.partitioned_runs_dir or self.var_dir / "inference_engine" / "partitioned"

    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.path('mlflow', 'mlflow.db').resolve()}"

    def artifact_root(self) -> Path:
        root = self.mlflow_artifact_root or self.var_dir / "mlflow" / "artifacts"
        root.mkdir(parents=True, exist_ok=True)
        return root.resolve()
