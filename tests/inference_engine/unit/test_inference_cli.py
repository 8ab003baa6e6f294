"""The CLI's refusals: one line on stderr; exit status 2 for bad options, 1 for any other failure."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from inference_engine.entrypoints.cli import app as cli


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_train_with_the_data_lake_down_exits_1_with_one_line(tmp_path: Path) -> None:
    env = {
        "STRATA_VAR_DIR": str(tmp_path / "var"),
        "STRATA_DATA_LAKE_URL": f"http://127.0.0.1:{closed_port()}",
        "STRATA_HTTP_RETRIES": "1",
    }

    result = CliRunner().invoke(cli, ["train", "etd"], env=env)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["error: data_lake unavailable: connection refused"]


def test_deploy_needs_exactly_one_of_version_or_latest(tmp_path: Path) -> None:
    env = {"STRATA_VAR_DIR": str(tmp_path / "var")}

    neither = CliRunner().invoke(cli, ["deploy", "etd"], env=env)
    both = CliRunner().invoke(cli, ["deploy", "etd", "--version", "1", "--latest"], env=env)

    assert neither.exit_code == both.exit_code == 2
    assert neither.stderr.strip() == "error: give exactly one of --version N or --latest"
