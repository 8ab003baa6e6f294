"""Settings of the `strata` CLI (section ``cli`` of the YAML file)."""

from __future__ import annotations

from typing import ClassVar

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "cli"

    demo_size: str = "small"
    demo_seed: int = 7
    #: how long a starting service may show no progress (no answer, or the same step) before the start is given
    #: up and everything stopped; scaled by the load average per core (a busy machine is slower, not broken)
    ready_timeout_seconds: float = 90.0
    #: gunicorn workers for the hot-path services (the rest run one worker with threads)
    hot_path_workers: int = 2
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
