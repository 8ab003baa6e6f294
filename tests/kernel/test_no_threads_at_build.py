"""Building an app starts no thread: background work starts after the fork (strata_kernel.serving) or when a test
asks for it (strata_kernel.background.start) — never at import or inside create_app by accident."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from strata_kernel import background


def _engine_overrides(tmp_path: Path) -> dict[str, Any]:
    from tests.inference_engine.inference_fakes import FakeRegistry

    return {"registry": FakeRegistry(tmp_path / "models")}


BUILDS: dict[str, tuple[dict[str, Any], Callable[[Path], dict[str, Any]]]] = {
    "business_logic": ({}, lambda _: {}),
    "comparative_eval": ({"operator_token": "t", "analysis_in_service": True}, lambda _: {}),
    "data_collection": ({}, lambda _: {}),
    "data_processing": ({}, lambda _: {}),
    "inference_engine": ({"routing_poll_seconds": 1.0}, _engine_overrides),
    "data_lake": ({}, lambda _: {}),
    "ui": ({}, lambda _: {}),
    "monitoring": ({"sidecar_component": "business_logic"}, lambda _: {}),
}


@pytest.mark.parametrize("deployable", list(BUILDS))
def test_building_an_app_starts_no_thread_and_the_loops_start_when_asked(deployable: str, tmp_path: Path) -> None:
    fields, overrides = BUILDS[deployable]
    create_app = importlib.import_module(f"{deployable}.entrypoints.app").create_app
    settings_class = importlib.import_module(f"{deployable}.settings").Settings

    def build() -> Any:
        return create_app(settings_class(var_dir=tmp_path / "var", log_json=False, **fields), **overrides(tmp_path))

    build()  # first build: imports, and whatever a library starts once per process
    before = set(threading.enumerate())
    app = build()
    assert set(threading.enumerate()) - before == set()
    loops = app.extensions.get(background.EXTENSION)
    if loops is not None:
        background.start(app)
        try:
            assert {loop.name for loop in loops.loops} <= {t.name for t in threading.enumerate()}
        finally:
            background.stop(app)
