"""One composition root per deployable: bootstrap(settings, *, <port>=None, ...) names every override it takes, so a
misspelt one is an error (it used to be ignored by the engine's app factory); ports are built on first use and
closed newest first."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from strata_kernel.composition import Dependencies
from strata_kernel.settings import StrataSettings

DEPLOYABLES = ["business_logic", "comparative_eval", "data_collection", "data_processing", "inference_engine",
               "data_lake", "ui", "monitoring"]  # fmt: skip


@pytest.mark.parametrize("deployable", DEPLOYABLES)
def test_a_misspelt_override_is_an_error(deployable: str, tmp_path: Path) -> None:
    bootstrap = importlib.import_module(f"{deployable}.bootstrap").bootstrap
    settings = importlib.import_module(f"{deployable}.settings").Settings(var_dir=tmp_path)
    with pytest.raises(TypeError, match="unexpected keyword argument 'evnt_log'"):
        bootstrap(settings, evnt_log=object())


#: the settings an app factory needs to get as far as its composition root
APP_SETTINGS: dict[str, dict[str, Any]] = {
    "comparative_eval": {"operator_token": "t"},
    "inference_engine": {"routing_poll_seconds": 0},
    "monitoring": {"sidecar_component": "business_logic"},
}


@pytest.mark.parametrize("deployable", DEPLOYABLES)
def test_every_app_factory_refuses_a_misspelt_override(deployable: str, tmp_path: Path) -> None:
    create_app = importlib.import_module(f"{deployable}.entrypoints.app").create_app
    settings_class = importlib.import_module(f"{deployable}.settings").Settings
    settings = settings_class(var_dir=tmp_path, log_json=False, **APP_SETTINGS.get(deployable, {}))
    with pytest.raises(TypeError, match="registy"):
        create_app(settings, registy=object())


def test_a_misspelt_data_monitor_override_is_an_error_even_with_the_data_monitors_off(tmp_path: Path) -> None:
    from monitoring.bootstrap import bootstrap
    from monitoring.settings import Settings

    for monitors_on in (True, False):
        settings = Settings(var_dir=tmp_path, sidecar_component="inference_engine", data_monitors=monitors_on)
        with pytest.raises(TypeError, match="refrences"):
            bootstrap(settings, data_overrides={"refrences": object()})


class _Resource:
    def __init__(self, name: str, closed: list[str]) -> None:
        self.name, self._closed = name, closed

    def close(self) -> None:
        self._closed.append(self.name)


def test_ports_are_built_once_on_first_use_and_closed_newest_first() -> None:
    closed: list[str] = []
    built: list[str] = []

    def build(name: str) -> Any:
        built.append(name)
        return _Resource(name, closed)

    given = _Resource("given", closed)
    deps = Dependencies(StrataSettings(), {"given": given, "unused": None})
    first = deps.port("a", lambda: build("a"), closes=True)
    deps.port("b", lambda: build("b"), closes=True)
    assert deps.port("given", lambda: build("given"), closes=True) is given  # an override wins, and is the caller's
    assert built == ["a", "b"] and first.name == "a"
    deps.close()
    assert closed == ["b", "a"]
