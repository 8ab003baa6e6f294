"""``python -m comparative_eval analyse --once`` and ``operator-token`` against settings from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comparative_eval.entrypoints.cli import app
from strata_kernel.eventlog.local import LocalEventLog


def test_analyse_once_consumes_the_log_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "var"
    monkeypatch.setenv("STRATA_VAR_DIR", str(var))
    monkeypatch.setenv("STRATA_LOG_JSON", "false")
    LocalEventLog(var / "eventlog").publish(
        "inference.predictions",
        [
            {
                "event_id": "p1",
                "event_time": "2025-03-01T12:00:00Z",
                "request_id": "r1",
                "model": "etd",
                "version": "1",
                "route": "stable",
                "instance": {"a": 1},
                "prediction": 30.0,
                "latency_ms": 2.0,
                "outcome": "ok",
            }
        ],
    )
    first = CliRunner().invoke(app, ["analyse", "--once"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1]) == {"events": 1, "verdicts": []}
    again = CliRunner().invoke(app, ["analyse", "--once"])  # offsets were committed
    assert json.loads(again.stdout.strip().splitlines()[-1]) == {"events": 0, "verdicts": []}


def test_operator_token_is_printed_and_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_VAR_DIR", str(tmp_path / "var"))
    first = CliRunner().invoke(app, ["operator-token"]).stdout.strip()
    assert first and CliRunner().invoke(app, ["operator-token"]).stdout.strip() == first
    assert (tmp_path / "var" / "comparative_eval" / "operator_token").read_text().strip() == first
