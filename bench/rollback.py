"""`python -m bench rollback [--var-dir DIR] [--rate 50] [--keep]`: Yokoyama's RQ2, rolling back the inference engine.

Can the operator roll the inference engine back without touching business logic, and bring back a version whose
artifact is gone? Measured on a scratch copy of a built demo (``--var-dir``; without one a tiny demo is built in the
scratch dir) with data_lake, inference_engine, data_processing, business_logic and comparative_eval on free ports
(bench.rollout's stack), and a fresh clone of this checkout's HEAD for the DVC pipeline:

1. **the production engine comes from the DVC pipeline**: `dvc repro train_etd` in the clone registers etd vG in the
   stack's registry (``dvc push`` to the clone's remote), deployed in full through comparative evaluation
   (`strata deploy --mode full`: validated first). The **scenario check** then sends 150 fixed quotes through
   business logic and measures their mean absolute error against the simulated world's true delivery times
   (bench.rollout_load.TruthModel); vG's error is the baseline, the check fails above 1.5 times it;
2. **an engine trained on data with a changed trend and schema**: the lake's ETD training set is rewritten by its
   owning job's identity with delivery times x1.6 (the trend: deliveries got slower) and the basket subtotal in
   cents (the schema: an upstream field changed its unit), then `inference_engine train etd --no-partitions`
   registers vB. Under an open loop of ``--rate`` quotes/s through business logic, vB is deployed in full
   (`strata deploy --mode full`: it passes validation, a schema-valid model), the scenario check fails on it and the
   operator runs `strata rollback etd`. Measured: the command's wall time (target < 2 s), command start -> the
   engine applied the rollback (its routing ``applied_at``), business logic's PIDs (master and workers) before vB
   and after the rollback, failed quotes (non-2xx or transport error) from vB's deploy to after the rollback;
3. **rollback when the artifact is gone**: vB deployed in full again, vG's model files deleted from the registry's
   store and the clone's DVC cache deleted (its data is in the remote), then
   `strata reproduce etd --version G --deploy --mode full` under the same load: rebuild, verdict, registered as vR,
   validated and deployed. Measured: its wall time, the verdict, failed quotes during it, the scenario check on vR.

``--no-rebuild`` skips steps 1 and 3: the build's own engine (v1) is the production engine the operator rolls back to
(minutes instead of a DVC pipeline run and a rebuild).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench.rollout import SERVICES, Stack, parse_time, scratch_copy
from bench.rollout_load import FixedRateLoad, QuoteSender, Tally, TruthModel, quote_bodies
from strata_cli.operator import DeploymentsClient, OperatorError
from strata_kernel.loopback import free_port

ROOT = Path(__file__).resolve().parents[1]
MODEL = "etd"
TREND, SUBTOTAL_UNIT = 1.6, 100.0
SCENARIO_QUOTES, SCENARIO_TOLERANCE = 150, 1.5
REGISTERED = re.compile(r"stage train_etd done: etd v(\d+) registered")


@dataclass
class Report:
    rate: float
    good: int = 0
    bad: int = 0
    rebuilt: int = 0
    scenario: list[tuple[str, float, bool]] = field(default_factory=list)  # (what, MAE, passed)
    events: list[tuple[float, str]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


class Timer:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.started = time.monotonic()

    def event(self, text: str) -> None:
        self.report.events.append((time.monotonic() - self.started, f"{text} (load {os.getloadavg()[0]:.1f})"))
        Console(stderr=True, highlight=False).print(f"[{time.monotonic() - self.started:7.1f}s] {text}")


def build_demo(workdir: Path) -> Path:
    """A tiny demo built by `strata build` (the product's own development flow) under ``workdir/var``."""
    var_dir = workdir / "var"
    names = (*SERVICES, "ui", "data_collection", "help_centre")
    env = {**_clean_env(), "STRATA_VAR_DIR": str(var_dir), "STRATA_DEMO_SIZE": "tiny",
           **{f"STRATA_{name.upper()}_URL": f"http://127.0.0.1:{free_port()}" for name in names}}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "strata_cli", "build"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    (workdir / "logs" / "build.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"strata build failed (log: {workdir / 'logs' / 'build.log'})")
    return var_dir


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("STRATA_")}


class Clone:
    """A fresh clone of HEAD whose pipeline registers into the stack's registry and whose CLI talks to its stack."""

    def __init__(self, workdir: Path, stack: Stack, token: str) -> None:
        self.root = workdir / "strata"
        self.logs = workdir / "logs"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(self.root)], check=True)
        bin_dir = str(Path(sys.executable).parent)
        self.env = {**_clean_env(), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                    "PYTHONPATH": str(self.root), "STRATA_VAR_DIR": stack.env["STRATA_VAR_DIR"],
                    "STRATA_LOG_JSON": "false", "STRATA_OPERATOR_TOKEN": token, "COLUMNS": "200",
                    **{f"STRATA_{name.upper()}_URL": url for name, url in stack.urls.items()}}  # fmt: skip

    def run(self, label: str, *command: str) -> tuple[str, float]:
        """A command in the clone; (stdout, wall seconds); a failure raises with the end of its log."""
        started = time.perf_counter()
        done = subprocess.run(list(command), cwd=self.root, env=self.env, capture_output=True, text=True,
                              check=False)  # fmt: skip
        seconds = time.perf_counter() - started
        log = self.logs / f"{label}.log"
        log.write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            tail = " | ".join((done.stderr + done.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"{' '.join(command[:4])} exited {done.returncode}: {tail} (log: {log})")
        return done.stdout, seconds


def skew_training_set(stack: Stack, logs: Path) -> dict[str, Any]:
    """The ETD training set rewritten as the newer data looks: delivery times x TREND, subtotal in cents."""
    code = f"""
import json
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from data_processing.jobs.lake_io import PARTITION_COLUMN
from data_processing.settings import Settings
from strata_kernel.lake import LakeClient, committed_files
lake = LakeClient.from_settings(Settings())
info = lake.table("processed.etd_training_set")
partitioning = ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive")
table = ds.dataset(committed_files(info), format="parquet", partitioning=partitioning,
                   partition_base_dir=str(info.location)).to_table()
subtotal = next(name for name in table.column_names if name.endswith("__subtotal"))
for name, factor in (("label", {TREND}), (subtotal, {SUBTOTAL_UNIT})):
    i = table.schema.get_field_index(name)
    table = table.set_column(i, name, pc.multiply(table.column(name), factor))
commit = lake.write_arrow(info.name, table, partition_column=PARTITION_COLUMN, mode="overwrite",
                          job="data_processing training-set etd", inputs=[f"{{info.name}}@{{info.version}}"])
print(json.dumps({{"version": commit["version"], "rows": commit["rows"]}}))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=stack.env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    (logs / "skew-training-set.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"rewriting the training set failed (log: {logs / 'skew-training-set.log'})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def scenario_check(base_url: str, bodies: list[dict[str, Any]], truth: TruthModel) -> float:
    """Mean absolute error (minutes) of fixed quotes through business logic against the simulated truth."""
    errors = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for i in range(SCENARIO_QUOTES):
            body = {**bodies[i % len(bodies)], "customer_id": f"scenario-{i:04d}"}
            quote = client.post("/v1/etd", json=body).raise_for_status().json()
            placed = datetime.fromisoformat(str(quote["quoted_at"])).replace(tzinfo=None, microsecond=0)
            _, minutes = truth.delivery(str(quote["restaurant_id"]), int(quote["n_items"]), placed, f"scenario-{i}")
            errors.append(abs(float(quote["etd_minutes"]) - minutes))
    return sum(errors) / len(errors)


def wait_applied(engine_url: str, revision: int, timeout: float = 120) -> datetime:
    """When the engine applied routing ``revision`` (its ``applied_at``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        routing = httpx.get(f"{engine_url}/v1/models/{MODEL}/routing", timeout=5).json()
        if int(routing.get("revision") or 0) >= revision and routing.get("applied_at"):
            return parse_time(str(routing["applied_at"]))
        time.sleep(0.05)
    raise TimeoutError(f"the engine did not apply routing revision {revision} within {timeout:.0f}s")


def process_ids(pid: int) -> list[int]:
    """A process and its children (a gunicorn master and its workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *sorted(int(c) for c in children.read_text().split())] if children.is_file() else []


@contextmanager
def open_load(sender: QuoteSender, rate: float) -> Iterator[FixedRateLoad]:
    load = FixedRateLoad(sender.send, rate)
    stop = threading.Event()
    thread = threading.Thread(target=load.run, args=(stop, 3600.0), daemon=True)
    thread.start()
    try:
        yield load
    finally:
        stop.set()
        thread.join(timeout=30)
        load.wait()


def current_record(stack: Stack) -> dict[str, Any]:
    """The deployment record in force (comparative evaluation)."""
    with DeploymentsClient(stack.urls["comparative_eval"], token=stack.env["STRATA_OPERATOR_TOKEN"]) as client:
        return dict(client.deployment(MODEL)["record"])


def deploy_full(clone: Clone, stack: Stack, version: int, label: str, reason: str) -> tuple[dict[str, Any], float]:
    """`strata deploy etd --version N --mode full` (validated first); the record it made, the command's seconds."""
    deadline = time.monotonic() + 120
    while True:  # comparative evaluation validates on logged live requests: the first ones may still be on the way
        try:
            _, seconds = clone.run(label, "strata", "deploy", MODEL, "--version", str(version), "--mode", "full",
                                   "--reason", reason)  # fmt: skip
            return current_record(stack), seconds
        except RuntimeError as exc:
            if "no sample to validate" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(2)


def run(var_dir: Path | None, rate: float, keep: bool, rebuild: bool) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix="strata-rollback-"))
    (workdir / "logs").mkdir()
    report = Report(rate)
    timer = Timer(report)
    try:
        with ExitStack() as stack_scope:
            if var_dir is not None and (var_dir / "demo" / "BUILT").is_file():
                scratch = scratch_copy(var_dir.resolve(), workdir)
            else:
                timer.event("building a tiny demo (strata build)")
                scratch = build_demo(workdir)
            token = secrets.token_urlsafe(24)
            stack = stack_scope.enter_context(Stack(scratch, workdir / "logs", token).running())
            timer.event("services ready")
            clone = Clone(workdir, stack, token)
            _scenario(stack, clone, scratch, rate, report, timer, rebuild)
        return report
    finally:
        if keep:
            Console(stderr=True).print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _scenario(stack: Stack, clone: Clone, var_dir: Path, rate: float, report: Report, timer: Timer,
              rebuild: bool) -> None:  # fmt: skip
    built = json.loads((var_dir / "demo" / "BUILT").read_text())
    truth = TruthModel.for_demo(built["size"], int(built["seed"]), (var_dir / "demo" / "BUILT").stat().st_mtime)
    bl, engine = stack.urls["business_logic"], stack.urls["inference_engine"]
    bodies = quote_bodies(bl)
    values = report.values

    # 0. the build's engine answers first (its quotes are also the logged requests validation replays)
    built_mae = scenario_check(bl, bodies, truth)
    timer.event(f"the build's etd v1 serves; scenario MAE {built_mae:.2f} min")

    # 1. the production engine: from the DVC pipeline (--rebuild), else the build's
    report.good, baseline = int(current_record(stack)["stable_version"]), built_mae
    if rebuild:
        out, values["pipeline_seconds"] = clone.run("dvc-repro", "dvc", "repro", "train_etd")
        report.good = int(REGISTERED.findall(out)[-1])
        clone.run("dvc-push", "dvc", "push")
        timer.event(f"etd v{report.good} trained by dvc repro ({values['pipeline_seconds']:.0f} s)")
        record, _ = deploy_full(clone, stack, report.good, "deploy-good", "bench: the pipeline's engine")
        wait_applied(engine, int(record["revision"]))
        baseline = scenario_check(bl, bodies, truth)
        report.scenario.append(("v1 (strata build)", built_mae, built_mae <= SCENARIO_TOLERANCE * baseline))
        timer.event(f"v{report.good} serves in full; scenario MAE {baseline:.2f} min (baseline)")
    report.scenario.append((f"v{report.good} (the baseline)", baseline, True))

    # 2. an engine trained on shifted data: deployed, the scenario check fails, rolled back
    skewed = skew_training_set(stack, clone.logs)
    report.bad = stack.train()
    timer.event(f"etd v{report.bad} trained on the rewritten training set (v{skewed['version']}, "
                f"{skewed['rows']} rows)")  # fmt: skip
    master = stack.processes["business_logic"].pid
    values["bl_pids_before"] = process_ids(master)
    sender = QuoteSender(bl, bodies, Tally(), None)
    with open_load(sender, rate) as load:
        time.sleep(3)
        record, values["bad_deploy_seconds"] = deploy_full(clone, stack, report.bad, "deploy-bad", "bench: newer data")
        wait_applied(engine, int(record["revision"]))
        timer.event(f"v{report.bad} deployed in full through comparative evaluation")
        mae = scenario_check(bl, bodies, truth)
        report.scenario.append((f"v{report.bad} (shifted data)", mae, mae <= SCENARIO_TOLERANCE * baseline))
        timer.event(f"scenario check on v{report.bad}: MAE {mae:.2f} min")
        before_rollback = sender.tally.snapshot()["failed"]
        # the same run's baseline: what starting the CLI alone costs on this machine now
        _, values["cli_startup_seconds"] = clone.run("cli-startup", "strata", "rollback", "--help")
        started_wall = datetime.now(UTC)
        _, values["rollback_cli_seconds"] = clone.run("rollback", "strata", "rollback", MODEL, "--reason",
                                                      "bench: scenario check failed")  # fmt: skip
        record = current_record(stack)
        applied = wait_applied(engine, int(record["revision"]))
        values["rollback_applied_seconds"] = (applied - started_wall).total_seconds()
        values["decision_applied_seconds"] = (applied - parse_time(str(record["created_at"]))).total_seconds()
        values["rolled_back_to"] = record.get("stable_version")
        timer.event(f"strata rollback: v{record.get('stable_version')} serves ({values['rollback_cli_seconds']:.2f} s)")
        mae = scenario_check(bl, bodies, truth)
        report.scenario.append((f"v{record.get('stable_version')} after the rollback", mae,
                                mae <= SCENARIO_TOLERANCE * baseline))  # fmt: skip
        time.sleep(3)
        values["rollback_window_failed"] = sender.tally.snapshot()["failed"] - before_rollback
    values["bl_pids_after"] = process_ids(master)
    values["phase2"] = {**sender.tally.snapshot(), "lag_ms": load.max_lag_seconds * 1000}
    if rebuild:
        _rebuild_after_deletion(stack, clone, rate, report, timer, (bodies, truth, baseline))


