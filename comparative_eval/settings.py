"""Settings of comparative_eval; the only module that reads the environment (through StrataSettings)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import model_validator

from strata_kernel.settings import StrataSettings

DEFAULT_DATABASE_FILE = "comparative_eval/deployments.db"
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


class Settings(StrataSettings):
    section: ClassVar[str] = "comparative_eval"

    #: SQLAlchemy URL; empty = ``sqlite:///<var_dir>/comparative_eval/deployments.db``; PostgreSQL by URL
    database_url: str = ""
    #: bearer token of mutating calls (and of the routing push to the engine); empty = generated once into
    #: ``<var_dir>/comparative_eval/operator_token`` (mode 0600)
    operator_token: str | None = None
    #: per-model change lock: "local" (thread + file lock under var_dir) or "redis" (several hosts)
    lock_backend: str = "local"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: how long a change waits for the model's lock before answering 409
    lock_timeout_seconds: float = 5.0
    #: a Redis lock expires after this long even if its holder died
    lock_ttl_seconds: float = 60.0
    #: analysis templates ``<model>.yaml`` (``default.yaml`` for models without one)
    templates_dir: Path = PACKAGE_TEMPLATES
    #: validation before traffic: the last N logged instances of the model ...
    validation_sample_size: int = 200
    #: ... else a JSON file ``<dir>/<model>.json`` (a list of instances); empty = ``<var_dir>/comparative_eval/samples``
    validation_samples_dir: Path | None = None
    #: engine calls: validation loads and warms a version, so it gets a longer budget than the routing push
    engine_validate_timeout_seconds: float = 60.0
    engine_push_timeout_seconds: float = 5.0
    #: run the consumer and the analysis loop in the HTTP service (in one process at a time: the holder of the
    #: background lease, a file lock per host or a Redis lease with lock_backend redis)
    analysis_in_service: bool = True
    #: how often the analysis loop looks for due verdicts (each template has its own interval)
    analysis_tick_seconds: float = 1.0
    consumer_poll_seconds: float = 0.5

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / DEFAULT_DATABASE_FILE).resolve()}"
        if self.validation_samples_dir is None:
            self.validation_samples_dir = self.var_dir / "comparative_eval" / "samples"
        return self
