"""What several end-to-end tests ask a running Strata: a CLI table's rows, an ETD estimate straight from data
processing (it names the model version that scored it)."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx

from tests.e2e.conftest import Stack


def table_rows(output: str) -> list[list[str]]:
    """A rich table's rows (a cell wrapped onto more lines: its first line only)."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]
    return [row for row in rows if row and row[0]]


def first_table_rows(output: str) -> list[list[str]]:
    """The rows of the first rich table only (``strata history`` prints the deployment records, then the versions)."""
    first_end = output.find("└")
    return table_rows(output if first_end < 0 else output[:first_end])


def estimate(stack: Stack, business_logic: httpx.Client, restaurant_id: str | None = None) -> dict[str, Any]:
    """data_processing's ETD estimate for an order placed now at a restaurant (the first one by default)."""
    if restaurant_id is None:
        restaurant_id = business_logic.get("/v1/restaurants", params={"limit": 1}).json()["restaurants"][0]["id"]
    restaurant = business_logic.get(f"/v1/restaurants/{restaurant_id}").json()
    order = {"restaurant_id": restaurant_id, "city_id": restaurant["city_id"],
             "country_code": restaurant["country_code"], "placed_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
             "n_items": 2, "subtotal": 20.0}  # fmt: skip
    body: dict[str, Any] = httpx.post(f"{stack.urls['data_processing']}/v1/etd/estimate", json=order, timeout=30,
                                      headers=stack.operator()).json()  # fmt: skip
    return body


def served_version(stack: Stack, business_logic: httpx.Client) -> str:
    """The version that answered an ETD estimate."""
    return str(estimate(stack, business_logic)["version"])


def wait_until_served(
    stack: Stack, business_logic: httpx.Client, version: str, *, samples: int = 6, timeout_seconds: float = 90.0
) -> float:
    """Seconds until ``samples`` estimates in a row came from ``version``. With several engine workers, the worker
    comparative evaluation's push reached switches at once; the others at their next routing poll (every second),
    once they have loaded the version. Fails with the versions seen when the engine does not converge in time."""
    started = time.monotonic()
    seen: list[str] = []
    while time.monotonic() - started < timeout_seconds:
        seen = [served_version(stack, business_logic) for _ in range(samples)]
        if set(seen) == {version}:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"still served {sorted(set(seen))} {timeout_seconds:.0f} s after moving to v{version}")


def deploy_canary(stack: Stack, business_logic: httpx.Client, version: str, reason: str) -> None:
    """`strata deploy etd --version V --mode canary --weight 10`, once comparative evaluation holds logged live
    instances to validate the version on (served here first)."""
    for _ in range(5):
        served_version(stack, business_logic)
    deadline = time.monotonic() + 120
    while True:
        deployed: subprocess.CompletedProcess[str] = stack.cli(
            "deploy", "etd", "--version", version, "--mode", "canary", "--weight", "10", "--reason", reason,
            timeout=300,
        )  # fmt: skip
        if deployed.returncode == 0 or "no sample to validate" not in deployed.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr + _ingest_state(stack)


def _ingest_state(stack: Stack) -> str:
    """What comparative evaluation's ingest did (events read per topic, who leads its loops): why no sample."""
    try:
        metrics = httpx.get(f"{stack.urls['comparative_eval']}/metrics", timeout=10).text
    except httpx.HTTPError as exc:
        return f"\ncomparative_eval metrics unreadable: {exc}"
    wanted = ("events_total", "background_leading", "background_runs_total")
    lines = [line for line in metrics.splitlines() if not line.startswith("#") and any(w in line for w in wanted)]
    return "\ncomparative_eval ingest:\n" + "\n".join(lines)
