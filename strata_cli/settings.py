"""Settings of the `strata` CLI (section ``cli`` of the YAML file)."""

from __future__ import annotations

from typing import ClassVar

from strata_kernel.settings import StrataSettings


class Settings(StrataSettings):
    section: ClassVar[str] = "cli"

    demo_size: str = "small"
    demo_seed: int = 7
    ready_timeout_seconds: float = 180.0
    #: gunicorn workers for the hot-path services (the rest run one worker with threads)
    hot_path_workers: int = 2
    sidecar_base_port: int = 9101
    #: bearer token of mutating deployment calls (STRATA_OPERATOR_TOKEN); when unset the CLI reads
    #: ``<var_dir>/comparative_eval/operator_token``, the file comparative_eval keeps its token in
    operator_token: str | None = None
    #: a deploy validates the candidate (load, warm, predict) before it answers: allow it time
    operator_timeout_seconds: float = 120.0
