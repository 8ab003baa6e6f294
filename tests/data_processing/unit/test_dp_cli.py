"""CLI failures exit non-zero with one line of why (no Spark started for these)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from data_processing.entrypoints.cli import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STRATA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STRATA_DATA_LAKE_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("STRATA_HTTP_RETRIES", "1")
    return CliRunner()


def test_unknown_feature_group_fails_fast_with_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["build-features", "nope"])

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: unknown feature group 'nope' (known: restaurant_realtime, restaurant_stats)"


def test_unknown_model_fails_with_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["training-set", "eta_v9"])

    assert result.exit_code == 1  # like an unknown feature group: not found
    assert result.stderr.strip().startswith("error: model 'eta_v9' is not declared (no eta_v9.yaml in ")
    assert result.stderr.strip().endswith("; declared: etd)")


def test_lake_catalog_down_fails_with_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["training-set", "etd"])

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: data_lake unavailable: connection refused"


def test_validate_groups_lists_the_groups(runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate-groups"])

    assert result.exit_code == 0
    assert result.stdout.strip() == '{"feature_groups": ["restaurant_realtime", "restaurant_stats"]}'
