"""Progressive rollout under live traffic: a good candidate is promoted step by step, a worse one is rolled back.

`python -m bench rollout [--var-dir var] [--rate 50] [--duration 1200]` needs a built demo (`make demo` or
`strata build`; the bench reads its size and seed from `<var>/demo/BUILT`). It works on a scratch copy of the var
dir (the registry, the event log and the deployment records it changes stay out of the demo), and starts
data_lake, inference_engine, data_processing, business_logic and comparative_eval on free ports, with a fresh
operator token and the local event log. `--profile cluster [--size tiny]` runs it on the real engines instead
(bench/rollout_cluster.py): deploy/cluster.yaml on free ports, `strata cluster up`, `strata build`, `strata run`.

Open-loop load: ETD quotes go through business_logic at a fixed rate (a thread pool sends each on its slot, so
a slow answer does not lower the rate), each with a customer id from a pool (the routing key of the canary split)
and its own request id. A couple of seconds after each answered quote the bench publishes the order's outcome on
`etd.order_delivered` (`quote_request_id` = the quote's request id, `delivery_minutes` = the simulated world's
truth for that restaurant, basket and time: data_collection.simulator's generative model).

Sequence: train both candidates (`python -m inference_engine train etd --no-partitions`, the worse one with
`--param n_estimators=2 --param max_depth=1`), deploy the good one as a 5% canary, let the analysis promote it to
100%, deploy the worse one the same way, let the analysis roll it back. Reported: failed requests over the whole
run (every non-2xx and transport error), the timeline, the time the analysis took to detect the worse model, and
the time from the rollback decision to the last canary-routed prediction (prediction log) and to the engine's
`applied_at`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from rich.console import Console
from rich.table import Table

from bench.rollout_load import FixedRateLoad, OutcomePublisher, QuoteSender, Tally, TruthModel, quote_bodies
from strata_cli.deployment_views import split_text
from strata_cli.operator import DeploymentsClient, OperatorError
from strata_cli.topology import Service
from strata_kernel.contracts import topics
from strata_kernel.eventlog import open_event_log
from strata_kernel.loopback import free_port
from strata_kernel.settings import StrataSettings

if TYPE_CHECKING:
    from bench.rollout_cluster import ClusterStack

ROOT = Path(__file__).resolve().parents[1]
MODEL = "etd"
SERVICES = ("data_lake", "inference_engine", "data_processing", "business_logic", "comparative_eval")
BAD_PARAMS = ("n_estimators=2", "max_depth=1")


def scratch_copy(var_dir: Path, workdir: Path) -> Path:
    """The demo's var dir copied (without run logs and supervisor state): the bench changes only the copy."""
    if not (var_dir / "demo" / "BUILT").is_file():
        raise SystemExit(f"error: {var_dir} holds no built demo (run `make demo` or `strata build` first)")
    target = workdir / "var"
    shutil.copytree(var_dir, target, ignore=shutil.ignore_patterns("run"), symlinks=True)
    registry = target / "mlflow" / "mlflow.db"
    if registry.is_file():
        relocate(registry, str(var_dir), str(target))
    return target


def relocate(database: Path, old: str, new: str) -> None:
    """MLflow keeps absolute artifact locations: point the copy's at the copy, or new runs write into the demo."""
    with closing(sqlite3.connect(database)) as db, db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                if str(column[2]).upper().startswith(("VARCHAR", "TEXT")):
                    name = column[1]
                    db.execute(f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) WHERE instr("{name}", ?) > 0',
                               (old, new, old))  # fmt: skip


class Stack:
    """The five services as subprocesses on free ports, one log file each under the work dir."""

    def __init__(self, var_dir: Path, logs: Path, token: str) -> None:
        self.var_dir = var_dir
        self.urls = {name: f"http://127.0.0.1:{free_port()}" for name in SERVICES}
        self.env = {
            **os.environ,
            "STRATA_VAR_DIR": str(var_dir),
            "STRATA_EVENT_LOG": "local",
            "STRATA_OPERATOR_TOKEN": token,
            "STRATA_LOG_JSON": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            **{f"STRATA_{name.upper()}_URL": url for name, url in self.urls.items()},
        }
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @contextmanager
    def running(self) -> Iterator[Stack]:
        try:
            self._start("data_lake")
            self._wait_ready(timeout_seconds=60)
            self.features_as_of_today()
            for name in SERVICES[1:]:
                self._start(name)
            self._wait_ready(timeout_seconds=180)
            yield self
        finally:
            for process in self.processes.values():
                process.terminate()
            for process in self.processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _start(self, name: str) -> None:
        workers = 2 if name in {"inference_engine", "data_processing", "business_logic"} else 1
        command = Service(name, self.urls[name], workers=workers).command()
        with open(self.logs / f"{name}.log", "wb") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def features_as_of_today(self) -> None:
        """Rebuild the online features as of today (the product's own job, in the scratch copy).

        A demo's newest snapshot is stamped "the day after the newest data": on the day it was built that is
        tomorrow 00:00, a row from the future that the estimate path rightly refuses, and two days later it is
        past the group's TTL. Either way quotes would be served without restaurant features, and a good model
        would look no better than a poor one."""
        self._job("build-features", features_as_of_today())

    def _job(self, label: str, args: list[str]) -> str:
        return run_job(self.env, self.logs, label, args)

    def _wait_ready(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        pending = {name: url for name, url in self.urls.items() if name in self.processes}
        while pending:
            for name, url in list(pending.items()):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited before it was ready (log: {self.logs / (name + '.log')})")
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        del pending[name]
                except httpx.TransportError:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout_seconds:.0f}s: {', '.join(pending)}")
            time.sleep(0.3)

    def train(self, *params: str) -> int:
        return train_candidate(self.env, self.logs, params)

    def event_log_settings(self) -> StrataSettings:
        return StrataSettings(var_dir=self.var_dir, event_log="local")