def _rebuild_after_deletion(stack: Stack, clone: Clone, rate: float, report: Report, timer: Timer,
                            scenario: tuple[list[dict[str, Any]], TruthModel, float]) -> None:  # fmt: skip
    bl, engine = stack.urls["business_logic"], stack.urls["inference_engine"]
    bodies, truth, baseline = scenario
    values = report.values
    # 3. the previous version's artifact is gone: rebuilt and redeployed by strata reproduce
    record, _ = deploy_full(clone, stack, report.bad, "deploy-bad-again", "bench: newer data, again")
    wait_applied(engine, int(record["revision"]))
    values["deleted"] = _delete_model_files(stack, report.good)
    shutil.rmtree(clone.root / ".dvc" / "cache", ignore_errors=True)
    timer.event(f"v{report.bad} serves again; v{report.good}'s model files deleted ({values['deleted']}), DVC "
                "cache deleted")  # fmt: skip
    sender = QuoteSender(bl, bodies, Tally(), None)
    with open_load(sender, rate) as load:
        out, values["reproduce_seconds"] = clone.run("reproduce", "strata", "reproduce", MODEL, "--version",
                                                     str(report.good), "--deploy", "--mode", "full")  # fmt: skip
        verdict = json.loads(next(ln for ln in reversed(out.splitlines()) if ln.startswith("{")))
        report.rebuilt = int(verdict["adopted"]["version"])
        values["verdict"] = verdict["verdict"]
        record = current_record(stack)
        wait_applied(engine, int(record["revision"]))
        values["reproduced_serving"] = record.get("stable_version")
        timer.event(f"strata reproduce --deploy: v{report.rebuilt} ({verdict['verdict']}) serves "
                    f"({values['reproduce_seconds']:.0f} s)")  # fmt: skip
        mae = scenario_check(bl, bodies, truth)
        report.scenario.append((f"v{report.rebuilt} (rebuild of v{report.good})", mae,
                                mae <= SCENARIO_TOLERANCE * baseline))  # fmt: skip
        time.sleep(2)
    values["phase3"] = {**sender.tally.snapshot(), "lag_ms": load.max_lag_seconds * 1000}


