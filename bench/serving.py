"""Generic online serving vs ETD's estimate: the same model, the same orders, the same running Strata.

Starts the `small` demo under var/bench (as `bench etd` does; the first run builds it), then sends every order to
data_processing both ways, interleaved per round so background load hits both alike:
- `POST /v1/etd/estimate` (ETD's own contract),
- `POST /v1/models/etd/predict` (the generic endpoint any declared model is served by),
at concurrency 1 and 32, in A B / B A order; prints p50/p99, throughput and errors (503s are data_processing
shedding requests that waited 0.5 s for a worker) with the load average beside each row, then both paths side by
side: the median over rounds of each figure and generic / estimate (on a shared 2-core machine one round of either
path can be 20% off the next: only the medians of several interleaved rounds compare them).
"""

from __future__ import annotations

import os
import random
import statistics
from datetime import datetime, timedelta

import httpx
from rich.console import Console
from rich.table import Table

from bench.etd import PORTS, ROOT, _post_all, running_strata
from bench.harness import Summary
from strata_kernel.contracts.auth import read_operator_token

ROUNDS = 6


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


def run(requests: int = 1000, rounds: int = ROUNDS) -> list[tuple[Summary, float]]:
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
            for round_ in range(rounds):
                # A B, then B A: neither path always runs first (warmer caches) or in the later, other load
                for label, path, bodies in paths if round_ % 2 == 0 else paths[::-1]:
                    load = os.getloadavg()[0]
                    results.append((_post_all(label, dp, path, bodies, concurrency, auth), load))
    return results


def main(requests: int = 1000, rounds: int = ROUNDS) -> None:
    results = run(requests, rounds)
    table = Table(title=f"Online serving through data_processing, model etd, {requests} requests per row, "
                        f"{rounds} interleaved rounds (2-core machine, shared)")  # fmt: skip
    for column in ("path", "conc.", "p50 ms", "p99 ms", "req/s", "errors", "load avg (1 min)"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for summary, load in results:
        table.add_row(summary.label, str(summary.concurrency), f"{summary.p50_ms:.2f}", f"{summary.p99_ms:.2f}",
                      f"{summary.throughput_rps:.0f}", str(summary.errors), f"{load:.2f}")  # fmt: skip
    Console(width=150).print(table, side_by_side(results))


def side_by_side(results: list[tuple[Summary, float]]) -> Table:
    """Per concurrency: each path's median p50 / p99 / req/s over the rounds, and generic / estimate."""
    table = Table(title="Median over the interleaved rounds: generic / estimate (below 1.00 = generic faster)")
    for column in ("conc.", "figure", "ETD estimate", "generic predict", "generic / estimate", "load avg min-max"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for concurrency in sorted({summary.concurrency for summary, _ in results}):
        rows = [(summary, load) for summary, load in results if summary.concurrency == concurrency]
        estimate = [summary for summary, _ in rows if "estimate" in summary.label]
        generic = [summary for summary, _ in rows if "generic" in summary.label]
        loads = [load for _, load in rows]
        for figure, of in (("p50 ms", lambda s: s.p50_ms), ("p99 ms", lambda s: s.p99_ms),
                           ("req/s", lambda s: s.throughput_rps)):  # fmt: skip
            a, b = statistics.median(map(of, estimate)), statistics.median(map(of, generic))
            table.add_row(str(concurrency), figure, f"{a:.2f}", f"{b:.2f}", f"{b / a:.2f}",
                          f"{min(loads):.2f}-{max(loads):.2f}")  # fmt: skip
    return table


if __name__ == "__main__":
    main()
