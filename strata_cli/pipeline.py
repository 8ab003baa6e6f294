"""`strata stage NAME`: one stage of the DVC pipeline (dvc.yaml) — the same deployable jobs `strata build` runs.

Every stage works in its own directory ``pipeline/<stage>/`` (its DVC output): a copy of the stage it follows,
then its jobs run against it, with a data-lake catalog service started on a free port for the duration (writers
commit through it). The lake records table locations relative to its root, so a copied workspace is a whole lake.
The training stages register the engine in the project's MLflow registry (``<var_dir>/mlflow``: the one the
services serve from) and write their summary as the stage's metrics. What decides an engine is in params.yaml.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from strata_cli.devflow import _last_json_line, _run_step, _start, child_env
from strata_cli.settings import Settings
from strata_cli.topology import Service, help_centre
from strata_kernel.loopback import free_port

PIPELINE_DIR = Path("pipeline")
METRICS_DIR = PIPELINE_DIR / "metrics"
PARAMS_FILE = Path("params.yaml")


class StageFailed(RuntimeError):
    """A stage cannot run or one of its jobs failed; the message is one line."""


@dataclass(frozen=True)
class Stage:
    follows: str | None
    steps: Callable[[dict[str, Any]], list[tuple[str, list[str]]]]
    needs_help_centre: bool = False
    trains: str | None = None  # the model a training stage registers


def _simulate(p: dict[str, Any]) -> list[tuple[str, list[str]]]:
    demo = p["demo"]
    return [
        (
            "simulate orders",
            [
                "data_collection",
                "simulate",
                "--size",
                str(demo["size"]),
                "--seed",
                str(demo["seed"]),
                "--end-date",
                str(demo["end_date"]),
                "--catalog-out",
                str(PIPELINE_DIR / "simulate" / "catalog.json"),
            ],
        ),
        ("collect -> raw zone", ["data_collection", "collect", "--until-idle"]),
    ]


def _train(model: str) -> Callable[[dict[str, Any]], list[tuple[str, list[str]]]]:
    def steps(p: dict[str, Any]) -> list[tuple[str, list[str]]]:
        overrides = [f"--param={k}={v}" for k, v in sorted((p.get(model, {}).get("hyperparameters") or {}).items())]
        return [(f"train + register {model}", ["inference_engine", "train", model, *overrides])]

    return steps


STAGES: dict[str, Stage] = {
    "simulate": Stage(None, _simulate),
    "process_orders": Stage("simulate", lambda p: [("process orders", ["data_processing", "process-orders"])]),
    "build_features": Stage(
        "process_orders",
        lambda p: [
            (
                "build features",
                ["data_processing", "build-features", "restaurant_stats", "--as-of", str(p["demo"]["features_as_of"])],
            )
        ],
    ),
    "training_set": Stage("build_features", lambda p: [("training set", ["data_processing", "training-set", "etd"])]),
    "train_etd": Stage("training_set", _train("etd"), trains="etd"),
    "crawl": Stage(
        None,
        lambda p: [
            ("crawl help centre", ["data_collection", "crawl"]),
            ("held-out paraphrases", ["data_collection", "land-heldout"]),
        ],
        needs_help_centre=True,
    ),
    "help_text": Stage("crawl", lambda p: [("help text", ["data_processing", "help-text"])]),
    "train_helpbot": Stage("help_text", _train("helpbot"), trains="helpbot"),
}


def run_stage(settings: Settings, name: str, on_output: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run one stage from scratch in ``pipeline/<name>``; returns the training summary of a training stage."""
    stage = STAGES.get(name)
    if stage is None:
        raise StageFailed(f"unknown stage {name!r}; expected one of {', '.join(STAGES)}")
    params = read_params()
    # a training stage's output is its metrics and the registered version: its workspace is scratch, under var/
    workspace = _fresh_workspace(name, stage.follows, settings.var_dir / "pipeline" if stage.trains else PIPELINE_DIR)
    registry = settings.var_dir.resolve() / "mlflow"
    env = {
        **child_env(settings.model_copy(update=_urls(workspace))),
        "STRATA_SEED": str(params["demo"]["seed"]),
        "STRATA_LOG_LEVEL": "WARNING",
        # the engine goes into the project's registry; its training runs stay in the workspace
        "STRATA_MLFLOW_TRACKING_URI": f"sqlite:///{registry / 'mlflow.db'}",
        "STRATA_MLFLOW_ARTIFACT_ROOT": str(registry / "artifacts"),
    }
    registry.mkdir(parents=True, exist_ok=True)
    logs = workspace / "run" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    services = [Service("data_lake", env["STRATA_DATA_LAKE_URL"])]
    if stage.needs_help_centre:
        services.append(help_centre(Settings(help_centre_url=env["STRATA_HELP_CENTRE_URL"])))
    helpers: list[subprocess.Popen[bytes]] = []
    summary: dict[str, Any] = {}
    try:
        for service in services:
            helpers.append(_start(service, env, logs))
        for step, args in stage.steps(params):
            summary = _last_json_line(_run_step(step, args, env, logs, on_output))
    finally:
        for process in helpers:
            process.terminate()
            process.wait(timeout=15)
        shutil.rmtree(workspace / "run", ignore_errors=True)  # logs and pids: not part of the output
    if stage.trains:
        METRICS_DIR.mkdir(parents=True, exist_ok=True)
        (METRICS_DIR / f"{stage.trains}.json").write_text(json.dumps(_metrics(summary), indent=1, sort_keys=True))
    return summary


def read_params() -> dict[str, Any]:
    if not PARAMS_FILE.is_file():
        raise StageFailed(f"{PARAMS_FILE} is missing: run stages from the repository root")
    params = yaml.safe_load(PARAMS_FILE.read_text())
    if not isinstance(params, dict) or not isinstance(params.get("demo"), dict):
        raise StageFailed(f"{PARAMS_FILE} has no 'demo' section")
    return params


def _fresh_workspace(name: str, follows: str | None, under: Path) -> Path:
    workspace = under / name
    shutil.rmtree(workspace, ignore_errors=True)
    if follows is None:
        workspace.mkdir(parents=True)
        return workspace
    source = PIPELINE_DIR / follows
    if not source.is_dir():
        raise StageFailed(f"input {source} is missing: run `dvc repro {name}` (or `dvc pull`) to build it first")
    shutil.copytree(source, workspace, symlinks=True)
    return workspace


def _urls(workspace: Path) -> dict[str, Any]:
    return {
        "var_dir": workspace.resolve(),
        "data_lake_url": f"http://127.0.0.1:{free_port()}",
        "help_centre_url": f"http://127.0.0.1:{free_port()}",
    }


def _metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's numbers (the version number is left out: it depends on the registry, not on the engine)."""
    return {
        k: v
        for k, v in summary.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k not in {"version", "training_seconds"}
    }
