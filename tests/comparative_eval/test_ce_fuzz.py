"""Schemathesis over comparative evaluation's OpenAPI document (tests/fuzz.py): no 5xx, answers as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from comparative_eval.entrypoints.app import create_app
from tests.comparative_eval.fakes import FakeClock, FakeEngine
from tests.comparative_eval.test_ce_api import AUTH, settings_for
from tests.fuzz import fuzz_openapi


@pytest.mark.fuzz
def test_comparative_eval_never_answers_5xx_nor_off_its_schema(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path), engine=FakeEngine(), clock=FakeClock())
    assert fuzz_openapi(app, headers=AUTH) > 50
    assert fuzz_openapi(app) > 50
