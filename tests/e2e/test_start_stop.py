"""`strata run` starts and stops as one unit: a service killed during start-up fails the start, and nothing the
start launched survives it — no process, no bound port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strata_cli import lifecycle, supervisor
from tests.e2e.conftest import SERVICES
from tests.support import free_port, free_port_run

pytestmark = pytest.mark.e2e


def _processes_with(marker: bytes) -> list[int]:
    """Every live process whose environment holds ``marker`` (whatever its parent has become)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in environ and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")


def test_a_service_killed_during_start_up_fails_the_start_and_leaves_no_process_and_no_port(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in SERVICES}
    sidecar_base = free_port_run(13)
    env = {
        **os.environ,
        "STRATA_VAR_DIR": str(var_dir),
        "STRATA_SIDECAR_BASE_PORT": str(sidecar_base),
        "STRATA_HOT_PATH_WORKERS": "2",  # gunicorn masters with workers: the processes most likely to be orphaned
        "STRATA_LOG_JSON": "false",
        **{f"STRATA_{name.upper()}_URL": url for name, url in urls.items()},
        "STRATA_PROMETHEUS_URL": f"http://127.0.0.1:{(prometheus_port := free_port())}",
        "STRATA_ALERTMANAGER_URL": f"http://127.0.0.1:{(alertmanager_port := free_port())}",
    }
    ports = [int(url.rsplit(":", 1)[1]) for url in urls.values()] + [sidecar_base + n for n in (*range(8), 12)]
    ports += [prometheus_port, alertmanager_port]  # Prometheus and Alertmanager are stopped with the rest
    command = [sys.executable, "-m", "strata_cli", "run", "--no-build"]
    cli = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    run_dir = var_dir.resolve() / "run"
    try:
        record = _wait_for(lambda: lifecycle.RunRecord.read(run_dir), 60, "the run record")
        config = supervisor.config_path(run_dir)
        # kill data_processing's gunicorn master as soon as supervisord runs it (its workers are orphaned)
        victim = _wait_for(lambda: _running_pid(config, "data_processing"), 120, "data_processing to run")
        _wait_for(lambda: len(_processes_with(f"STRATA_RUN_ID={record.run_id}".encode())) > 10, 60, "the processes")
        os.kill(victim, signal.SIGKILL)
        output, _ = cli.communicate(timeout=240)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)

    assert cli.returncode != 0, output
    assert "data_processing" in output.split("start failed:", 1)[-1].splitlines()[0], output
    # nothing launched by the start is left: found by the var dir every child is given, not by parentage
    assert _processes_with(f"STRATA_VAR_DIR={var_dir.resolve()}".encode()) == []
    assert lifecycle.busy_ports(ports) == []
    assert not lifecycle.RunRecord.path(run_dir).exists()


def _running_pid(config: Path, name: str) -> int | None:
    states = supervisor.program_states(config)
    state = (states or {}).get(name)
    return state.pid if state is not None and state.state == "RUNNING" and state.pid else None
