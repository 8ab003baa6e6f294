"""The operator's day through the CLI on a running Strata: the build's v1 is stable from the start, a v2 goes
canary, is promoted in full, and `strata rollback etd` brings v1 back to 100% — each step named in the history."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


def _rows(output: str) -> list[list[str]]:
    """A rich table's rows (a cell wrapped onto more lines: its first line only)."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]
    return [row for row in rows if row and row[0]]


def _served_version(stack: Stack, business_logic: httpx.Client) -> str:
    """The version that answered an ETD estimate (data processing says which model version scored it)."""
    restaurant_id = business_logic.get("/v1/restaurants", params={"limit": 1}).json()["restaurants"][0]["id"]
    restaurant = business_logic.get(f"/v1/restaurants/{restaurant_id}").json()
    order = {"restaurant_id": restaurant_id, "city_id": restaurant["city_id"],
             "country_code": restaurant["country_code"], "placed_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
             "n_items": 2, "subtotal": 20.0}  # fmt: skip
    body = httpx.post(f"{stack.urls['data_processing']}/v1/etd/estimate", json=order, timeout=10,
                      headers=stack.operator()).json()  # fmt: skip
    return str(body["version"])


def test_build_status_canary_promote_rollback_history(stack: Stack, business_logic: httpx.Client) -> None:
    status = stack.cli("status", "etd")
    assert status.returncode == 0, status.stdout + status.stderr
    record = _rows(status.stdout)[0]
    assert record[:4] == ["etd", "v1", "-", "full"], status.stdout

    trained = subprocess.run([sys.executable, "-m", "inference_engine", "train", "etd", "--no-partitions"],
                             env=stack.env, capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    version = json.loads(trained.stdout.strip().splitlines()[-1])["version"]
    assert str(version) == "2"

    # validation scores logged live instances: serve a few, then deploy once comparative_eval has them
    for _ in range(5):
        _served_version(stack, business_logic)
    deadline = time.monotonic() + 90
    while True:
        deployed = stack.cli("deploy", "etd", "--version", "2", "--mode", "canary", "--weight", "10",
                             "--reason", "e2e: v2 as canary", timeout=300)  # fmt: skip
        if deployed.returncode == 0 or "no sample to validate" not in deployed.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    unforced = stack.cli("promote", "etd", "--full")
    assert unforced.returncode == 2 and "--force" in unforced.stderr, unforced.stdout + unforced.stderr
    promoted = stack.cli("promote", "etd", "--full", "--force", "--reason", "e2e: promote")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert _served_version(stack, business_logic) == "2"

    rolled = stack.cli("rollback", "etd", "--reason", "e2e: back to v1")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "etd rolled back: v1 serves 100%" in rolled.stdout
    routing = httpx.get(f"{stack.urls['inference_engine']}/v1/models/etd/routing", timeout=10).json()
    assert (str(routing["stable_version"]), routing["candidate_version"], routing["mode"]) == ("1", None, "full")
    assert {_served_version(stack, business_logic) for _ in range(5)} == {"1"}

    history = stack.cli("history", "etd")
    assert history.returncode == 0, history.stderr
    rows = _rows(history.stdout)
    # revision, at, action, stable, candidate, split, step, pins, actor, reason
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("4", "rollback", "v1", "-"), ("3", "promote", "v2", "-"), ("2", "deploy", "v1", "v2"),
        ("1", "deploy", "v1", "-"),
    ]  # fmt: skip
    assert rows[3][8] == "strata build" and rows[0][8] == "operator"
    assert rows[0][9] == "e2e: back to v1" and rows[1][9].startswith("[forced over analysis verdict")
