"""`python -m bench etd`: Strata's ETD path against `mlflow models serve` on the same model, interleaved in one run.

Starts a Strata built from the `small` demo under var/bench (the first run builds it) and `mlflow models serve` on
the very XGBoost version Strata serves, both up at once, then measures in alternating slices (every target gets a
slice in each round, the order rotating per round, so background load hits all of them alike):
- the ETD path: business logic -> data processing -> inference engine (``POST /v1/etd``);
- the inference engine alone (one prediction per request);
- the chatbot's free text: business logic -> data processing -> inference engine (``POST /v1/help/ask``, c=1);
- the baseline: `mlflow models serve` (one hop, one row);
- with ``--against DIR`` (repeatable): the same three Strata targets of another checkout (e.g. main before a
  change, as ``git worktree add --detach /tmp/base main``; labelled by its folder's name), started next to this one
  on other ports (19000, 20000, ...) with a copy of the demo, so a change is measured before/after in the same run.
Closed loop at each concurrency (p50/p99, requests per second, ratios to mlflow), then an open loop at a fixed rate
(``--rate``; latencies counted from each request's intended start: no coordinated omission). The 1-minute load
average is printed beside every row (min-max over its slices), and the CPU the servers on the target's path spent
per request (their processes' user + system time over its slices, `bench.harness.ServerCpu`): on this shared machine
it moves far less with the background load than a latency does, so a lever's saving shows there first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.harness import JsonPoster, ServerCpu, Slices, Summary, closed_loop, measure, open_loop
from strata_kernel.contracts.auth import read_operator_token
from strata_kernel.loopback import free_port

ROOT = Path(__file__).resolve().parents[1]
PORTS = {"ui": 18000, "business_logic": 18001, "data_processing": 18002, "inference_engine": 18003,
         "data_lake": 18004, "data_collection": 18005, "comparative_eval": 18006, "help_centre": 18007}  # fmt: skip
SIDECAR_OFFSET = 101  # sidecars listen on base + 101 + n (18101...); the stream worker on data processing's + 10


def _env(var_dir: Path, port_base: int = 18000) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "STRATA_VAR_DIR": str(var_dir),
        "STRATA_DEMO_SIZE": "small",
        "STRATA_SIDECAR_BASE_PORT": str(port_base + SIDECAR_OFFSET),
        "STRATA_PROMETHEUS_URL": f"http://127.0.0.1:{port_base + 90}",
        "STRATA_ALERTMANAGER_URL": f"http://127.0.0.1:{port_base + 93}",
        **{
            f"STRATA_{name.upper()}_URL": f"http://127.0.0.1:{port_base + port - 18000}" for name, port in PORTS.items()
        },
    }


@contextmanager
def running_strata(var_dir: Path, code: Path = ROOT, port_base: int = 18000) -> Iterator[None]:
    """`strata run` of the checkout ``code`` (its own packages: the working directory comes first on sys.path)."""
    env = _env(var_dir, port_base)
    process = subprocess.Popen(
        [sys.executable, "-m", "strata_cli", "run"], env=env, cwd=code,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stderr.write(line)
            if "Strata is running" in line:
                break
        else:
            raise RuntimeError("strata run exited before it was ready")
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


@contextmanager
def mlflow_serve(var_dir: Path, port: int, model_uri: str) -> Iterator[None]:
    env = {**_env(var_dir), "MLFLOW_TRACKING_URI": f"sqlite:///{var_dir / 'mlflow' / 'mlflow.db'}"}
    mlflow = Path(sys.executable).with_name("mlflow")
    process = subprocess.Popen(
        [str(mlflow), "models", "serve", "-m", model_uri, "-p", str(port), "-h", "127.0.0.1",
         "--env-manager", "local", "-w", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            raise RuntimeError("mlflow models serve did not start")
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _orders(base: str, count: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    restaurants = httpx.get(f"{base}/v1/restaurants", params={"limit": 200}).json()["restaurants"]
    orders = []
    for restaurant in restaurants[:50]:
        menu = httpx.get(f"{base}/v1/restaurants/{restaurant['id']}").json()["menu"]
        lines = rng.sample(menu, k=min(len(menu), rng.randint(1, 3)))
        basket = [{"item_id": item["item_id"], "quantity": rng.randint(1, 3)} for item in lines]
        orders.append({"restaurant_id": restaurant["id"], "basket": basket})
    return [orders[i % len(orders)] for i in range(count)]


def _instances(features: list[str], count: int) -> list[dict[str, float]]:
    rng = random.Random(11)
    return [{name: rng.uniform(0, 30) for name in features} for _ in range(count)]


def _post_all(
    label: str, base: str, path: str, bodies: list[object], concurrency: int, headers: dict[str, str] | None = None
) -> Summary:
    """Warm up, then send every body once over ``concurrency`` keep-alive connections."""
    poster = JsonPoster(base, concurrency, headers)

    def call(i: int) -> int:
        return poster.post(path, bodies[i])[0]

    measure("warm-up", call, requests=min(200, len(bodies)), concurrency=concurrency)
    return measure(label, call, requests=len(bodies), concurrency=concurrency)


def _global_xgboost_version(var_dir: Path) -> tuple[int, list[str]]:
    """The newest plain XGBoost version of etd, trained once if there is none.

    The demo serves a partitioned model, a Strata flavor `mlflow models serve` cannot load; the baseline and
    Strata's engine are compared on the same global XGBoost version instead.
    """
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{var_dir / 'mlflow' / 'mlflow.db'}")
    versions = [v for v in client.search_model_versions("name = 'etd'") if v.tags.get("framework") == "xgboost"]
    if not versions:
        subprocess.run(
            [sys.executable, "-m", "inference_engine", "train", "etd", "--no-partitions"],
            env=_env(var_dir), cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        versions = [v for v in client.search_model_versions("name = 'etd'") if v.tags.get("framework") == "xgboost"]
    newest = max(versions, key=lambda v: int(v.version))
    return int(newest.version), list(json.loads(newest.tags["features"]))


# ------------------------------------------------------------------------------------------ interleaved targets


@dataclass
class Target:
    """One thing measured: a path, the bodies it is sent, and where its slices accumulate."""

    label: str
    base: str
    path: str
    bodies: list[object]
    headers: dict[str, str] = field(default_factory=dict)
    only_concurrency: int | None = None  # the chatbot's target is measured at concurrency 1 only
    closed: dict[int, Slices] = field(default_factory=dict)
    opened: Slices | None = None
    cpu: ServerCpu | None = None  # the servers on its path, whose CPU each slice reads

    def caller(self, concurrency: int) -> Callable[[int], int]:
        poster = JsonPoster(self.base, concurrency, self.headers)
        return lambda i: poster.post(self.path, self.bodies[i % len(self.bodies)])[0]

    def cpu_seconds(self) -> float | None:
        return self.cpu.seconds() if self.cpu is not None else None

    def cpu_used_since(self, before: float | None) -> float | None:
        now = self.cpu_seconds()
        return now - before if now is not None and before is not None else None


@dataclass(frozen=True)
class Options:
    slice_requests: int = 200
    rounds: int = 5
    concurrencies: tuple[int, ...] = (1, 8, 32)
    rate: float = 200.0
    open_seconds: float = 10.0
    open_rounds: int = 3
    against: tuple[Path, ...] = ()


def _strata_targets(label: str, var_dir: Path, port_base: int, count: int) -> list[Target]:
    bl = f"http://127.0.0.1:{port_base + 1}"
    ie = f"http://127.0.0.1:{port_base + 3}"
    version, features = _global_xgboost_version(var_dir)
    operator = {"Authorization": f"Bearer {read_operator_token(None, var_dir)}"}
    instances: list[object] = [{"instances": [row]} for row in _instances(features, count)]
    questions: list[object] = [{"text": text} for text in _questions(count)]
    path_ports = (port_base + 1, port_base + 2, port_base + 3)  # business logic, data processing, engine
    return [
        Target(f"{label}: ETD path (3 services)", bl, "/v1/etd", list(_orders(bl, count)), cpu=ServerCpu(path_ports)),
        Target(
            f"{label}: engine alone, etd v{version}",
            ie,
            f"/v1/models/etd/versions/{version}/predict",
            instances,
            operator,
            cpu=ServerCpu([port_base + 3]),
        ),
        Target(
            f"{label}: chatbot free text (3 services)",
            bl,
            "/v1/help/ask",
            questions,
            only_concurrency=1,
            cpu=ServerCpu(path_ports),
        ),
    ]


def _questions(count: int) -> list[str]:
    import yaml

    heldout = ROOT / "data_collection" / "helpcentre" / "heldout_questions.yaml"
    texts = [str(item["text"]) for item in yaml.safe_load(heldout.read_text())]
    return [texts[i % len(texts)] for i in range(count)]


def _mlflow_target(version: int, features: list[str], port: int, count: int) -> Target:
    rows = _instances(features, count)
    bodies: list[object] = [
        {"dataframe_split": {"columns": features, "data": [[row[f] for f in features]]}} for row in rows
    ]
    return Target(f"mlflow models serve, etd v{version} (1 hop)", f"http://127.0.0.1:{port}", "/invocations", bodies,
                  cpu=ServerCpu([port]))  # fmt: skip


def _interleave(targets: list[Target], options: Options) -> None:
    """Closed loop: per concurrency, ``rounds`` rounds of one slice per target (rotating order), after a warm-up."""
    for concurrency in options.concurrencies:
        active = [t for t in targets if t.only_concurrency in (None, concurrency)]
        callers = {t.label: t.caller(concurrency) for t in active}
        for target in active:  # warm-up: connections, caches, the first predictions of a worker
            closed_loop(callers[target.label], requests=min(100, options.slice_requests), concurrency=concurrency)
            target.closed[concurrency] = Slices(target.label, concurrency, [])
        for round_ in range(options.rounds):
            for target in active[round_ % len(active) :] + active[: round_ % len(active)]:
                cpu_before = target.cpu_seconds()
                latencies, seconds, errors = closed_loop(
                    callers[target.label], requests=options.slice_requests, concurrency=concurrency
                )
                target.closed[concurrency].add(latencies, seconds, errors, target.cpu_used_since(cpu_before))
            sys.stderr.write(f"c={concurrency}: round {round_ + 1}/{options.rounds} done\n")


def _open_loops(targets: list[Target], options: Options) -> None:
    """Open loop at ``rate``: ``open_rounds`` slices of ``open_seconds`` per target, alternating."""
    for round_ in range(options.open_rounds):
        for target in targets[round_ % len(targets) :] + targets[: round_ % len(targets)]:
            cpu_before = target.cpu_seconds()
            latencies, seconds, errors = open_loop(target.caller(64), rate=options.rate, seconds=options.open_seconds)
            if target.opened is None:
                target.opened = Slices(target.label, 0, [])
            target.opened.add(latencies, seconds, errors, target.cpu_used_since(cpu_before))
        sys.stderr.write(f"open loop: round {round_ + 1}/{options.open_rounds} done\n")


def run(options: Options) -> tuple[list[Target], Target, list[Target]]:
    """(Strata's targets incl. the other checkouts', mlflow's target, the open-loop targets), measured."""
    var_dir = ROOT / "var" / "bench"
    if not (var_dir / "demo" / "BUILT").exists():
        subprocess.run([sys.executable, "-m", "strata_cli", "build"], env=_env(var_dir), cwd=ROOT, check=True)
    count = options.slice_requests * 4
    # copied before any stack runs: a copy of live databases could be torn, and a stack may convert its files
    copies = [_copy_demo(var_dir, checkout) for checkout in options.against]
    with ExitStack() as stack:
        stack.enter_context(running_strata(var_dir))
        targets = _strata_targets("Strata", var_dir, 18000, count)
        for n, (checkout, other_var) in enumerate(zip(options.against, copies, strict=True), 1):
            stack.enter_context(running_strata(other_var, checkout.resolve(), port_base=18000 + 1000 * n))
            targets += _strata_targets(checkout.name, other_var, 18000 + 1000 * n, count)
        version, features = _global_xgboost_version(var_dir)
        port = free_port()
        stack.enter_context(mlflow_serve(var_dir, port, f"models:/etd/{version}"))
        mlflow = _mlflow_target(version, features, port, count)
        _interleave([*targets, mlflow], options)
        open_targets = [t for t in targets if "ETD path" in t.label] + [mlflow]
        if options.rate > 0:
            _open_loops(open_targets, options)
    return targets, mlflow, open_targets


def _copy_demo(var_dir: Path, checkout: Path) -> Path:
    """The baseline checkout's own copy of the built demo (a run writes to its var dir: two runs cannot share)."""
    target = checkout.resolve() / "var" / "bench-against"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(var_dir, target, ignore=shutil.ignore_patterns("run", "logs", "*.sock", "*.pid"))
    return target


# ---------------------------------------------------------------------------------------------------- the report


def report(targets: list[Target], mlflow: Target, open_targets: list[Target], options: Options) -> None:
    console = Console(width=170)
    table = Table(title=f"ETD serving, interleaved: {options.rounds} rounds x {options.slice_requests} requests per "
                  f"target and concurrency (2-core machine; ratios to mlflow serve in the same rounds)")  # fmt: skip
    for column in ("target", "conc.", "p50 ms", "p99 ms", "req/s", "errors", "p50 / mlflow", "req/s / mlflow",
                   "CPU ms/req", "load 1m"):  # fmt: skip
        table.add_column(column, justify="left" if column == "target" else "right")
    for concurrency in options.concurrencies:
        base = mlflow.closed[concurrency]
        for target in [*targets, mlflow]:
            row = target.closed.get(concurrency)
            if row is None:
                continue
            ratios = ("", "") if target is mlflow else (f"{row.p(50) / base.p(50):.2f}x", f"{row.rps / base.rps:.2f}x")
            table.add_row(target.label, str(concurrency), f"{row.p(50):.2f}", f"{row.p(99):.2f}", f"{row.rps:.0f}",
                          str(row.errors), *ratios, _cpu(row), row.load)  # fmt: skip
        table.add_section()
    console.print(table)
    if not options.rate:
        return
    opened = Table(title=f"Open loop at {options.rate:.0f} requests/s: {options.open_rounds} slices of "
                   f"{options.open_seconds:.0f} s per target, latency from each request's intended start")  # fmt: skip
    for column in ("target", "sent", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "achieved /s", "CPU ms/req",
                   "load 1m"):  # fmt: skip
        opened.add_column(column, justify="left" if column == "target" else "right")
    for target in open_targets:
        row = target.opened
        assert row is not None
        opened.add_row(target.label, str(len(row.latencies)), f"{row.p(50):.2f}", f"{row.p(99):.2f}",
                       f"{row.p(99.9):.2f}", f"{row.p(100):.2f}", str(row.errors), f"{row.rps:.0f}", _cpu(row),
                       row.load)  # fmt: skip
    console.print(opened)


def _cpu(row: Slices) -> str:
    cpu = row.cpu_ms_per_request
    return "" if cpu is None else f"{cpu:.2f}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench etd", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--slice", type=int, default=200, help="requests per target per slice (closed loop)")
    parser.add_argument("--rounds", type=int, default=5, help="slices per target and concurrency")
    parser.add_argument("--concurrency", default="1,8,32", help="closed-loop concurrencies, comma-separated")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s (0: no open loop)")
    parser.add_argument("--open-seconds", type=float, default=10.0, help="length of one open-loop slice")
    parser.add_argument("--open-rounds", type=int, default=3, help="open-loop slices per target")
    parser.add_argument("--against", type=Path, action="append", default=[],
                        help="another checkout measured in the same run (a baseline; may be repeated)")  # fmt: skip
    args = parser.parse_args(argv)
    options = Options(args.slice, args.rounds, tuple(int(c) for c in args.concurrency.split(",")), args.rate,
                      args.open_seconds, args.open_rounds, tuple(args.against))  # fmt: skip
    report(*run(options), options)
