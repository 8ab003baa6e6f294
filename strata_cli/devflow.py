"""The ML development flow, end to end: collect -> process -> lake -> features -> train -> register -> deploy.

Each step is another deployable's own command, run as a subprocess: the CLI orchestrates, it imports
no deployable. The data-lake catalog service runs for the duration of the flow (writers commit through it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from strata_cli.lifecycle import TIED_TO_PARENT
from strata_cli.settings import Settings
from strata_cli.topology import Service, help_centre
from strata_cli.waiting import wait_ready

HELP_MODEL = "helpbot"
RECORD_STEP = "record first deployments (comparative evaluation)"
#: every model the demo's inference engine serves
SERVED_MODELS = ("etd", HELP_MODEL)
PREDEFINED_HELP = Path(__file__).resolve().parents[1] / "business_logic" / "demo" / "help_questions.yaml"


class StepFailed(RuntimeError):
    """A development-flow step exited non-zero; the message is its last line of output."""


@dataclass
class FlowReport:
    seconds_per_step: dict[str, float] = field(default_factory=dict)
    training: dict[str, object] = field(default_factory=dict)  # the ETD model's training summary
    #: training summary per model trained by the flow
    trainings: dict[str, dict[str, object]] = field(default_factory=dict)


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
        "STRATA_PROMETHEUS_URL": settings.prometheus_url,
        "STRATA_ALERTMANAGER_URL": settings.alertmanager_url,
        "STRATA_EVENT_LOG": settings.event_log,
        "STRATA_MODELS": json.dumps(list(SERVED_MODELS)),  # the inference engine's `models` setting
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
        # as of today: late deliveries spill past midnight, and "the day after the newest data" would stamp the
        # online snapshot tomorrow, a row from the future the serving path rightly refuses
        ("features -> offline + online store",
         ["data_processing", "build-features", "restaurant_stats", "--as-of", date.today().isoformat()]),
        ("point-in-time training set", ["data_processing", "training-set", "etd"]),
        ("train + register (MLflow)", ["inference_engine", "train", "etd"]),
        ("deploy (alias production)", ["inference_engine", "deploy", "etd", "--latest"]),
        ("load catalog into business logic", ["business_logic", "load-catalog", catalog]),
        # the help-centre chatbot: crawl -> raw -> processed text -> TensorFlow engine -> deploy; predefined Q&A
        ("crawl help centre -> raw zone", ["data_collection", "crawl"]),
        ("held-out paraphrases -> raw zone", ["data_collection", "land-heldout"]),
        ("normalise + vectorise help text", ["data_processing", "help-text"]),
        ("train helpbot (TensorFlow) + register", ["inference_engine", "train", HELP_MODEL]),
        ("deploy helpbot (alias production)", ["inference_engine", "deploy", HELP_MODEL, "--latest"]),
        ("load predefined help questions", ["business_logic", "load-help", str(PREDEFINED_HELP)]),
        # the versions the deploy steps chose are appended (MODEL=VERSION): comparative evaluation knows them as
        # stable from the start, so status, history and rollback work on the first day
        (RECORD_STEP, ["comparative_eval", "record-initial", "--actor", "strata build",
                       "--reason", "first deployment by strata build"]),
    ]  # fmt: skip


def run_flow(
    settings: Settings,
    *,
    size: str,
    seed: int,
    on_step: Callable[[str, float], None],
    on_start: Callable[[str], None] | None = None,
    on_output: Callable[[str], None] | None = None,
) -> FlowReport:
    """Wipe ``var_dir`` and build the demo from scratch; raise :class:`StepFailed` on the first failing step.

    ``on_start(name)`` before each step, ``on_output(line)`` for each line a step prints (its progress),
    ``on_step(name, seconds)`` after it.
    """
    var_dir = settings.var_dir.resolve()
    if var_dir.exists():
        shutil.rmtree(var_dir)
    logs = var_dir / "run" / "logs"
    logs.mkdir(parents=True)
    env = child_env(settings)
    report = FlowReport()
    # the flow's writers commit through the lake's catalog; the crawler reads the help-centre site
    helpers: list[subprocess.Popen[bytes]] = []
    deployed: list[str] = []  # MODEL=VERSION of each deploy step
    try:
        for service in (Service("data_lake", settings.data_lake_url), help_centre(settings)):
            helpers.append(_start(service, env, logs))
        for name, args in flow_steps(settings, size, seed):
            started = time.perf_counter()
            if on_start is not None:
                on_start(name)
            output = _run_step(name, args + deployed if name == RECORD_STEP else args, env, logs, on_output)
            report.seconds_per_step[name] = time.perf_counter() - started
            if args[:2] == ["inference_engine", "train"]:
                report.trainings[args[2]] = _last_json_line(output)
            if args[:2] == ["inference_engine", "deploy"]:
                result = _last_json_line(output)
                deployed.append(f"{result.get('model')}={result.get('version')}")
            on_step(name, report.seconds_per_step[name])
    finally:
        for process in helpers:
            process.terminate()
        for process in helpers:
            try:
                process.wait(timeout=60)  # a loaded machine stops gunicorn slowly: the build itself is done
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    report.training = report.trainings.get("etd", {})
    marker = {"size": size, "seed": seed, **report.training, HELP_MODEL: report.trainings.get(HELP_MODEL, {})}
    (var_dir / "demo" / "BUILT").write_text(json.dumps(marker))
    return report


# The flow's helper services and steps are tied to the build (TIED_TO_PARENT): they get SIGTERM when it dies, even
# by SIGKILL (a test's or CI's timeout), so a killed build never leaves the lake or the help centre on their ports.


def _start(service: Service, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    log = open(logs / f"build-{service.name}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(service.command(), env=_merged(env), stdout=log, stderr=subprocess.STDOUT,
                               preexec_fn=TIED_TO_PARENT)  # fmt: skip
    try:
        wait_ready({service.name: service.url}, stall_seconds=60, processes={service.name: process})
    except Exception:
        process.terminate()
        raise
    return process


def _run_step(
    name: str, args: list[str], env: dict[str, str], logs: Path, on_output: Callable[[str], None] | None = None
) -> str:
    """Run one step, passing each line it prints to ``on_output`` as it comes; returns its stdout."""
    # "inference_engine-train-etd": one log per step, even when a command runs for several models
    slug = "-".join(arg for arg in args[:3] if arg.replace("_", "").isalnum())
    process = subprocess.Popen([sys.executable, "-m", *args], env=_merged(env), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=TIED_TO_PARENT)  # fmt: skip
    stdout: list[str] = []
    stderr: list[str] = []
    # stderr (logs, progress) on a thread, stdout (the step's JSON result) here: neither pipe can fill and block
    reader = threading.Thread(target=_forward, args=(process.stderr, stderr, on_output), daemon=True)
    reader.start()
    _forward(process.stdout, stdout, on_output)
    returncode = process.wait()
    reader.join()
    (logs / f"build-{slug}.log").write_text("".join(stdout) + "".join(stderr))
    if returncode != 0:
        lines = [line for line in ("".join(stderr) + "".join(stdout)).strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {returncode}"
        raise StepFailed(f"step '{name}' failed: {reason} (log: {logs / f'build-{slug}.log'})")
    return "".join(stdout)


def _forward(stream: IO[str] | None, sink: list[str], on_output: Callable[[str], None] | None) -> None:
    for line in stream or ():
        sink.append(line)
        if on_output is not None and line.strip():
            on_output(line.rstrip())


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
