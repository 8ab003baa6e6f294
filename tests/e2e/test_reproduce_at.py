"""`strata reproduce etd --at T --deploy` on a running Strata: a retrained version served in full at T, the operator
rolled back, and the reproduction retrains the version that served at T from the lake table version and options it
recorded (no DVC pipeline run), judges it identical, registers it and serves it in full — while customers' ETD
quotes keep being answered."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest

from bench.rollback import open_load
from bench.rollout_load import QuoteSender, Tally, quote_bodies
from tests.e2e.conftest import Stack
from tests.e2e.operations import first_table_rows, served_version, table_rows, wait_until_served

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


def routing(stack: Stack) -> tuple[str, object, str]:
    """(stable version, candidate version, mode) the inference engine routes by."""
    body = httpx.get(f"{stack.urls['inference_engine']}/v1/models/etd/routing", timeout=10).json()
    return str(body["stable_version"]), body["candidate_version"], body["mode"]


def retrain(stack: Stack) -> str:
    """A second version, other params: one global XGBoost model, shallower trees."""
    trained = subprocess.run(
        [sys.executable, "-m", "inference_engine", "train", "etd", "--no-partitions", "--param", "max_depth=3"],
        env=stack.env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    return str(json.loads(trained.stdout.strip().splitlines()[-1])["version"])


def deploy_in_full(stack: Stack, business_logic: httpx.Client, version: str) -> None:
    """`strata deploy etd --version V --mode full`, once comparative evaluation holds logged live instances to
    validate the version on."""
    deadline = time.monotonic() + 120
    while True:
        for _ in range(5):
            served_version(stack, business_logic)
        deployed = stack.cli("deploy", "etd", "--version", version, "--mode", "full", "--reason", "e2e: v in full",
                             timeout=300)  # fmt: skip
        if deployed.returncode == 0 or "no sample to validate" not in deployed.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr


def test_reproduce_at_a_past_instant_serves_that_version_again(stack: Stack, business_logic: httpx.Client) -> None:
    before = routing(stack)[0]
    version = retrain(stack)
    deploy_in_full(stack, business_logic, version)
    wait_until_served(stack, business_logic, version)
    assert routing(stack) == (version, None, "full")
    at = datetime.now(UTC).isoformat()  # the retrained version serves 100% now
    time.sleep(1)
    rolled = stack.cli("rollback", "etd", "--reason", "e2e: back to the previous version")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    wait_until_served(stack, business_logic, before)

    # customers keep asking for quotes through business logic, 5 a second, while the operator reproduces
    tally = Tally()
    with open_load(QuoteSender(stack.urls["business_logic"], quote_bodies(stack.urls["business_logic"], 10),
                               tally, None), rate=5.0):  # fmt: skip
        reproduced = stack.cli("reproduce", "etd", "--at", at, "--deploy", "--mode", "full", timeout=900)
    assert reproduced.returncode == 0, reproduced.stdout[-3000:] + reproduced.stderr[-2000:]

    verdict = json.loads(next(line for line in reproduced.stdout.splitlines() if line.startswith("{")))
    assert (verdict["version"], verdict["verdict"]) == (int(version), "bytes identical"), verdict
    assert f"Reproducing etd v{version}" in reproduced.stdout
    assert f"etd v{version}: bytes identical" in reproduced.stdout
    # trained again on the lake table version it recorded: no DVC pipeline ran
    assert "train etd again on " in reproduced.stdout and "dvc" not in reproduced.stdout.lower()
    adopted = str(verdict["adopted"]["version"])
    assert adopted not in {before, version}
    assert f"etd v{adopted} (rebuild of v{version}) deployed: full" in reproduced.stdout

    assert routing(stack) == (adopted, None, "full")
    wait_until_served(stack, business_logic, adopted)
    status = stack.cli("status", "etd")
    assert table_rows(status.stdout)[0][:4] == ["etd", f"v{adopted}", "-", "full"], status.stdout
    history = stack.cli("history", "etd")
    assert history.returncode == 0, history.stderr
    # revision, at, action, stable, candidate, split, step, pins, actor, reason
    latest = first_table_rows(history.stdout)[0]
    assert (latest[2], latest[3], latest[4], latest[8]) == ("deploy", f"v{adopted}", "-", "operator"), latest
    assert latest[9].startswith(f"rebuild of v{version}"), latest

    quotes = tally.snapshot()
    assert quotes["sent"] > 0 and quotes["failed"] == 0, quotes