def _delete_model_files(stack: Stack, version: int) -> str:
    """Delete ``version``'s model files where the registry keeps them (what an expired bucket or a cleanup does)."""
    code = f"""
import shutil
from urllib.parse import urlparse
from mlflow import MlflowClient
from inference_engine.settings import Settings
uri = MlflowClient(Settings().tracking_uri()).get_model_version_download_uri("{MODEL}", "{version}")
path = urlparse(uri).path if uri.startswith("file:") else uri
shutil.rmtree(path)
print(path)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=stack.env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"deleting the files of etd v{version} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip().splitlines()[-1]


def print_report(report: Report) -> None:
    console = Console(width=160, highlight=False)
    timeline = Table(title="Timeline (seconds since the bench started)")
    timeline.add_column("t (s)", justify="right")
    timeline.add_column("what")
    for at, text in report.events:
        timeline.add_row(f"{at:.1f}", text)
    console.print(timeline)
    scenario = Table(title=f"Scenario check: MAE of {SCENARIO_QUOTES} quotes through business logic against the "
                     f"simulated truth (fails above {SCENARIO_TOLERANCE} x the pipeline engine's)")  # fmt: skip
    for column in ("engine serving", "MAE (min)", "check"):
        scenario.add_column(column, justify="right" if column != "engine serving" else "left")
    for what, mae, passed in report.scenario:
        scenario.add_row(what, f"{mae:.2f}", "pass" if passed else "FAIL")
    console.print(scenario)
    v = report.values
    p2, p3 = v["phase2"], v.get("phase3")
    table = Table(title=f"RQ2: rollback of the inference engine under an open loop of {report.rate:.0f} quotes/s "
                  "(2-core machine)")  # fmt: skip
    for column in ("measure", "value", "target"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row("`strata rollback etd` wall time (CLI start to exit)", f"{v['rollback_cli_seconds']:.2f} s", "< 2 s")
    table.add_row("the CLI's start alone, same run (`strata rollback --help`)",
                  f"{v['cli_startup_seconds']:.2f} s", "")  # fmt: skip
    table.add_row("command start -> engine applied the rollback", f"{v['rollback_applied_seconds']:.2f} s", "< 2 s")
    table.add_row("rollback record (comparative evaluation) -> engine applied it",
                  f"{v['decision_applied_seconds']:.2f} s", "")  # fmt: skip
    table.add_row("rolled back to", f"v{v['rolled_back_to']}", f"v{report.good}")
    table.add_row("business logic PIDs (master, workers) before / after",
                  f"{v['bl_pids_before']} / {v['bl_pids_after']}", "unchanged")  # fmt: skip
    table.add_row("failed quotes in the rollback window", str(v["rollback_window_failed"]), "0")
    table.add_row(f"quotes sent / failed, v{report.bad} deploy -> after the rollback", f"{p2['sent']} / {p2['failed']}",
                  "0 failed")  # fmt: skip
    table.add_row("  quote latency p50 / p99, load scheduler max lag",
                  f"{p2['p50_ms']:.0f} / {p2['p99_ms']:.0f} ms, {p2['lag_ms']:.0f} ms", "")  # fmt: skip
    if p3 is None:
        console.print(table)
        console.print("--no-rebuild: no DVC pipeline engine, no rebuild after deletion")
        return
    table.add_row(f"v{report.good}'s artifact deleted: `strata reproduce etd --version {report.good} --deploy`",
                  f"{v['reproduce_seconds']:.0f} s", "")  # fmt: skip
    table.add_row("  verdict of the rebuild / version serving after it",
                  f"{v['verdict']} / v{v['reproduced_serving']}", f"identical / v{report.rebuilt}")  # fmt: skip
    table.add_row("  quotes sent / failed during it", f"{p3['sent']} / {p3['failed']}", "0 failed")
    table.add_row("  quote latency p50 / p99, load scheduler max lag",
                  f"{p3['p50_ms']:.0f} / {p3['p99_ms']:.0f} ms, {p3['lag_ms']:.0f} ms", "")  # fmt: skip
    table.add_row("the etd engine's first build (dvc repro train_etd from nothing)", f"{v['pipeline_seconds']:.0f} s",
                  "")  # fmt: skip
    console.print(table)
    for label, phase in (("rollback", p2), ("reproduce", p3)):
        if phase["failures"]:  # printed after the table
            console.print(f"first failures ({label}): {phase['failures']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench rollback", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--var-dir", type=Path, default=None, help="a built demo (default: build a tiny one)")
    parser.add_argument("--rate", type=float, default=50.0, help="ETD quotes per second (open loop)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch work dir (logs, clone, var)")
    parser.add_argument(
        "--no-rebuild",
        dest="rebuild",
        action="store_false",
        help="roll back to the build's engine; skip the DVC pipeline and the rebuild after deletion",
    )
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be > 0")
    try:
        report = run(args.var_dir, args.rate, args.keep, args.rebuild)
    except (RuntimeError, TimeoutError, OSError, httpx.HTTPError, OperatorError) as exc:
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise SystemExit(1) from None
    print_report(report)
    failed = sum(report.values[phase]["failed"] for phase in ("phase2", "phase3") if phase in report.values)
    if failed or report.values["bl_pids_before"] != report.values["bl_pids_after"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
