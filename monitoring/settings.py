"""Settings of the monitoring deployable (the only place that reads the environment)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "monitoring"

    sidecar_component: str = Field(default="", description="Component the sidecar watches, e.g. business_logic.")
    sidecar_target_url: str = Field(default="", description="Where the component answers; default its local port.")
    sidecar_host: str = "127.0.0.1"
    sidecar_port: int = Field(default=0, description="0 = the component's default sidecar port (9100 + offset).")
    probe_interval_seconds: float = Field(default=5.0, gt=0)
    probe_timeout_seconds: float = Field(default=1.0, gt=0)
    # data monitors (docs/monitoring.md): the inference engine's and data_processing's sidecars read the topics
    data_monitors: bool = Field(default=True, description="Run the data monitors of the watched component.")
    engine_url: str = Field(
        default="", description="Where the engine serves reference profiles (default: inference_engine_url)."
    )
    monitor_poll_seconds: float = Field(default=1.0, gt=0, description="Seconds between reads of the topics.")
    monitor_evaluate_seconds: float = Field(default=5.0, gt=0, description="Seconds between judgements.")
    monitor_min_samples: int = Field(default=500, ge=1, description="Rows a window needs before it is judged.")
    monitor_min_reference_rows: int = Field(default=1000, ge=1, description="Reference rows a window's hours need.")
    monitor_skew_sample_every: int = Field(default=5, ge=0, description="Compare every n-th served vector with its "
                                           "offline values (0: no skew monitor).")  # fmt: skip
