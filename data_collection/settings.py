"""Settings of data_collection (section ``data_collection:`` of the YAML file, or ``STRATA_*`` variables)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "data_collection"

    lake_root: Path | None = Field(default=None, description="Root of the lake; default <var_dir>/lake.")
    quarantine_dir: Path | None = Field(default=None, description="Default <var_dir>/data_collection/quarantine.")
    consumer_group: str = "data_collection"
    flush_events: int = Field(default=50_000, ge=1, description="Flush a batch at this many events (or when idle).")
    poll_records: int = Field(default=5_000, ge=1)
    poll_timeout_seconds: float | None = Field(
        default=None, gt=0, description="An empty poll this long means idle; default 0.5 s (local) or 10 s (Kafka)."
    )
    publish_batch_events: int = Field(default=5_000, ge=1, description="Events per publish call of `simulate`.")
    idle_seconds: float = Field(default=1.0, gt=0, description="Pause of the service loop when every topic is idle.")
    retry_seconds: float = Field(default=5.0, gt=0, description="Pause of the service loop after a failed batch.")

    def lake_directory(self) -> Path:
        return self.lake_root if self.lake_root is not None else self.var_dir / "lake"

    def quarantine_directory(self) -> Path:
        if self.quarantine_dir is not None:
            return self.quarantine_dir
        return self.var_dir / "data_collection" / "quarantine"

    def effective_poll_timeout(self) -> float:
        if self.poll_timeout_seconds is not None:
            return self.poll_timeout_seconds
        return 10.0 if self.event_log == "kafka" else 0.5  # Kafka group joins take seconds
