"""Typed settings: environment variables with the ``STRATA_`` prefix, then an optional YAML file.

Each process builds exactly one settings object (a subclass of :class:`StrataSettings`) in its
entrypoint and passes it down; nothing else reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_VARIABLE = "STRATA_CONFIG_FILE"


class StrataSettings(BaseSettings):
    """Settings every Strata process shares. Deployables subclass it and add their own fields."""

    model_config = SettingsConfigDict(env_prefix="STRATA_", extra="ignore", env_nested_delimiter="__")

    #: the YAML section this process reads (besides the top-level shared keys)
    section: ClassVar[str] = ""

    var_dir: Path = Field(default=Path("var"), description="Root of every embedded store.")
    log_level: str = "INFO"
    log_json: bool = True

    # where each service listens / is reached; one place so the CLI, services and tests agree
    ui_url: str = "http://127.0.0.1:8000"
    business_logic_url: str = "http://127.0.0.1:8001"
    data_processing_url: str = "http://127.0.0.1:8002"
    inference_engine_url: str = "http://127.0.0.1:8003"
    data_lake_url: str = "http://127.0.0.1:8004"
    data_collection_url: str = "http://127.0.0.1:8005"
    comparative_eval_url: str = "http://127.0.0.1:8006"
    #: the help-centre web site (the demo's static one is served by data_collection serve-helpcentre)
    help_centre_url: str = "http://127.0.0.1:8007"

    # event log: "local" (files under var/) or "kafka"
    event_log: str = "local"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"

    http_timeout_seconds: float = 2.0
    http_retries: int = 2

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file:
            sources.append(_SectionedYamlSource(settings_cls, Path(config_file), cls.section))
        return tuple(sources)

    def path(self, *parts: str) -> Path:
        """A path under ``var_dir``, created on demand (the embedded default needs no set-up)."""
        target = self.var_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.path(name).resolve()}"


class _SectionedYamlSource(YamlConfigSettingsSource):
    """Top-level keys apply to every process; a ``<section>:`` mapping overrides them for one deployable."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, section: str) -> None:
        if not path.is_file():
            from strata_kernel.errors import ConfigurationError

            raise ConfigurationError(f"{CONFIG_FILE_VARIABLE} points to {path}, which is not a file")
        self._section = section
        super().__init__(settings_cls, yaml_file=path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:  # type: ignore[override]
        data = super()._read_file(file_path) or {}
        merged = {k: v for k, v in data.items() if not isinstance(v, dict)}
        if self._section and isinstance(data.get(self._section), dict):
            merged.update(data[self._section])
        return merged


S = TypeVar("S", bound=StrataSettings)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build one settings object; keyword overrides win (tests use them instead of the environment)."""
    return cls(**overrides)
