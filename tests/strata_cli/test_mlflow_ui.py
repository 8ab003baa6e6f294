"""`strata mlflow-ui` serves MLflow's own UI on the platform's registry — the runs the model pages link to — and
stops with Ctrl-C; without a registry it says to build the demo first, in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from strata_cli import lifecycle
from strata_cli.main import app
from tests.support import free_port, port_free

runner = CliRunner()


def test_without_a_registry_it_says_to_build_first_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mlflow-ui"], env={"STRATA_VAR_DIR": str(tmp_path), "COLUMNS": "300"})

    assert result.exit_code == 1
    database = (tmp_path / "mlflow" / "mlflow.db").resolve()
    assert result.output.strip().splitlines() == [
        f"error: no MLflow registry at sqlite:///{database}: build the demo first (`strata build`)"
    ]


def _registry_with_one_run(var_dir: Path) -> tuple[str, str]:
    """The embedded registry a build leaves (``<var>/mlflow/mlflow.db``) holding one run; returns its ids."""
    from mlflow.tracking import MlflowClient

    (var_dir / "mlflow").mkdir(parents=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{var_dir / 'mlflow' / 'mlflow.db'}")
    experiment = client.create_experiment("etd", artifact_location=(var_dir / "mlflow" / "artifacts").as_uri())
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "mae", 4.25)
    client.set_terminated(run.info.run_id)
    return experiment, run.info.run_id


@pytest.mark.e2e
@pytest.mark.parametrize("stop", ["ctrl-c", "kill -9"])
def test_it_serves_the_runs_of_the_registry_and_nothing_outlives_it(tmp_path: Path, stop: str) -> None:
    """Ctrl-C stops the server; a killed CLI (kill -9, a closed terminal) takes its server along too."""
    var_dir = tmp_path / "var"
    experiment, run_id = _registry_with_one_run(var_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    marker = lifecycle.new_run_id()  # every process started from the CLI inherits it: found whatever its parent
    env = {**os.environ, "STRATA_VAR_DIR": str(var_dir), "STRATA_MLFLOW_UI_URL": url,
           lifecycle.RUN_ID_VARIABLE: marker}  # fmt: skip
    cli = subprocess.Popen([sys.executable, "-m", "strata_cli", "mlflow-ui"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 600  # MLflow's server imports for 20-40 s on a quiet machine; 290 s at load 45
        while True:
            assert cli.poll() is None, cli.communicate()[0]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "mlflow-ui did not answer"
            time.sleep(1)

        page = httpx.get(f"{url}/", timeout=60)  # generous: a loaded machine answers late, not wrong
        assert page.status_code == 200 and "<title>MLflow</title>" in page.text
        run = httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=60).json()["run"]
        assert run["info"]["experiment_id"] == experiment
        assert [(m["key"], m["value"]) for m in run["data"]["metrics"]] == [("mae", 4.25)]

        cli.send_signal(signal.SIGINT if stop == "ctrl-c" else signal.SIGKILL)
        output, _ = cli.communicate(timeout=60)
        deadline = time.monotonic() + 30
        while (survivors := lifecycle.processes_of(marker)) or not port_free(port):
            assert time.monotonic() < deadline, f"MLflow's server outlived the CLI: pids {survivors}, port {port}"
            time.sleep(0.2)
    finally:
        lifecycle.sweep(marker)  # whatever a failed run left (its server is in a session of its own)
    assert f"MLflow UI on {url}/" in output or stop == "kill -9"  # a killed CLI may not have flushed its line
