"""The operator's day through the CLI on a running Strata: the build's v1 is stable from the start, a v2 goes
canary, is promoted in full, and `strata rollback etd` brings v1 back to 100% — each step named in the history."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.operations import deploy_canary, first_table_rows, served_version, table_rows

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


def test_build_status_canary_promote_rollback_history(stack: Stack, business_logic: httpx.Client) -> None:
    status = stack.cli("status", "etd")
    assert status.returncode == 0, status.stdout + status.stderr
    record = table_rows(status.stdout)[0]
    assert record[:4] == ["etd", "v1", "-", "full"], status.stdout

    trained = subprocess.run([sys.executable, "-m", "inference_engine", "train", "etd", "--no-partitions"],
                             env=stack.env, capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    version = json.loads(trained.stdout.strip().splitlines()[-1])["version"]
    assert str(version) == "2"

    deploy_canary(stack, business_logic, "2", "e2e: v2 as canary")

    unforced = stack.cli("promote", "etd", "--full")
    assert unforced.returncode == 2 and "--force" in unforced.stderr, unforced.stdout + unforced.stderr
    promoted = stack.cli("promote", "etd", "--full", "--force", "--reason", "e2e: promote")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert served_version(stack, business_logic) == "2"

    rolled = stack.cli("rollback", "etd", "--reason", "e2e: back to v1")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "etd rolled back: v1 serves 100%" in rolled.stdout
    routing = httpx.get(f"{stack.urls['inference_engine']}/v1/models/etd/routing", timeout=10).json()
    assert (str(routing["stable_version"]), routing["candidate_version"], routing["mode"]) == ("1", None, "full")
    assert {served_version(stack, business_logic) for _ in range(5)} == {"1"}

    history = stack.cli("history", "etd")
    assert history.returncode == 0, history.stderr
    rows = first_table_rows(history.stdout)
    # revision, at, action, stable, candidate, split, step, pins, actor, reason
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("4", "rollback", "v1", "-"), ("3", "promote", "v2", "-"), ("2", "deploy", "v1", "v2"),
        ("1", "deploy", "v1", "-"),
    ]  # fmt: skip
    assert rows[3][8] == "strata build" and rows[0][8] == "operator"
    assert rows[0][9] == "e2e: back to v1" and rows[1][9].startswith("[forced over analysis verdict")