def features_as_of_today() -> list[str]:
    """The job that re-stamps restaurant_stats' online snapshot as of today (why: ``Stack.features_as_of_today``)."""
    return ["data_processing", "build-features", "restaurant_stats", "--as-of", date.today().isoformat()]


def run_job(env: dict[str, str], logs: Path, label: str, args: list[str]) -> str:
    """``python -m <args>`` with its output in ``logs/<label>.log``; raises with its last error line."""
    result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)  # fmt: skip
    log = logs / f"{label}.log"
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        errors = [ln for ln in (result.stderr + result.stdout).splitlines() if ln.strip().startswith("error")]
        why = errors[-1].strip() if errors else f"exit code {result.returncode}"
        raise RuntimeError(f"{label} failed: {why} (log: {log})")
    return result.stdout


def train_candidate(env: dict[str, str], logs: Path, params: tuple[str, ...]) -> int:
    """Register a candidate; returns its version (the JSON line the training job prints)."""
    args = ["inference_engine", "train", MODEL, "--no-partitions"]
    for param in params:
        args += ["--param", param]
    stdout = run_job(env, logs, f"train-{'-'.join(params) or 'good'}", args)
    line = next(ln for ln in reversed(stdout.strip().splitlines()) if ln.startswith("{"))
    return int(json.loads(line)["version"])


class Timeline:
    """Polls comparative_eval and keeps every new deployment record and every verdict change, with the time."""

    def __init__(self, client: DeploymentsClient, started: float) -> None:
        self.client = client
        self.started = started
        self.events: list[tuple[float, str]] = []
        self.records: list[dict[str, Any]] = []
        self.verdicts: list[tuple[float, str]] = []  # (seconds since start, verdict) at each change
        self._verdict: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def latest(self) -> dict[str, Any] | None:
        return self.records[-1] if self.records else None

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.poll()
            except OperatorError as exc:
                message = f"comparative_eval: {exc.message}"
                if not self.events or self.events[-1][1] != message:  # once, not every 0.25 s
                    self.events.append((time.monotonic() - self.started, message))

    def poll(self) -> None:
        payload = self.client.deployment(MODEL)
        record, analysis = payload.get("record") or {}, payload.get("analysis") or {}
        now = time.monotonic() - self.started
        if not self.records or record.get("revision") != self.records[-1].get("revision"):
            self.records.append(record)
            self.events.append((now, describe(record)))
        verdict = analysis.get("verdict")
        if verdict and verdict != self._verdict:
            self._verdict = verdict
            self.verdicts.append((now, verdict))
            self.events.append((now, f"verdict {verdict}: {'; '.join(analysis.get('reasons') or [])}"))


def describe(record: dict[str, Any]) -> str:
    candidate = record.get("candidate_version")
    versions = f"stable v{record.get('stable_version')}" + (f", candidate v{candidate}" if candidate else "")
    who = f" by {record.get('actor')}" if record.get("actor") else ""
    return f"rev {record.get('revision')}: {versions}, {split_text(record)}{who} ({record.get('reason') or '-'})"


def wait_for_end_of(deploy: dict[str, Any], timeline: Timeline, deadline: float, what: str) -> dict[str, Any]:
    """The first record after ``deploy`` without a candidate: the analysis promoted it fully, or rolled it back.

    Only records newer than the deploy count: the poller may not have seen the deploy itself yet."""
    while time.monotonic() < deadline:
        record = timeline.latest()
        newer = record is not None and int(record.get("revision", 0)) > int(deploy["revision"])
        if newer and record is not None and record.get("candidate_version") is None:
            return record
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not reached before the --duration cap")


