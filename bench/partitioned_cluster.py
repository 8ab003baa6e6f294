"""`python -m bench partitioned --versus-cluster [--size full]`: the partitioned ETD training with Spark ``local[2]``
and on a standalone master with two 1-core workers, one after the other in one run, on the same lake table.

Each mode is a fresh ``inference_engine train etd --fresh`` process; only ``STRATA_SPARK_MASTER`` differs. The
standalone master and workers are started for the second run only (the same code as `strata cluster up`, on free
ports, Spark alone) and stopped afterwards, also on failure. Memory is sampled every 0.2 s: the driver's process
tree (its JVM; in ``local[2]`` the executors' Python workers too) and, apart, the cluster's JVMs with what they
start (executors and their Python workers are the workers' children, not the driver's). The master's ``/json/``
must list the application as finished, and both runs must report the same held-out MAE.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.partitioned_training import accuracy, child_env, ensure_built, measure, start_lake
from bench.processes import groups_rss_kb

#: the application name the partitioned training gives its SparkSession (inference_engine.partitioning.spark)
APP_NAME = "strata-partitioned-training"
#: both modes train the same models from the same split (seeded XGBoost, fixed threads, rows in one order)
MAE_TOLERANCE = 1e-6
LOCAL_MASTER = "local[2]"


@dataclass(frozen=True)
class ModeRun:
    mode: str
    master: str
    seconds: float
    #: the tree training alone (the run's own figure: split and registration excluded)
    training_seconds: float
    driver_peak_mb: float
    #: master + workers + executors + their Python workers; None when no cluster runs
    cluster_peak_mb: float | None
    cluster_idle_mb: float | None
    #: the highest sum of driver and cluster in one sample
    together_peak_mb: float
    mae: float
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    run_id: str
    data_version: str
    models_digest: str


def compare(var_dir: Path, size: str) -> dict[str, Any]:
    """Train in both modes (local first: no cluster JVM runs beside it); the runs and the master's record."""
    ensure_built(var_dir, size)
    env = child_env(var_dir)
    lake = start_lake(env)
    try:
        local = train_once(LOCAL_MASTER, LOCAL_MASTER, env, var_dir)
        standalone, application = _on_standalone(env, var_dir)
    finally:
        lake.terminate()
        lake.wait(timeout=15)
    return {"size": size, "runs": [asdict(local), asdict(standalone)], "application": application}


def _on_standalone(env: dict[str, str], var_dir: Path) -> tuple[ModeRun, dict[str, Any]]:
    from strata_cli.cluster import cluster_running, spark_applications

    with tempfile.TemporaryDirectory(prefix="strata-bench-cluster-") as scratch:
        settings = _cluster_settings(Path(scratch))
        started = time.perf_counter()
        with cluster_running(settings, log=_progress, spark_only=True) as cluster:
            _progress(f"spark standalone up in {time.perf_counter() - started:.1f}s")
            pids = [process.pid for process in cluster.started]
            idle_mb = groups_rss_kb({"cluster": pids})["cluster"] / 1024
            mode = f"standalone ({settings.spark_workers} workers x {settings.spark_worker_cores} core)"
            run = train_once(mode, settings.spark_master, env, var_dir, cluster_pids=pids, idle_mb=idle_mb)
            application = _wait_finished(lambda: spark_applications(settings))
    if application is None:
        raise SystemExit(f"the master at {settings.spark_master} lists no finished {APP_NAME}: the run did not "
                         "go to the cluster")  # fmt: skip
    return run, application


def _cluster_settings(scratch: Path) -> Any:
    from strata_cli.settings import ClusterSettings
    from strata_kernel.loopback import free_port, free_port_run

    return ClusterSettings(cluster_dir=scratch / "cluster", spark_master=f"spark://127.0.0.1:{free_port()}",
                           spark_master_webui_port=free_port(), spark_worker_webui_base_port=free_port_run(2),
                           spark_workers=2, spark_worker_cores=1, spark_worker_memory="1g")  # fmt: skip


def _wait_finished(
    applications: Callable[[], Mapping[str, Sequence[Mapping[str, object]]]], seconds: float = 30.0
) -> dict[str, Any] | None:
    """The master records an application as finished shortly after its driver stopped: poll a little."""
    deadline = time.monotonic() + seconds
    while True:
        found = finished_application(applications(), APP_NAME)
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(1)


def finished_application(apps: Mapping[str, Sequence[Mapping[str, object]]], name: str) -> dict[str, Any] | None:
    """The master's record of the application ``name`` if it is among the completed ones, in state FINISHED."""
    for app in apps.get("completed", []):
        if app.get("name") == name and app.get("state") == "FINISHED":
            return {k: app.get(k) for k in ("id", "name", "state", "cores", "memoryperexecutor", "duration")}
    return None


