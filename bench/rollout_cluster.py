"""The rollout bench's stack on the cluster profile: `python -m bench rollout --profile cluster`.

A private copy of deploy/cluster.yaml (free ports, databases of its own, Redis databases 9 and 10) under a scratch
work dir; `strata cluster up` (Spark standalone master and two workers, tansu with several partitions per topic, the
MLflow tracking server, PostgreSQL databases, Redis), `strata build` of a demo with every Spark job on the master,
`strata run` with several gunicorn workers per service. The rollout then runs as on the local profile, with the
quotes' outcomes published to Kafka and the prediction log read back from it. Everything is stopped at the end
(`strata run` interrupted, `strata cluster down --drop-databases`), also after a failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from rich.console import Console

from strata_cli.cluster import private_profile
from strata_kernel.loopback import free_port, free_port_run
from strata_kernel.settings import StrataSettings

ROOT = Path(__file__).resolve().parents[1]
STRATA = [sys.executable, "-m", "strata_cli"]
#: every service `strata run` starts (each on a free port)
RUN_SERVICES = ("ui", "business_logic", "data_processing", "inference_engine", "data_lake", "data_collection",
                "comparative_eval", "help_centre")  # fmt: skip
#: deploy/cluster.yaml's Redis databases 11 and 12, moved (the cluster test uses 13 and 14)
BENCH_REDIS_DBS = {"11": "9", "12": "10"}
BUILD_TIMEOUT_SECONDS = 3600  # ~10 min on an idle 2-core machine, ~55 min measured at load 30


class ClusterStack:
    """The same face as the local profile's stack (urls, env, var_dir, logs, train via `jobs`), on the cluster."""

    def __init__(self, workdir: Path, token: str, size: str, console: Console) -> None:
        self.config = private_profile(workdir, BENCH_REDIS_DBS)
        self.var_dir = workdir / "var"
        self.logs = workdir / "logs"
        self.urls = {name: f"http://127.0.0.1:{free_port()}" for name in RUN_SERVICES}
        self.env = {
            **os.environ,
            "STRATA_CONFIG_FILE": str(self.config),
            "STRATA_VAR_DIR": str(self.var_dir),
            "STRATA_DEMO_SIZE": size,
            "STRATA_OPERATOR_TOKEN": token,
            "STRATA_SIDECAR_BASE_PORT": str(free_port_run(13)),
            "STRATA_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",
            "STRATA_ALERTMANAGER_URL": f"http://127.0.0.1:{free_port()}",
            "STRATA_LOG_JSON": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            **{f"STRATA_{name.upper()}_URL": url for name, url in self.urls.items()},
        }
        self.seconds: dict[str, float] = {}  # how long each phase of the start took
        self._console = console

    def train(self, *params: str) -> int:
        from bench.rollout import train_candidate

        return train_candidate(self.env, self.logs, params)

    def event_log_settings(self) -> StrataSettings:
        servers = str(yaml.safe_load(self.config.read_text())["kafka_bootstrap_servers"])
        return StrataSettings(var_dir=self.var_dir, event_log="kafka", kafka_bootstrap_servers=servers)

    @contextmanager
    def running(self) -> Iterator[ClusterStack]:
        self.logs.mkdir(parents=True, exist_ok=True)
        runner: subprocess.Popen[str] | None = None
        try:
            self._phase("cluster up", ["cluster", "up"], timeout=900)
            self._phase("strata build", ["build"], timeout=BUILD_TIMEOUT_SECONDS)
            runner = self._start_run()
            from bench.rollout import features_as_of_today

            self._phase("features as of today", features_as_of_today(), module=True)
            yield self
        finally:
            if runner is not None:
                _interrupt(runner)
            down = subprocess.run([*STRATA, "cluster", "down", "--drop-databases"], env=self.env, capture_output=True,
                                  text=True, timeout=300, check=False)  # fmt: skip
            if down.returncode != 0:
                self._console.print(f"[red]strata cluster down failed:[/red] {down.stderr.strip()[-500:]}")

    def _phase(self, label: str, args: list[str], timeout: float = 1800, module: bool = False) -> str:
        """Run one start-up step with its output in a log, a line every 30 s while it runs; raise with its error."""
        command = [sys.executable, "-m", *args] if module else [*STRATA, *args]
        log_path = self.logs / f"{label.replace(' ', '-')}.log"
        started = time.monotonic()
        self._console.print(f"{label} ...")
        with open(log_path, "w") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       text=True)  # fmt: skip
            while process.poll() is None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    elapsed = time.monotonic() - started
                    if elapsed > timeout:
                        process.kill()
                        raise RuntimeError(f"{label}: no end after {timeout:.0f} s (log: {log_path})") from None
                    self._console.print(f"  {label}: {elapsed:.0f} s, {_last_line(log_path)}", soft_wrap=True)
        self.seconds[label] = time.monotonic() - started
        output = log_path.read_text()
        if process.returncode != 0:
            errors = [line for line in output.splitlines() if line.strip().startswith("error")]
            raise RuntimeError(f"{label} failed: {errors[-1] if errors else output[-300:]} (log: {log_path})")
        self._console.print(f"{label}: done in {self.seconds[label]:.0f} s")
        return output

    def _start_run(self) -> subprocess.Popen[str]:
        started = time.monotonic()
        runner = subprocess.Popen([*STRATA, "run"], cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
        try:
            _wait_until_running(runner)
        except BaseException:
            _interrupt(runner)
            raise
        # keep draining its output: a full pipe would block `strata run` (its supervisor's progress lines)
        threading.Thread(target=_drain, args=(runner, self.logs / "strata-run.log"), daemon=True).start()
        self.seconds["strata run ready"] = time.monotonic() - started
        self._console.print(f"strata run: ready in {self.seconds['strata run ready']:.0f} s")
        return runner


def _wait_until_running(runner: subprocess.Popen[str]) -> None:
    """`strata run` prints "Strata is running" once every service is ready (it gives up by itself, and exits)."""
    seen: list[str] = []
    assert runner.stdout is not None
    for line in runner.stdout:
        seen.append(line)
        if "Strata is running" in line:
            return
    raise RuntimeError("`strata run` exited before it was ready:\n" + "".join(seen[-20:]))


def _drain(runner: subprocess.Popen[str], path: Path) -> None:
    assert runner.stdout is not None
    with open(path, "a") as log:
        for line in runner.stdout:
            log.write(line)


def _interrupt(runner: subprocess.Popen[str]) -> None:
    runner.send_signal(signal.SIGINT)
    try:
        runner.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][-120:] if lines else "no output yet"
