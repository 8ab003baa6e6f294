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

from strata_kernel.contracts.auth import (
    CREDENTIALS_DIR,
    CallerDirectory,
    Credential,
    operator_token_reader,
    service_credential,
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
    #: Prometheus and Alertmanager: `strata run` starts them here; the UI's /operations page reads Prometheus
    prometheus_url: str = "http://127.0.0.1:9090"
    alertmanager_url: str = "http://127.0.0.1:9093"

    # event log: "local" (files under var/) or "kafka"
    event_log: str = "local"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"

    #: model declarations (``<name>.yaml``, strata_kernel.contracts.model_spec); None = the repository's model_specs/
    model_specs_dir: Path | None = None

    http_timeout_seconds: float = 2.0
    http_retries: int = 2

    # who calls whom (strata_kernel.contracts.auth): one credential per deployable, the operator's token
    #: this process's own service token; empty = ``<credentials_dir>/<section>.token`` (generated at first use)
    service_token: str = ""
    #: tokens of callers this service accepts, besides their files: ``{caller: token}``
    #: (``STRATA_CALLER_TOKENS__BUSINESS_LOGIC=...``)
    caller_tokens: dict[str, str] = Field(default_factory=dict)
    #: where token files live; None = ``<var_dir>/credentials``
    credentials_dir: Path | None = None
    #: the operator's bearer token (STRATA_OPERATOR_TOKEN); None = ``<var_dir>/comparative_eval/operator_token``,
    #: the file comparative_eval generates at first start
    operator_token: str | None = None

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

    def resolved_model_specs_dir(self) -> Path:
        from strata_kernel.model_specs import default_specs_dir

        return self.model_specs_dir or default_specs_dir()

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.path(name).resolve()}"

    def credentials_directory(self) -> Path:
        return self.credentials_dir or self.var_dir / CREDENTIALS_DIR

    def service_credential(self) -> Credential:
        """This deployable's credential for calls to other deployables (its section names the caller)."""
        return service_credential(self.section, self.credentials_directory(), self.service_token)

    def caller_directory(self) -> CallerDirectory:
        """The credentials this service accepts: the deployables' and the operator's."""
        operator = operator_token_reader(self.operator_token, self.var_dir)
        return CallerDirectory(self.credentials_directory(), configured=self.caller_tokens, operator=operator)


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