def train_once(
    mode: str,
    master: str,
    env: dict[str, str],
    var_dir: Path,
    *,
    cluster_pids: list[int] | None = None,
    idle_mb: float | None = None,
) -> ModeRun:
    """One fresh training process on ``master``; its held-out MAE is read before the next run replaces the run."""
    _progress(f"training on {master} ...")
    load_start = os.getloadavg()
    others = {"cluster": cluster_pids} if cluster_pids else None
    command = [sys.executable, "-m", "inference_engine", "train", "etd", "--fresh"]
    measured = measure(command, {**env, "STRATA_SPARK_MASTER": master}, others)
    load_end = os.getloadavg()
    summary = json.loads(measured.stdout.strip().splitlines()[-1])
    run_dir = var_dir / "inference_engine" / "partitioned" / "etd" / summary["run_id"]
    peaks = measured.peaks_mb
    run = ModeRun(mode=mode, master=master, seconds=measured.seconds, training_seconds=summary["training_seconds"],
                  driver_peak_mb=peaks["driver"], cluster_peak_mb=peaks.get("cluster"), cluster_idle_mb=idle_mb,
                  together_peak_mb=peaks["together"], mae=accuracy(run_dir)["all"]["mae_partitioned"],
                  load_start=load_start, load_end=load_end, run_id=summary["run_id"],
                  data_version=summary["data_version"], models_digest=models_digest(run_dir / "models"))  # fmt: skip
    _progress(f"{mode}: {run.seconds:.1f}s, MAE {run.mae:.6f}")
    return run


def models_digest(models: Path) -> str:
    """One digest of every node model file (names and bytes): equal digests, byte-identical trees."""
    digest = hashlib.sha256()
    for path in sorted(models.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def same_result(local: ModeRun, standalone: ModeRun) -> str | None:
    """None when both runs trained on the same data and score the same held-out MAE; else what differs."""
    if (local.data_version, local.run_id) != (standalone.data_version, standalone.run_id):
        return f"different data: {local.data_version} run {local.run_id} vs {standalone.data_version} " \
               f"run {standalone.run_id}"  # fmt: skip
    if abs(local.mae - standalone.mae) > MAE_TOLERANCE:
        return f"held-out MAE {local.mae:.9f} ({local.mode}) vs {standalone.mae:.9f} ({standalone.mode})"
    return None


def comparison_rows(local: ModeRun, standalone: ModeRun) -> list[list[str]]:
    """The table's rows: one per mode, then standalone / local."""
    rows = [[run.mode, f"{run.seconds:.1f}", f"{run.training_seconds:.1f}", f"{run.driver_peak_mb:.0f}",
             _cluster_cell(run), f"{run.together_peak_mb:.0f}", f"{run.mae:.6f}", _load_cell(run)]
            for run in (local, standalone)]  # fmt: skip
    rows.append(["standalone / local", _ratio(standalone.seconds, local.seconds),
                 _ratio(standalone.training_seconds, local.training_seconds),
                 _ratio(standalone.driver_peak_mb, local.driver_peak_mb), "",
                 _ratio(standalone.together_peak_mb, local.together_peak_mb),
                 f"diff {abs(standalone.mae - local.mae):.1e}", ""])  # fmt: skip
    return rows


COLUMNS = ("mode", "wall s", "tree training s", "driver tree peak MB", "cluster JVMs peak MB (idle)",
           "driver + cluster peak MB", "held-out MAE", "load 1/5/15 start -> end")  # fmt: skip


def _cluster_cell(run: ModeRun) -> str:
    if run.cluster_peak_mb is None:
        return "-"
    return f"{run.cluster_peak_mb:.0f} ({run.cluster_idle_mb or 0:.0f})"


def _load_cell(run: ModeRun) -> str:
    return f"{'/'.join(f'{x:.1f}' for x in run.load_start)} -> {'/'.join(f'{x:.1f}' for x in run.load_end)}"


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator else "-"


def print_comparison(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    local, standalone = _runs(result)
    table = Table(title=f"Partitioned ETD training ({result['size']} data set, {local.data_version}): local[2] vs "
                  "Spark standalone, 2-core machine")  # fmt: skip
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("mode", "load 1/5/15 start -> end") else "right")
    for row in comparison_rows(local, standalone):
        table.add_row(*row)
    app = result["application"]
    identical = "byte-identical" if local.models_digest == standalone.models_digest else "NOT byte-identical"
    console = Console(width=200)
    console.print(table)
    console.print(f"master /json/: {app['name']} {app['id']} {app['state']}, {app['cores']} cores, "
                  f"{app.get('memoryperexecutor')} MB per executor, {int(app['duration']) / 1000:.1f}s; "
                  f"node models {identical} ({local.models_digest} / {standalone.models_digest})")  # fmt: skip


def _runs(result: dict[str, Any]) -> tuple[ModeRun, ModeRun]:
    local, standalone = (ModeRun(**{**run, "load_start": tuple(run["load_start"]), "load_end": tuple(run["load_end"])})
                         for run in result["runs"])  # fmt: skip
    return local, standalone


def run_and_report(var_dir: Path, size: str) -> None:
    # a TERM unwinds like ^C: the cluster's processes lead sessions of their own and would outlive a plain exit
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    result = compare(var_dir, size)
    (var_dir / "bench-partitioned-cluster.json").write_text(json.dumps(result, indent=1))
    print_comparison(result)
    local, standalone = _runs(result)
    differs = same_result(local, standalone)
    if differs is not None:
        raise SystemExit(f"local[2] and standalone runs disagree: {differs}")


def _progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)
