"""Settings of the UI; the only module that reads the environment (through StrataSettings)."""

from __future__ import annotations

from typing import ClassVar

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "ui"

    #: an ETD quote waits for data_processing and the inference engine behind business_logic
    business_logic_timeout_seconds: float = 5.0
    #: the tree endpoint downloads a registered version's report before answering
    inference_engine_timeout_seconds: float = 10.0
    #: a version's profile is computed on first read when it is missing (seconds on a large table)
    data_lake_timeout_seconds: float = 30.0
    #: where the model pages link a version's MLflow run (``strata mlflow-ui`` serves it there)
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    #: a range query over a day of a busy Prometheus takes a moment; the page asks one panel at a time
    prometheus_timeout_seconds: float = 10.0
