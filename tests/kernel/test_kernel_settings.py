"""strata_kernel.settings: environment prefix, sectioned YAML file, precedence, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from strata_kernel.errors import ConfigurationError
from strata_kernel.settings import StrataSettings, load_settings


class DemoSettings(StrataSettings):
    section: ClassVar[str] = "demo"

    batch_size: int = 10


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("STRATA_"):
            monkeypatch.delenv(name)


def _config_file(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "strata.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_defaults_need_no_configuration() -> None:
    settings = load_settings(DemoSettings)
    assert settings.event_log == "local"
    assert settings.business_logic_url == "http://127.0.0.1:8001"
    assert settings.batch_size == 10


def test_environment_variables_use_the_strata_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_BATCH_SIZE", "64")
    monkeypatch.setenv("STRATA_EVENT_LOG", "kafka")
    monkeypatch.setenv("BATCH_SIZE", "1")  # unprefixed: ignored

    settings = load_settings(DemoSettings)

    assert (settings.batch_size, settings.event_log) == (64, "kafka")


def test_yaml_section_overrides_top_level_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"log_level": "WARNING", "batch_size": 20, "demo": {"batch_size": 30}, "other": {"batch_size": 40}}
    monkeypatch.setenv("STRATA_CONFIG_FILE", str(_config_file(tmp_path, config)))

    settings = load_settings(DemoSettings)

    assert (settings.log_level, settings.batch_size) == ("WARNING", 30)


def test_environment_beats_yaml_and_overrides_beat_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_CONFIG_FILE", str(_config_file(tmp_path, {"demo": {"batch_size": 30}})))
    monkeypatch.setenv("STRATA_BATCH_SIZE", "50")

    assert load_settings(DemoSettings).batch_size == 50
    assert load_settings(DemoSettings, batch_size=70).batch_size == 70


def test_missing_config_file_is_a_clear_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope.yaml"
    monkeypatch.setenv("STRATA_CONFIG_FILE", str(missing))

    with pytest.raises(ConfigurationError, match=f"STRATA_CONFIG_FILE points to {missing}, which is not a file"):
        load_settings(DemoSettings)


def test_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("STRATA_BATCH_SIZE", "many")
    with pytest.raises(ValidationError, match="batch_size"):
        load_settings(DemoSettings)


def test_path_creates_parents_under_var_dir(tmp_path: Path) -> None:
    settings = load_settings(DemoSettings, var_dir=tmp_path / "var")

    target = settings.path("store", "db.sqlite")

    assert target == tmp_path / "var" / "store" / "db.sqlite"
    assert target.parent.is_dir()
    assert settings.sqlite_url("x.db") == f"sqlite:///{(tmp_path / 'var' / 'x.db').resolve()}"


class ListSettings(StrataSettings):
    section: ClassVar[str] = "demo"

    hosts: list[str] = ["a"]
    weights: dict[str, int] = {}


def test_a_dict_field_takes_json_and_one_key_per_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``STRATA_CALLER_TOKENS__BUSINESS_LOGIC=...`` (as pydantic-settings' nested delimiter read it): the keys of a
    dict field merge across a JSON value, the variables of its keys, the YAML file and the overrides."""
    config: dict[str, object] = {"demo": {"weights": {"yaml": 1, "both": 1}}}
    monkeypatch.setenv("STRATA_CONFIG_FILE", str(_config_file(tmp_path, config)))
    monkeypatch.setenv("STRATA_CALLER_TOKENS__BUSINESS_LOGIC", "t-bl")
    monkeypatch.setenv("strata_caller_tokens__ui", "t-ui")  # names in any case
    monkeypatch.setenv("STRATA_WEIGHTS", '{"json": 2, "both": 2}')
    monkeypatch.setenv("STRATA_WEIGHTS__VAR", "3")
    monkeypatch.setenv("STRATA_HOSTS", '["x", "y"]')

    settings = load_settings(ListSettings, weights={"given": 4})

    assert settings.caller_tokens == {"business_logic": "t-bl", "ui": "t-ui"}
    assert settings.weights == {"yaml": 1, "both": 2, "json": 2, "var": 3, "given": 4}
    assert settings.hosts == ["x", "y"]


def test_a_list_that_is_not_json_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_HOSTS", "x,y")
    with pytest.raises(ValueError, match='field "hosts"'):
        load_settings(ListSettings)
