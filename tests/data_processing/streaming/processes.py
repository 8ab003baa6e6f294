"""Real processes for the streaming tests: the data_lake catalog service and the worker's command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from strata_kernel.loopback import free_port

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def data_lake_service(var_dir: Path) -> Iterator[str]:
    """``python -m data_lake serve`` on a free port with its catalog and lake under ``var_dir``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "STRATA_VAR_DIR": str(var_dir), "STRATA_DATA_LAKE_URL": url}
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir.parent / "data_lake.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "data_lake", "serve"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"data_lake exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"data_lake not ready at {url} within {seconds:.0f}s")


def run_stream(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``python -m data_processing stream restaurant_realtime`` until idle; no metrics port."""
    command = [sys.executable, "-m", "data_processing", "stream", "restaurant_realtime", "--idle-seconds", "1",
               "--metrics-port", "0", *args]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