def parse_time(value: str) -> datetime:
    """An aware UTC time; naive times (the event log's convention) are this machine's local wall clock."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.astimezone()).astimezone(UTC)


def last_canary_prediction(event_log: StrataSettings, version: int) -> datetime | None:
    """When the last prediction answered by ``version`` on the canary route was made (the prediction log)."""
    log = open_event_log(event_log)
    consumer = log.consumer(topics.PREDICTIONS.name, f"bench.rollout.{secrets.token_hex(4)}")
    last: datetime | None = None
    try:
        while events := consumer.poll(max_records=5000, timeout_seconds=0.5):
            for event in events:
                value = event.value
                ours = value.get("model") == MODEL and value.get("version") in (version, str(version))
                if ours and value.get("route") == "canary" and value.get("event_time"):
                    at = parse_time(str(value["event_time"]))
                    last = at if last is None or at > last else last
    finally:
        consumer.close()
        log.close()
    return last


def run(var_dir: Path, rate: float, duration: float, keep: bool, bad_params: tuple[str, ...],
        profile: str = "local", size: str = "tiny") -> dict[str, Any]:  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="strata-rollout-"))
    console = Console(stderr=True, highlight=False)
    try:
        with ExitStack() as stack:
            token = secrets.token_urlsafe(24)
            services: Stack | ClusterStack
            if profile == "cluster":
                from bench.rollout_cluster import ClusterStack

                services = stack.enter_context(ClusterStack(workdir, token, size, console).running())
            else:
                scratch = scratch_copy(var_dir.resolve(), workdir)
                (workdir / "logs").mkdir()
                services = stack.enter_context(Stack(scratch, workdir / "logs", token).running())
            console.print(f"services ready ({', '.join(f'{n} {u}' for n, u in services.urls.items())})", soft_wrap=True)
            good = services.train()
            bad = services.train(*bad_params)
            console.print(f"candidates registered: good v{good}, worse v{bad} ({' '.join(bad_params)})")
            report = _rollout(services, token, rate, duration, good, bad, console)
            report["profile"] = profile
            report["start_seconds"] = getattr(services, "seconds", {})
            return report
    finally:
        if keep:
            console.print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _rollout(stack: Stack | ClusterStack, token: str, rate: float, duration: float, good: int, bad: int,
             console: Console) -> dict[str, Any]:  # fmt: skip
    demo = stack.var_dir / "demo" / "BUILT"
    built = json.loads(demo.read_text())
    truth = TruthModel.for_demo(built["size"], int(built["seed"]), demo.stat().st_mtime)
    log = open_event_log(stack.event_log_settings())
    tally = Tally()
    publisher = OutcomePublisher(log, truth, delay_seconds=2.0)
    sender = QuoteSender(stack.urls["business_logic"], quote_bodies(stack.urls["business_logic"]), tally, publisher)
    load = FixedRateLoad(sender.send, rate)
    client = DeploymentsClient(stack.urls["comparative_eval"], token=token, timeout_seconds=120)
    started = time.monotonic()
    load_average = [os.getloadavg()[0]]
    deadline = started + duration
    timeline = Timeline(client, started)
    stop = threading.Event()
    load_thread = threading.Thread(target=load.run, args=(stop, duration), daemon=True)
    try:
        publisher.start()
        load_thread.start()
        timeline.start()
        time.sleep(5)  # stable-only traffic first: the analysis compares against a warm baseline
        good_deploy = client.deploy(MODEL, good, "canary", 5, "bench: retrained candidate")
        console.print(f"v{good} deployed as a 5% canary; waiting for the analysis to promote it")
        promoted = wait_for_end_of(good_deploy, timeline, deadline, "promotion")
        if str(promoted.get("stable_version")) != str(good):
            raise RuntimeError(f"the good candidate was not promoted: {describe(promoted)}")
        bad_deploy = client.deploy(MODEL, bad, "canary", 5, "bench: deliberately worse candidate")
        bad_deployed_at = time.monotonic() - started
        console.print(f"v{bad} deployed as a 5% canary; waiting for the analysis to roll it back")
        rolled = wait_for_end_of(bad_deploy, timeline, deadline, "rollback")
        time.sleep(5)  # keep the load on: the last canary-routed prediction must be visible if there is one
    finally:
        load_average.append(os.getloadavg()[0])
        stop.set()
        load_thread.join(timeout=30)
        load.wait()
        timeline.stop()
        publisher.stop()
        log.close()
    report = {
        "rate": rate, "tally": tally.snapshot(), "elapsed": time.monotonic() - started, "outcomes": publisher.published,
        "events": timeline.events, "good": good, "bad": bad, "ending": describe(rolled),
        "rolled_back": str(rolled.get("stable_version")) == str(good), "lag_max_ms": load.max_lag_seconds * 1000,
        "load_average": load_average,
        "detect_seconds": None, "last_canary_seconds": None, "applied_seconds": None,
        # when the analysis first said "rollback" (as seen by polling every 0.25 s), before it acted on it
        "verdict_seconds": next((t - bad_deployed_at for t, v in timeline.verdicts
                                 if t >= bad_deployed_at and v == "rollback"), None),
    }  # fmt: skip
    if report["rolled_back"]:  # the timings below mean something only for a rollback
        decided = parse_time(rolled["created_at"])
        report["detect_seconds"] = (decided - parse_time(bad_deploy["created_at"])).total_seconds()
        last_canary = last_canary_prediction(stack.event_log_settings(), bad)
        report["last_canary_seconds"] = (last_canary - decided).total_seconds() if last_canary else None
        routing = httpx.get(f"{stack.urls['inference_engine']}/v1/models/{MODEL}/routing", timeout=5).json()
        if routing.get("revision") == rolled.get("revision") and routing.get("applied_at"):
            report["applied_seconds"] = (parse_time(routing["applied_at"]) - decided).total_seconds()
    return report


def print_report(report: dict[str, Any]) -> None:
    console = Console(width=150, highlight=False)
    timeline = Table(title="Timeline (seconds since the load started)")
    timeline.add_column("t (s)", justify="right")
    timeline.add_column("change")
    for at, text in report["events"]:
        timeline.add_row(f"{at:.1f}", text)
    console.print(timeline)
    t = report["tally"]
    where = "cluster profile" if report.get("profile") == "cluster" else "local profile"
    table = Table(title=f"Rollout under open-loop load, {report['rate']:.0f} quotes/s, {where} (2-core machine)")
    for column in ("measure", "value", "target"):
        table.add_column(column, justify="right" if column != "measure" else "left")

    def secs(value: float | None) -> str:
        return f"{value:.1f} s" if value is not None else "-"

    for phase, seconds in report.get("start_seconds", {}).items():
        table.add_row(f"start: {phase}", f"{seconds:.1f} s", "")
    table.add_row("requests sent", str(t["sent"]), "")
    table.add_row("failed requests (non-2xx + transport)", str(t["failed"]), "0")
    table.add_row("achieved rate", f"{t['sent'] / report['elapsed']:.1f}/s", f"{report['rate']:.0f}/s")
    table.add_row("quote latency p50 / p99", f"{t['p50_ms']:.1f} / {t['p99_ms']:.1f} ms", "")
    table.add_row("host load average, start / end", " / ".join(f"{v:.1f}" for v in report["load_average"]), "")
    table.add_row("scheduler max lag", f"{report['lag_max_ms']:.1f} ms", "")
    table.add_row("outcomes published", str(report["outcomes"]), "")
    table.add_row(f"worse v{report['bad']}: deploy -> first 'rollback' verdict", secs(report["verdict_seconds"]), "")
    table.add_row(f"worse v{report['bad']}: deploy -> rollback record (decision)", secs(report["detect_seconds"]), "")
    table.add_row("rollback decision -> last canary prediction", secs(report["last_canary_seconds"]), "")
    table.add_row("rollback decision -> engine applied_at", secs(report["applied_seconds"]), "")
    ending = f"rolled back to v{report['good']}" if report["rolled_back"] else f"NOT rolled back: {report['ending']}"
    table.add_row(f"end of worse v{report['bad']}", ending, "rolled back")
    console.print(table)
    if t["failures"]:
        console.print(f"first failures: {t['failures']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench rollout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var", help="a built demo (default: the repo's var/)")
    parser.add_argument("--rate", type=float, default=50.0, help="ETD quotes per second (open loop)")
    parser.add_argument("--duration", type=float, default=1200.0, help="cap on the whole rollout, seconds")
    parser.add_argument("--bad-param", action="append", help=f"worse candidate's KEY=VALUE (default: {BAD_PARAMS})")
    parser.add_argument("--keep", action="store_true", help="keep the scratch work dir (logs, copy of var)")
    parser.add_argument("--profile", choices=("local", "cluster"), default="local",
                        help="local: the built demo's copy on the embedded defaults; cluster: deploy/cluster.yaml's "
                        "real engines on free ports, the demo built on them first (tens of minutes)")  # fmt: skip
    parser.add_argument("--size", default="tiny", help="--profile cluster: the demo size to build (default tiny)")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0:
        parser.error("--rate and --duration must be > 0")
    try:
        report = run(
            args.var_dir,
            args.rate,
            args.duration,
            args.keep,
            tuple(args.bad_param or BAD_PARAMS),
            args.profile,
            args.size,
        )
    except (RuntimeError, TimeoutError, OperatorError, OSError) as exc:
        message = exc.message if isinstance(exc, OperatorError) else str(exc)
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {message}", soft_wrap=True, markup=True)
        raise SystemExit(1) from None
    print_report(report)
    if not report["rolled_back"] or report["tally"]["failed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
