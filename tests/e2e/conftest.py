"""A whole Strata, built from a tiny simulated data set and run under supervisord on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from strata_kernel.contracts.auth import read_operator_token
from tests.support import free_port, free_port_run

SERVICES = (
    "ui", "business_logic", "data_processing", "inference_engine", "data_lake", "data_collection",
    "comparative_eval", "help_centre",
)  # fmt: skip
STRATA = [sys.executable, "-m", "strata_cli"]


@dataclass
class Stack:
    env: dict[str, str]
    var_dir: Path
    urls: dict[str, str]

    def operator(self) -> dict[str, str]:
        """The operator's bearer header (comparative_eval generated the token under var_dir): calls straight to an
        internal service need a credential."""
        token = read_operator_token(None, self.var_dir)
        assert token is not None, "comparative_eval has not written the operator token"
        return {"Authorization": f"Bearer {token}"}

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # wide: tables keep one line per row
            [*STRATA, *args],
            env={**self.env, "COLUMNS": "250"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


#: the first test that asks for the stack also waits for its build and start (3-4 min on a quiet 2-core machine,
#: 14 min measured at load 30-50): the suite's 900 s per-test limit would cut a slow but healthy build short
STACK_TIMEOUT_SECONDS = 2400


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        uses_stack = item.path.is_relative_to(here) and "stack" in getattr(item, "fixturenames", ())
        if uses_stack and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(STACK_TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("strata-e2e") / "var"
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in SERVICES}
    env = {
        **os.environ,
        "STRATA_VAR_DIR": str(var_dir),
        "STRATA_DEMO_SIZE": "tiny",
        # sidecar of service number n on base + n: ui 0 ... help_centre 7, the stream worker 12
        "STRATA_SIDECAR_BASE_PORT": str(free_port_run(13)),
        "STRATA_HOT_PATH_WORKERS": "1",
        **{f"STRATA_{name.upper()}_URL": url for name, url in urls.items()},
        # the run's Prometheus and Alertmanager, on ports of their own (other worktrees run tests here too)
        "STRATA_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",
        "STRATA_ALERTMANAGER_URL": f"http://127.0.0.1:{free_port()}",
    }
    built = subprocess.run([*STRATA, "build"], env=env, capture_output=True, text=True,
                           timeout=STACK_TIMEOUT_SECONDS - 300, check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    runner = subprocess.Popen(
        [*STRATA, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        _wait_for_line(runner, "Strata is running")
        yield Stack(env=env, var_dir=var_dir, urls=urls)
    finally:
        runner.send_signal(signal.SIGINT)
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)


def _wait_for_line(process: subprocess.Popen[str], marker: str) -> None:
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return
    raise AssertionError("`strata run` exited before ready:\n" + "".join(seen[-40:]))


@pytest.fixture(scope="session")
def business_logic(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.urls["business_logic"], timeout=10) as client:
        yield client
