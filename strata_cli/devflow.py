"""The ML development flow, end to end: collect -> process -> lake -> features -> train -> register -> deploy.

Each step is another deployable's own command, run as a subprocess: the CLI orchestrates, it imports
no deployable. The data-lake catalog service runs for the duration of the flow (writers commit through it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from strata_cli.settings import Settings
from strata_cli.topology import Service
from strata_cli.waiting import wait_ready


class StepFailed(RuntimeError):
    """A development-flow step exited non-zero; the message is its last line of output."""


@dataclass
class FlowReport:
    seconds_per_step: dict[str, float] = field(default_factory=dict)
    training: dict[str, object] = field(default_factory=dict)


def child_env(settings: Settings) -> dict[str, str]:
    """Environment every child process gets: the same settings the CLI resolved, made explicit."""
    python = sys.executable
    return {
        "STRATA_VAR_DIR": str(settings.var_dir.resolve()),
        "STRATA_UI_URL": settings.ui_url,
        "STRATA_BUSINESS_LOGIC_URL": settings.business_logic_url,
        "STRATA_DATA_PROCESSING_URL": settings.data_processing_url,
        "STRATA_INFERENCE_ENGINE_URL": settings.inference_engine_url,
        "STRATA_DATA_LAKE_URL": settings.data_lake_url,
        "STRATA_DATA_COLLECTION_URL": settings.data_collection_url,
        "STRATA_COMPARATIVE_EVAL_URL": settings.comparative_eval_url,
        "STRATA_HELP_CENTRE_URL": settings.help_centre_url,
        "STRATA_EVENT_LOG": settings.event_log,
        "PYSPARK_PYTHON": python,
        "PYSPARK_DRIVER_PYTHON": python,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MLFLOW_DISABLE_TELEMETRY": "true",  # no network here, and none wanted from a platform's jobs
        "DO_NOT_TRACK": "true",
    }


def flow_steps(settings: Settings, size: str, seed: int) -> list[tuple[str, list[str]]]:
    catalog = str((settings.var_dir / "demo" / "catalog.json").resolve())
    # the simulated history ends yesterday, so features served today are within their TTL
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    return [
        ("simulate orders", ["data_collection", "simulate", "--size", size, "--seed", str(seed),
                             "--end-date", yesterday, "--catalog-out", catalog]),
        ("collect -> raw zone", ["data_collection", "collect", "--until-idle"]),
        ("process -> processed.orders", ["data_processing", "process-orders"]),
        ("features -> offline + online store", ["data_processing", "build-features", "restaurant_stats"]),
        ("point-in-time training set", ["data_processing", "training-set", "etd"]),
        ("train + register (MLflow)", ["inference_engine", "train", "etd"]),
        ("deploy (alias production)", ["inference_engine", "deploy", "etd", "--latest"]),
        ("load catalog into business logic", ["business_logic", "load-catalog", catalog]),
    ]  # fmt: skip


def run_flow(
    settings: Settings,
    *,
    size: str,
    seed: int,
    on_step: Callable[[str, float], None],
) -> FlowReport:
    """Wipe ``var_dir`` and build the demo from scratch; raise :class:`StepFailed` on the first failing step."""
    var_dir = settings.var_dir.resolve()
    if var_dir.exists():
        shutil.rmtree(var_dir)
    logs = var_dir / "run" / "logs"
    logs.mkdir(parents=True)
    env = child_env(settings)
    report = FlowReport()
    lake = _start_lake(settings, env, logs)
    try:
        for name, args in flow_steps(settings, size, seed):
            started = time.perf_counter()
            output = _run_step(name, args, env, logs)
            report.seconds_per_step[name] = time.perf_counter() - started
            if args[:2] == ["inference_engine", "train"]:
                report.training = _last_json_line(output)
            on_step(name, report.seconds_per_step[name])
    finally:
        lake.terminate()
        lake.wait(timeout=15)
    (var_dir / "demo" / "BUILT").write_text(json.dumps({"size": size, "seed": seed, **report.training}))
    return report


def _start_lake(settings: Settings, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    service = Service("data_lake", settings.data_lake_url)
    log = open(logs / "build-data_lake.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(service.command(), env=_merged(env), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready({service.name: service.url}, timeout_seconds=60, processes={service.name: process})
    except Exception:
        process.terminate()
        raise
    return process


def _run_step(name: str, args: list[str], env: dict[str, str], logs: Path) -> str:
    slug = args[0] + "-" + args[1]
    result = subprocess.run(
        [sys.executable, "-m", *args], env=_merged(env), capture_output=True, text=True, check=False
    )
    (logs / f"build-{slug}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {result.returncode}"
        raise StepFailed(f"step '{name}' failed: {reason} (log: {logs / f'build-{slug}.log'})")
    return result.stdout


def _last_json_line(output: str) -> dict[str, object]:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            try:
                parsed: dict[str, object] = json.loads(line)
                return parsed
            except ValueError:
                continue
    return {}


def _merged(env: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **env}
