"""Generic online serving vs ETD's estimate: the same model, the same orders, the same running Strata.

Starts the `small` demo under var/bench (as `bench etd` does; the first run builds it), then sends every order to
data_processing both ways, interleaved per round so background load hits both alike:
- `POST /v1/etd/estimate` (ETD's own contract),
- `POST /v1/models/etd/predict` (the generic endpoint any declared model is served by),
at concurrency 1 and 32, in A B / B A order; prints p50/p99, throughput and errors (503s are data_processing
shedding requests that waited 0.5 s for a worker) with the load average beside each row.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

import httpx
from rich.console import Console
from rich.table import Table

from bench.etd import PORTS, ROOT, _post_all, running_strata
from bench.harness import Summary
from strata_kernel.contracts.auth import read_operator_token

ROUNDS = 2


def _orders(business_logic: str, count: int) -> list[dict[str, object]]:
    """Real restaurants of the demo, placed just now (their features are fresh online)."""
    rng = random.Random(7)
    restaurants = httpx.get(f"{business_logic}/v1/restaurants", params={"limit": 200}).json()["restaurants"][:100]
    now = datetime.now().replace(microsecond=0)
    orders = []
    for i in range(count):
        restaurant = restaurants[i % len(restaurants)]
        placed = (now - timedelta(minutes=rng.randint(0, 120))).isoformat()
        orders.append({"restaurant_id": restaurant["id"], "city_id": restaurant["city_id"],
                       "country_code": restaurant["country_code"], "placed_at": placed,
                       "n_items": rng.randint(1, 6), "subtotal": round(rng.uniform(8, 60), 2)})  # fmt: skip
    return orders


def run(requests: int = 1000) -> list[tuple[Summary, float]]:
    import subprocess
    import sys

    var_dir = ROOT / "var" / "bench"
    if not (var_dir / "demo" / "BUILT").exists():
        from bench.etd import _env

        subprocess.run([sys.executable, "-m", "strata_cli", "build"], env=_env(var_dir), cwd=ROOT, check=True)
    results: list[tuple[Summary, float]] = []
    with running_strata(var_dir):
        dp = f"http://127.0.0.1:{PORTS['data_processing']}"
        # data_processing's POST routes need a known caller: the operator's token of this stack
        auth = {"Authorization": f"Bearer {read_operator_token(None, var_dir)}"}
        orders = _orders(f"http://127.0.0.1:{PORTS['business_logic']}", requests)
        generic: list[object] = [{"instances": [order]} for order in orders]
        estimates: list[object] = list(orders)
        paths = [("ETD estimate  POST /v1/etd/estimate", "/v1/etd/estimate", estimates),
                 ("generic  POST /v1/models/etd/predict", "/v1/models/etd/predict", generic)]  # fmt: skip
        for concurrency in (1, 32):
            for round_ in range(ROUNDS):
                # A B, then B A: neither path always runs first (warmer caches) or in the later, other load
                for label, path, bodies in paths if round_ % 2 == 0 else paths[::-1]:
                    load = os.getloadavg()[0]
                    results.append((_post_all(label, dp, path, bodies, concurrency, auth), load))
    return results


def main(requests: int = 1000) -> None:
    results = run(requests)
    table = Table(title=f"Online serving through data_processing, model etd, {requests} requests per row, "
                        f"{ROUNDS} interleaved rounds (2-core machine, shared)")  # fmt: skip
    for column in ("path", "conc.", "p50 ms", "p99 ms", "req/s", "errors", "load avg (1 min)"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for summary, load in results:
        table.add_row(summary.label, str(summary.concurrency), f"{summary.p50_ms:.2f}", f"{summary.p99_ms:.2f}",
                      f"{summary.throughput_rps:.0f}", str(summary.errors), f"{load:.2f}")  # fmt: skip
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
