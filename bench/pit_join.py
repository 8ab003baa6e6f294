"""Point-in-time join benchmark: Strata's single-machine join vs pandas.merge_asof vs a raw DuckDB ASOF JOIN.

Two workloads, same rule everywhere (by entity, newest feature row at or before the order, TTL inclusive on the
event time, orders without features kept, duplicate keys kept):

* ``1M x 300k``: 1,000,000 orders against 30 daily snapshots of 10,000 restaurants;
* ``100k x 520k``: 100,000 orders against 520,000 feature rows (52 per restaurant at irregular times).

Inputs are in memory in each engine's own format before the clock starts (Arrow tables for Strata and DuckDB,
pandas frames for merge_asof); output is that engine's table (merge_asof's sort of both sides counts: it
needs sorted input). DuckDB runs twice: scanning the Arrow tables, and on tables loaded into DuckDB first
(its best case). Rounds are interleaved (A B C D, A B C D, ...) in one process so background load hits all
paths alike; the median and best round are printed with the load average. Every engine's answer is compared
with Strata's, row by row: the mismatch count must be 0. The created-at rule (streaming groups) has no
merge_asof equivalent: it is compared with DuckDB (running max over a window, then ASOF) on the second size.
Spark local[2] runs the first workload in its own process at the end (start-up reported apart).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import peak_mb, run_in_subprocess

START = datetime(2025, 1, 1, tzinfo=UTC)
FEATURES = ("order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d")
SIZES = {"1M x 300k": (1_000_000, 10_000, 30, None), "100k x 520k": (100_000, 10_000, 30, 52)}
ROUNDS = 5
DAY_US = 86_400_000_000


def make_data(orders: int = 1_000_000, entities: int = 10_000, days: int = 30, per_entity: int | None = None,
              seed: int = 7) -> tuple[Any, Any]:  # fmt: skip
    """(orders, feature rows) as Arrow tables with UTC instants; ~3% of orders hit restaurants without features.

    ``per_entity`` None: one row per restaurant and day (daily snapshots); else that many rows per restaurant
    at random distinct microseconds of the period, created up to 6 hours after their event time.
    """
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    ids = np.array([f"r-{i:06d}" for i in range(int(entities * 1.03))])
    start = np.datetime64(START.replace(tzinfo=None), "us")
    placed = start + rng.integers(0, days * DAY_US, orders).astype("timedelta64[us]")
    spine = pa.table({"order_id": pa.array(np.char.add("o-", np.arange(orders).astype(str))),
                      "restaurant_id": pa.array(ids[rng.integers(0, len(ids), orders)]),
                      "placed_at": pa.array(placed).cast(pa.timestamp("us", tz="UTC"))})  # fmt: skip
    if per_entity is None:
        n = entities * days
        offsets = np.repeat(np.arange(days), entities) * DAY_US
        owners = np.tile(ids[:entities], days)
        lag = np.full(n, 3_600_000_000)
    else:
        n = entities * per_entity
        offsets = np.concatenate([np.sort(rng.choice(days * DAY_US, per_entity, replace=False))
                                  for _ in range(entities)])  # fmt: skip
        owners = np.repeat(ids[:entities], per_entity)
        lag = rng.integers(0, 6 * 3_600_000_000, n)
    feature_time = start + offsets.astype("timedelta64[us]")
    utc = pa.timestamp("us", tz="UTC")
    rows = pa.table({"restaurant_id": pa.array(owners),
                     "feature_time": pa.array(feature_time).cast(utc),
                     "created_at": pa.array(feature_time + lag.astype("timedelta64[us]")).cast(utc),
                     "order_count_7d": pa.array(rng.integers(0, 500, n)),
                     "avg_prep_minutes_7d": pa.array(rng.uniform(5, 30, n)),
                     "avg_delivery_minutes_7d": pa.array(rng.uniform(15, 60, n))})  # fmt: skip
    return spine, rows


def _group(kind: str) -> Any:
    import dataclasses

    from data_processing.registry import FeatureGroupRegistry
    from data_processing.settings import Settings

    group = FeatureGroupRegistry.load(Settings().resolved_feature_groups_dir()).get("restaurant_stats")
    return dataclasses.replace(group, kind=kind)


# --- the engines: each returns (order_id, order_count_7d, avg_prep_minutes_7d) per order, in any order -------------
def strata(spine: Any, rows: Any, kind: str = "batch") -> Callable[[], Any]:
    from data_processing.jobs.pit_join import GroupRows, point_in_time_join

    group = _group(kind)
    return lambda: point_in_time_join(spine, "placed_at", [GroupRows(group, rows)], {group.name: FEATURES})


def pandas_merge_asof(spine: Any, rows: Any) -> Callable[[], Any]:
    import pandas as pd

    left, right = spine.to_pandas(), rows.drop_columns(["created_at"]).to_pandas()
    ttl = pd.Timedelta(days=2)

    def join() -> Any:
        return pd.merge_asof(left.sort_values("placed_at"), right.sort_values("feature_time"), left_on="placed_at",
                             right_on="feature_time", by="restaurant_id", direction="backward",
                             allow_exact_matches=True, tolerance=ttl)  # fmt: skip

    return join


_ASOF = """SELECT s.*, {values} FROM {spine} s ASOF LEFT JOIN {rows} r
           ON s.restaurant_id = r.restaurant_id AND r.feature_time <= s.placed_at"""


def duckdb_asof(spine: Any, rows: Any, *, native: bool) -> Callable[[], Any]:
    import duckdb

    con = duckdb.connect()
    con.register("spine_arrow", spine)
    con.register("rows_arrow", rows)
    if native:
        con.execute("CREATE TABLE spine_t AS SELECT * FROM spine_arrow")
        con.execute("CREATE TABLE rows_t AS SELECT * FROM rows_arrow")
    # TTL inclusive on the event time: a matched row older than 2 days gives nulls (the order is kept)
    fresh = "r.feature_time >= s.placed_at - INTERVAL 2 DAY"
    values = ", ".join(f"CASE WHEN {fresh} THEN r.{name} END AS restaurant_stats__{name}" for name in FEATURES)
    sql = _ASOF.format(values=values, spine="spine_t" if native else "spine_arrow",
                       rows="rows_t" if native else "rows_arrow")  # fmt: skip
    return lambda: con.sql(sql).to_arrow_table()


def duckdb_created_at(spine: Any, rows: Any) -> Callable[[], Any]:
    """The created-at rule in SQL: a running max of (event, created) over availability, then ASOF on it."""
    import duckdb

    con = duckdb.connect()
    con.register("spine_arrow", spine)
    con.register("rows_arrow", rows)
    packed = "struct_pack(e := feature_time, c := created_at, " + ", ".join(f"{n} := {n}" for n in FEATURES) + ")"
    sql = f"""WITH avail AS (
                SELECT restaurant_id, greatest(feature_time, created_at) AS available,
                       max({packed}) OVER (PARTITION BY restaurant_id ORDER BY greatest(feature_time, created_at)
                                            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS best
                FROM rows_arrow)
              SELECT s.*, {", ".join(f"CASE WHEN a.best.e >= s.placed_at - INTERVAL 2 DAY THEN a.best.{n} END "
                                     f"AS restaurant_stats__{n}" for n in FEATURES)}
              FROM spine_arrow s ASOF LEFT JOIN avail a
                ON s.restaurant_id = a.restaurant_id AND a.available <= s.placed_at"""  # fmt: skip
    return lambda: con.sql(sql).to_arrow_table()


def _answers(result: Any) -> dict[str, tuple[Any, Any]]:
    import pyarrow as pa

    table = result if isinstance(result, pa.Table) else pa.Table.from_pandas(result, preserve_index=False)
    count = "restaurant_stats__order_count_7d" if "restaurant_stats__order_count_7d" in table.column_names else (
        "order_count_7d")  # fmt: skip
    prep = count.replace("order_count_7d", "avg_prep_minutes_7d")
    ids, counts, preps = (table.column(c).to_pylist() for c in ("order_id", count, prep))
    return {i: (c, None if p is None or p != p else round(p, 9)) for i, c, p in zip(ids, counts, preps, strict=True)}


def mismatches(reference: Any, other: Any) -> int:
    expected, got = _answers(reference), _answers(other)
    return sum(1 for key, value in expected.items() if got.get(key) != value) + abs(len(expected) - len(got))


def run_interleaved(paths: dict[str, Callable[[], Any]], rounds: int = ROUNDS) -> dict[str, dict[str, Any]]:
    """Each path ``rounds`` times, round-robin; per path: median/best seconds, its last result, load averages."""
    seconds: dict[str, list[float]] = {label: [] for label in paths}
    results: dict[str, Any] = {}
    loads = []
    for _ in range(rounds):
        for label, run in paths.items():
            loads.append(os.getloadavg()[0])
            started = time.perf_counter()
            results[label] = run()
            seconds[label].append(time.perf_counter() - started)
    return {label: {"median": statistics.median(seconds[label]), "best": min(seconds[label]),
                    "result": results[label], "load": (min(loads), max(loads))} for label in paths}  # fmt: skip


def run_size(label: str) -> list[dict[str, Any]]:
    orders, entities, days, per_entity = SIZES[label]
    spine, rows = make_data(orders, entities, days, per_entity)
    paths = {
        "Strata (sorted-key search, numpy + Arrow)": strata(spine, rows),
        "pandas.merge_asof": pandas_merge_asof(spine, rows),
        "DuckDB ASOF JOIN (scanning Arrow)": duckdb_asof(spine, rows, native=False),
        "DuckDB ASOF JOIN (DuckDB tables)": duckdb_asof(spine, rows, native=True),
    }
    measured = run_interleaved(paths)
    if per_entity is not None:
        created = {
            "Strata, created-at rule": strata(spine, rows, "streaming"),
            "DuckDB window + ASOF, created-at rule": duckdb_created_at(spine, rows),
        }
        measured.update(run_interleaved(created))
    reference = measured["Strata (sorted-key search, numpy + Arrow)"]["result"]
    created_reference = measured.get("Strata, created-at rule", {}).get("result")
    out = []
    for path, m in measured.items():
        base = created_reference if "created-at" in path else reference
        out.append({"size": label, "path": path, "median": m["median"], "best": m["best"], "load": m["load"],
                    "rows": len(_answers(m["result"])), "mismatches": mismatches(base, m["result"])})  # fmt: skip
    return out


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
    joined = spark_point_in_time_join(orders, "placed_at", [SparkGroupRows(group, stats)], {group.name: FEATURES})
    counts = joined.selectExpr("count(*) AS n", "count(restaurant_stats__order_count_7d) AS m").collect()[0]
    seconds = time.perf_counter() - started
    spark.stop()
    return {"seconds": seconds, "startup": startup, "peak_mb": peak_mb(), "rows": counts["n"], "matched": counts["m"],
            "load": os.getloadavg()[0]}  # fmt: skip


def main(with_spark: bool = True) -> None:
    console = Console(width=170)
    table = Table(title=f"Point-in-time join, {ROUNDS} interleaved rounds per path (2-core machine, shared)")
    for column in ("workload", "path", "median s", "best s", "vs Strata (median)", "rows", "mismatches",
                   "load avg (1 min) min-max"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("workload", "path") else "right")
    for size in SIZES:
        rows = run_in_subprocess("bench.pit_join", "run_size_json", size)["rows"]
        strata_median = {("created" in r["path"]): r["median"] for r in rows if r["path"].startswith("Strata")}
        for r in rows:
            ratio = r["median"] / strata_median["created" in r["path"]]
            table.add_row(r["size"], r["path"], f"{r['median']:.3f}", f"{r['best']:.3f}", f"{ratio:.2f}x",
                          f"{r['rows']:,}", str(r["mismatches"]), f"{r['load'][0]:.2f}-{r['load'][1]:.2f}")  # fmt: skip
    console.print(table)
    if with_spark:
        with tempfile.TemporaryDirectory(prefix="strata-bench-pit-") as data_dir:
            r = run_in_subprocess("bench.pit_join", "run_spark", data_dir)
        console.print(f"Spark local[2] (window), 1M x 300k: {r['seconds']:.2f} s join + {r['startup']:.1f} s start-up, "
                      f"{r['matched']:,} of {r['rows']:,} rows with features, driver peak {r['peak_mb']:.0f} MB, "
                      f"load {r['load']:.2f}")  # fmt: skip


def run_size_json(label: str) -> dict[str, Any]:
    """For ``run_in_subprocess``: one workload in a fresh interpreter (results stay out of the JSON)."""
    return {"rows": run_size(label)}


if __name__ == "__main__":
    main()
