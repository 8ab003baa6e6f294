"""Fixtures of the inference engine's tests: fakes at its ports and tiny real model files."""

from __future__ import annotations

from pathlib import Path

import pytest
from inference_fakes import FakeRegistry, constant_booster

from inference_engine.settings import Settings


@pytest.fixture
def registry(tmp_path: Path) -> FakeRegistry:
    """``etd`` v1 (predicts ~10, alias production) and v2 (predicts ~20, no alias)."""
    fake = FakeRegistry(tmp_path / "registry")
    fake.add("etd", constant_booster(10.0))
    fake.add("etd", constant_booster(20.0))
    fake.set_alias("etd", "production", 1)
    return fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", warmup_predictions=2, load_retry_seconds=0.05)
