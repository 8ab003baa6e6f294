"""Typed settings: environment variables with the ``STRATA_`` prefix, then an optional YAML file.

Each process builds exactly one settings object (a subclass of :class:`StrataSettings`) in its
entrypoint and passes it down; nothing else reads the environment.

The sources are read here, on a plain pydantic model, as pydantic-settings' ``BaseSettings`` read them with
``env_prefix="STRATA_"`` and ``env_nested_delimiter="__"`` (variable names in any case; a list or dict field's
value is JSON, and ``STRATA_<FIELD>__<KEY>`` sets one key of a dict field). pydantic-settings imported asyncio,
argparse, its cloud and command-line sources and pydantic's dataclasses in every process, about 5 MB of a
sidecar's 40 (bench footprint --sidecars), to read a dozen variables.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from strata_kernel.contracts.auth import (
    CREDENTIALS_DIR,
    CallerDirectory,
    Credential,
    operator_token_reader,
    service_credential,
)

CONFIG_FILE_VARIABLE = "STRATA_CONFIG_FILE"


ENV_PREFIX = "STRATA_"
#: ``STRATA_CALLER_TOKENS__BUSINESS_LOGIC=...``: one key of a dict field
NESTED_DELIMITER = "__"


class StrataSettings(BaseModel):
    """Settings every Strata process shares. Deployables subclass it and add their own fields.

    ``Settings(**overrides)`` reads the sources: keyword overrides win over the environment, which wins over the
    YAML file of ``STRATA_CONFIG_FILE`` (a dict field's keys are merged across them)."""

    model_config = ConfigDict(extra="ignore", validate_default=True, arbitrary_types_allowed=True)

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

    def __init__(self, **overrides: Any) -> None:
        values = _deep_update(_config_file_values(self.section), _environment_values(type(self)), overrides)
        super().__init__(**values)

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


def _config_file_values(section: str) -> dict[str, Any]:
    """Top-level keys apply to every process; a ``<section>:`` mapping overrides them for one deployable."""
    config_file = os.environ.get(CONFIG_FILE_VARIABLE)
    if not config_file:
        return {}
    path = Path(config_file)
    if not path.is_file():
        from strata_kernel.errors import ConfigurationError

        raise ConfigurationError(f"{CONFIG_FILE_VARIABLE} points to {path}, which is not a file")
    import yaml

    with path.open() as handle:
        data = yaml.safe_load(handle) or {}
    merged = {k: v for k, v in data.items() if not isinstance(v, dict)}
    if section and isinstance(data.get(section), dict):
        merged.update(data[section])
    return merged


def _environment_values(cls: type[StrataSettings]) -> dict[str, Any]:
    """``STRATA_<FIELD>`` of each field, names in any case; a list or dict field's value is JSON, and
    ``STRATA_<FIELD>__<KEY>[__<KEY>...]`` variables build (or add to) a dict field's value."""
    environ = {name.lower(): value for name, value in os.environ.items()}
    values: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        env_name = f"{ENV_PREFIX}{name}".lower()
        value = environ.get(env_name)
        complex_value, parse_failure_allowed = _is_complex(field)
        if not complex_value:
            if value is not None:
                values[name] = value
            continue
        if value is not None:
            try:
                value = json.loads(value)
            except ValueError as exc:
                if not parse_failure_allowed:
                    raise ValueError(f'error parsing value for field "{name}" from the environment') from exc
        nested = _nested(environ, f"{env_name}{NESTED_DELIMITER}".lower())
        if value is None and nested:
            values[name] = nested
        elif value is not None:
            values[name] = _deep_update(value, nested) if isinstance(value, dict) else value
    return values


def _is_complex(field: FieldInfo) -> tuple[bool, bool]:
    """Whether the field's value is JSON in the environment (a list, dict, tuple, set or model), and whether a
    value that is not JSON is passed on as it is (a union of such a type and a plain one, e.g. ``list[str] | None``
    too, as pydantic-settings did)."""
    annotation = field.annotation
    if _complex_type(annotation):
        return True, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_complex_type(arg) for arg in typing.get_args(annotation)), True
    return False, False


def _complex_type(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if not isinstance(origin, type) or issubclass(origin, str | bytes):
        return False
    return issubclass(origin, Mapping | Sequence | AbstractSet | BaseModel)


def _nested(environ: dict[str, str], prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for env_name, value in environ.items():
        if not env_name.startswith(prefix):
            continue
        *keys, last = env_name[len(prefix) :].split(NESTED_DELIMITER)
        target = result
        for key in keys:
            target = target.setdefault(key, {})
        target[last] = value
    return result


def _deep_update(mapping: dict[str, Any], *updates: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` with each of ``updates`` laid over it in turn; dicts under the same key are merged."""
    merged = dict(mapping)
    for update in updates:
        for key, value in update.items():
            if isinstance(merged.get(key), dict) and isinstance(value, dict):
                merged[key] = _deep_update(merged[key], value)
            else:
                merged[key] = value
    return merged


S = TypeVar("S", bound=StrataSettings)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build one settings object; keyword overrides win (tests use them instead of the environment)."""
    return cls(**overrides)
