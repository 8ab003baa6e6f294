"""`python -m bench profile`: the cost of profiling a lake table, full and incremental, DuckDB vs Spark vs pandas.

Tables: ``processed.orders`` as the small demo builds it (the simulator's ``small`` world: 60,000 orders over 30
days) and a 1.5M-row table (the ``full`` world's restaurants, 1.5M orders over 31 days), one Parquet file per
nominal date like the lake holds them. For each:

* full — profile every file and merge (what a first commit or a full overwrite costs);
* incremental — the table already profiled, one new day is committed: profile its file and merge it with the
  previous version's profile (what an append costs);
* pandas — the naive baseline: ``pd.read_parquet`` of the table then ``describe(include="all")`` (it has no
  incremental mode: a new day means describing everything again).

Every row runs in its own process (peak memory = the process's high-water mark; Spark's adds its JVM and Python
workers), in an interleaved order, with the 1-minute load average beside it: this machine is shared.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import peak_mb, run_in_subprocess

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {"small demo (60k)": ("small", 60_000, 30), "1.5M rows": ("full", 1_500_000, 31)}


def write_orders(world_size: str, orders: int | str, days: int | str, directory: str) -> dict[str, Any]:
    """processed.orders-shaped Parquet files, one per nominal date, from the deterministic simulator."""
    import dataclasses

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_collection.simulator import SIZES, simulate

    size = dataclasses.replace(SIZES[world_size], orders=int(orders), days=int(days))
    simulation = simulate(size, seed=7, start=date(2026, 10, 1))
    world, made = simulation.world, simulation.orders
    city = world.restaurant_city[made.restaurant]
    codes = np.array([code for code, _ in world.countries], dtype=object)
    placed = made.placed_at.astype("datetime64[us]")
    days_of = placed.astype("datetime64[D]")
    table = pa.table({
        "order_id": pa.array(np.char.add("o-", np.char.zfill(np.arange(1, len(made) + 1).astype(str), 8))),
        "restaurant_id": pa.array(np.array(world.restaurant_ids, dtype=object)[made.restaurant]),
        "city_id": pa.array(np.array(world.city_ids, dtype=object)[city]),
        "country_code": pa.array(codes[world.city_country[city]]),
        "placed_at": pa.array(placed),
        "delivered_at": pa.array(made.delivered_at.astype("datetime64[us]")),
        "n_items": pa.array(made.n_items.astype(np.int64)),
        "subtotal": pa.array(made.subtotal),
        "prep_minutes": pa.array(made.prep_minutes),
        "delivery_minutes": pa.array(made.delivery_minutes),
    })  # fmt: skip
    files = []
    for day in np.unique(days_of):
        value = str(day)
        target = Path(directory) / f"nominal_date={value}" / "part-0.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(pa.array(days_of == day)), target)
        files.append({"path": str(target), "partition": value})
    return {"rows": table.num_rows, "files": files}


def _descendants(pid: int) -> list[int]:
    """Child processes, recursively (Spark's JVM and its Python workers); ones that end meanwhile are skipped."""
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.append(int(child))
            found.extend(_descendants(int(child)))
    return found


def run_kernel(engine: str, manifest: str) -> dict[str, Any]:
    """Full and incremental profiles with one engine (one process, one Spark session for both)."""
    from strata_kernel.profiles import merge_profiles
    from strata_kernel.profiles.engines import FileRef, profile_files_duckdb, profile_files_spark

    files = [FileRef(f["path"], f["partition"]) for f in json.loads(Path(manifest).read_text())["files"]]
    started = time.perf_counter()
    spark = _spark() if engine == "spark" else None
    startup = time.perf_counter() - started

    def profile(refs: list[FileRef]) -> dict[str, Any]:
        if spark is not None:
            return profile_files_spark(spark, refs, partition_column="nominal_date")
        return profile_files_duckdb(refs, partition_column="nominal_date")

    previous = merge_profiles(list(profile(files[:-1]).values()))  # the table before the new day (warms up too)
    incremental_started = time.perf_counter()
    last_day = profile(files[-1:])
    merged = merge_profiles([previous, *last_day.values()])
    incremental = time.perf_counter() - incremental_started
    started = time.perf_counter()
    full = merge_profiles(list(profile(files).values()))
    full_seconds = time.perf_counter() - started
    assert full.rows == merged.rows
    peak = peak_mb() + sum(peak_mb(pid) for pid in _descendants(os.getpid()))
    if spark is not None:
        spark.stop()
    return {"full": full_seconds, "incremental": incremental, "startup": startup, "peak_mb": peak, "rows": full.rows}


def _spark() -> Any:
    from strata_kernel.spark import build_session

    return build_session("bench-profile", master="local[2]", shuffle_partitions=4, driver_memory="2g")


def run_pandas(manifest: str) -> dict[str, Any]:
    import pandas as pd

    files = json.loads(Path(manifest).read_text())["files"]
    started = time.perf_counter()
    frame = pd.concat([pd.read_parquet(f["path"]) for f in files], ignore_index=True)
    frame.describe(include="all")
    seconds = time.perf_counter() - started
    return {"full": seconds, "incremental": None, "startup": 0.0, "peak_mb": peak_mb(), "rows": len(frame)}


def _in_subprocess(function: str, *args: str) -> dict[str, Any]:
    result = run_in_subprocess("bench.profile", function, *args)
    result["load"] = os.getloadavg()[0]
    return result


def main(argv: list[str] | None = None) -> None:
    results: list[tuple[str, str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-profile-") as work:
        for label, (world, orders, days) in DATASETS.items():
            directory = Path(work) / world
            manifest = directory / "manifest.json"
            manifest.parent.mkdir(parents=True)
            written = _in_subprocess("write_orders", world, str(orders), str(days), str(directory))
            manifest.write_text(json.dumps(written))
            for engine in ("pandas", "duckdb", "spark"):  # interleaved: each dataset sees every engine in turn
                if engine == "pandas":
                    row = ("pandas describe(include='all')", _in_subprocess("run_pandas", str(manifest)))
                else:
                    row = (f"Strata profile, {engine}", _in_subprocess("run_kernel", engine, str(manifest)))
                results.append((label, *row))
    _print(results)


def _print(results: list[tuple[str, str, dict[str, Any]]]) -> None:
    table = Table(title="Profiling processed.orders: full vs incremental (one new day), 2-core shared machine")
    for column in ("table", "path", "rows", "full s", "incremental s", "full vs pandas", "peak RSS MB", "load 1m",
                   "note"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("table", "path", "note") else "right")
    baseline = {label: r["full"] for label, path, r in results if path.startswith("pandas")}
    for label, path, r in results:
        incremental = "" if r["incremental"] is None else f"{r['incremental']:.2f}"
        ratio = f"{r['full'] / baseline[label]:.1f}x" if not path.startswith("pandas") else "1.0x"
        note = f"+ {r['startup']:.1f} s session start" if r.get("startup", 0) > 0.5 else ""
        if path.startswith("pandas"):
            note = "no incremental mode: a new day re-reads all"
        table.add_row(label, path, f"{r['rows']:,}", f"{r['full']:.2f}", incremental, ratio, f"{r['peak_mb']:.0f}",
                      f"{r['load']:.2f}", note)  # fmt: skip
    Console(width=170).print(table)


if __name__ == "__main__":
    main()
