"""ETD serving benchmark: Strata's runtime flow against `mlflow models serve` on the same model, same run.

Starts a Strata built from the `small` demo under var/bench (first run builds it), then measures:
- ETD through business logic (business logic -> data processing -> inference engine), concurrency 1 and 32;
- the inference engine alone (one prediction per request), concurrency 1 and 32;
- `mlflow models serve` (the baseline the issue names) on the very model version Strata serves.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.harness import JsonPoster, Summary, measure
from strata_kernel.contracts.auth import read_operator_token

ROOT = Path(__file__).resolve().parents[1]
PORTS = {"ui": 18000, "business_logic": 18001, "data_processing": 18002, "inference_engine": 18003,
         "data_lake": 18004, "data_collection": 18005, "comparative_eval": 18006, "help_centre": 18007}  # fmt: skip


def _env(var_dir: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "STRATA_VAR_DIR": str(var_dir),
        "STRATA_DEMO_SIZE": "small",
        "STRATA_SIDECAR_BASE_PORT": "18101",
        **{f"STRATA_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in PORTS.items()},
    }


@contextmanager
def running_strata(var_dir: Path) -> Iterator[None]:
    env = _env(var_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "strata_cli", "run"], env=env, cwd=ROOT,
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


def run(requests: int = 1000) -> list[Summary]:
    var_dir = ROOT / "var" / "bench"
    if not (var_dir / "demo" / "BUILT").exists():
        subprocess.run([sys.executable, "-m", "strata_cli", "build"], env=_env(var_dir), cwd=ROOT, check=True)
    results: list[Summary] = []
    with running_strata(var_dir):
        version, features = _global_xgboost_version(var_dir)  # training reads the lake through its service
        bl = f"http://127.0.0.1:{PORTS['business_logic']}"
        ie = f"http://127.0.0.1:{PORTS['inference_engine']}"
        orders: list[object] = list(_orders(bl, requests))
        instances = _instances(features, requests)
        strata_bodies: list[object] = [{"instances": [row]} for row in instances]
        for concurrency in (1, 32):
            results.append(_post_all("ETD via business logic (3 services)", bl, "/v1/etd", orders, concurrency))
        for concurrency in (1, 32):
            results.append(
                _post_all(
                    f"Strata inference engine, etd v{version} (global XGBoost), 1 row",
                    ie,
                    f"/v1/models/etd/versions/{version}/predict",
                    strata_bodies,
                    concurrency,
                    # the engine's POST routes need a known caller: the operator's token of this stack
                    {"Authorization": f"Bearer {read_operator_token(None, var_dir)}"},
                )
            )
    mlflow_bodies: list[object] = [
        {"dataframe_split": {"columns": features, "data": [[row[f] for f in features]]}} for row in instances
    ]
    port = _free_port()
    with mlflow_serve(var_dir, port, f"models:/etd/{version}"):
        for concurrency in (1, 32):
            results.append(
                _post_all(
                    f"baseline: mlflow models serve, etd v{version}, 1 row",
                    f"http://127.0.0.1:{port}",
                    "/invocations",
                    mlflow_bodies,
                    concurrency,
                )
            )
    return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
