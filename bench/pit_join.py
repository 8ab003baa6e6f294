"""Point-in-time join benchmark: 1M orders against 30 days of daily feature rows for 10k restaurants.

Each path runs in its own subprocess (fresh interpreter) so its peak memory is its own: the process's
VmHWM from /proc (the JVM's too, for Spark). Wall time is the join alone, data generated in memory
beforehand (Spark: read from Parquet, start-up reported apart). Feast's published figures for 100k rows
are printed beside (its default store drops orders without features; Strata keeps them).
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import peak_mb, run_in_subprocess

ROOT = Path(__file__).resolve().parents[1]
ORDERS, ENTITIES, DAYS = 1_000_000, 10_000, 30
START = datetime(2025, 1, 1)
FEAST = [("Feast, default offline store (drops rows without features)", 100_000, 2.0),
         ("Feast, DuckDB offline store", 100_000, 0.38)]  # fmt: skip


def make_data(orders: int = ORDERS, entities: int = ENTITIES, days: int = DAYS, seed: int = 7) -> tuple[Any, Any]:
    """(orders, restaurant_stats rows) as Arrow tables; ~3% of orders hit restaurants without features."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    ids = np.array([f"r-{i:06d}" for i in range(int(entities * 1.03))])
    start = np.datetime64(START, "us")
    placed = start + rng.integers(0, days * 86_400_000_000, orders).astype("timedelta64[us]")
    spine = pa.table({"order_id": pa.array(np.char.add("o-", np.arange(orders).astype(str))),
                      "restaurant_id": pa.array(ids[rng.integers(0, len(ids), orders)]),
                      "placed_at": pa.array(placed)})  # fmt: skip
    n = entities * days
    feature_time = start + (np.repeat(np.arange(days), entities) * 86_400_000_000).astype("timedelta64[us]")
    rows = pa.table({"restaurant_id": pa.array(np.tile(ids[:entities], days)),
                     "feature_time": pa.array(feature_time),
                     "created_at": pa.array(feature_time + np.timedelta64(3_600_000_000, "us")),
                     "order_count_7d": pa.array(rng.integers(0, 500, n)),
                     "avg_prep_minutes_7d": pa.array(rng.uniform(5, 30, n)),
                     "avg_delivery_minutes_7d": pa.array(rng.uniform(15, 60, n))})  # fmt: skip
    return spine, rows


def _peak_mb(pid: int | str = "self") -> float:
    return peak_mb(pid)


def _group(kind: str) -> Any:
    import dataclasses

    from data_processing.registry import FeatureGroupRegistry
    from data_processing.settings import Settings

    group = FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir()).get("restaurant_stats")
    return dataclasses.replace(group, kind=kind)


def run_local(kind: str) -> dict[str, Any]:
    from data_processing.jobs.pit_join import GroupRows, point_in_time_join

    spine, rows = make_data()
    group = _group(kind)
    before = _peak_mb()
    started = time.perf_counter()
    joined = point_in_time_join(spine, "placed_at", [GroupRows(group, rows)], {group.name: ("order_count_7d",
                                "avg_prep_minutes_7d", "avg_delivery_minutes_7d")})  # fmt: skip
    seconds = time.perf_counter() - started
    matched = joined.num_rows - joined.column("restaurant_stats__order_count_7d").null_count
    return {"seconds": seconds, "peak_mb": _peak_mb(), "data_mb": before, "rows": joined.num_rows, "matched": matched}


def run_spark(data_dir: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from data_processing.adapters.spark import build_spark_session
    from data_processing.jobs.pit_spark import SparkGroupRows, spark_point_in_time_join
    from data_processing.settings import Settings

    spine, rows = make_data()
    pq.write_table(spine, f"{data_dir}/orders.parquet")
    pq.write_table(rows, f"{data_dir}/stats.parquet")
    del spine, rows
    started = time.perf_counter()
    spark = build_spark_session(Settings(var_dir=Path(data_dir), spark_driver_memory="2g"), app_name="bench-pit")
    startup = time.perf_counter() - started
    group = _group("batch")
    orders, stats = spark.read.parquet(f"{data_dir}/orders.parquet"), spark.read.parquet(f"{data_dir}/stats.parquet")
    started = time.perf_counter()
    joined = spark_point_in_time_join(orders, "placed_at", [SparkGroupRows(group, stats)], {group.name: (
        "order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")})  # fmt: skip
    counts = joined.selectExpr("count(*) AS n", "count(restaurant_stats__order_count_7d) AS m").collect()[0]
    seconds = time.perf_counter() - started
    jvm = _jvm_pid()
    peak = _peak_mb() + (_peak_mb(jvm) if jvm else 0.0)
    spark.stop()
    return {"seconds": seconds, "startup": startup, "peak_mb": peak, "rows": counts["n"], "matched": counts["m"]}


def _jvm_pid() -> int | None:
    for task in Path("/proc/self/task").iterdir():
        for child in (task / "children").read_text().split():
            if "java" in Path(f"/proc/{child}/comm").read_text():
                return int(child)
    return None


def _in_subprocess(path: str, *args: str) -> dict[str, Any]:
    return run_in_subprocess("bench.pit_join", path, *args)


def main() -> None:
    results = [
        ("Strata single machine (numpy sort-merge), batch rule", _in_subprocess("run_local", "batch")),
        ("Strata single machine, event time + created_at rule", _in_subprocess("run_local", "streaming")),
    ]
    with tempfile.TemporaryDirectory(prefix="strata-bench-pit-") as data_dir:
        results.append(("Strata Spark local[2] (window), batch rule", _in_subprocess("run_spark", data_dir)))
    table = Table(title=f"Point-in-time join: {ORDERS:,} orders x {ENTITIES:,} restaurants x {DAYS} daily rows")
    for column in ("path", "rows", "with features", "wall s", "peak RSS MB", "rows/s", "note"):
        table.add_column(column, justify="left" if column in ("path", "note") else "right")
    for label, r in results:
        note = f"+ {r['startup']:.1f} s Spark start-up; driver+JVM" if "startup" in r else f"data {r['data_mb']:.0f} MB"
        table.add_row(label, f"{r['rows']:,}", f"{r['matched']:,}", f"{r['seconds']:.2f}", f"{r['peak_mb']:.0f}",
                      f"{r['rows'] / r['seconds']:,.0f}", note)  # fmt: skip
    for label, rows, seconds in FEAST:
        table.add_row(label, f"{rows:,}", "", f"{seconds:.2f}", "", f"{rows / seconds:,.0f}", "published baseline")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
