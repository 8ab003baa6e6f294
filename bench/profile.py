"""`python -m bench profile [--datasets small,large] [--engines pandas,duckdb,spark] [--no-lake]`: the cost of
profiling a lake table, full and incremental, DuckDB vs Spark vs pandas.

Tables: ``processed.orders`` as the small demo builds it (the simulator's ``small`` world: 60,000 orders over 30
days) and a 1.5M-row table (the ``full`` world's restaurants, 1.5M orders over 31 days), one Parquet file per
nominal date like the lake holds them. For each:

* full — profile every file and merge (what a first commit or a full overwrite costs);
* incremental — one new day is committed: read the previous version's stored profile (JSON, as the catalog keeps
  it), profile the new day's file and merge (what an append costs);
* pandas — the naive baseline: ``pd.read_parquet`` of the table then ``describe(include="all")`` (it has no
  incremental mode: a new day means describing everything again);
* lake — the platform's own path (DuckDB): the table without its last day committed to a data lake app in this
  process (profiled on commit, ``profile_on_commit=sync``), then the last day appended; the figure is the append's
  profile time as the catalog recorded it (``meta.seconds``, ``files_read``, ``merged_with_previous``).

Full and incremental each run in a fresh process, so each has its own peak memory (the process's high-water mark;
Spark's adds its JVM and Python workers) and its own session; both are timed warm (a running lake's engine is):
full after profiling the table without its last day, incremental after profiling one day. Rows run interleaved, with
the 1-minute load average at their start and end beside them: this machine is shared.
"""

from __future__ import annotations

import argparse
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
DATASETS = {"small": ("small demo (60k)", "small", 60_000, 30), "large": ("1.5M rows", "full", 1_500_000, 31)}
ENGINES = ("pandas", "duckdb", "spark")
TABLE = "processed.orders"


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


def run_kernel(engine: str, manifest: str, mode: str, previous: str) -> dict[str, Any]:
    """One mode with one engine, in this process. ``full``: profile every file (timed after profiling the table
    without its last day, which it leaves in ``previous`` as the catalog stores a version's profile);
    ``incremental``: read ``previous``, profile the last day's file, merge. Both end with the JSON the catalog
    would store."""
    from strata_kernel.profiles import merge_profiles
    from strata_kernel.profiles.engines import FileRef, profile_files_duckdb, profile_files_spark
    from strata_kernel.profiles.model import TableProfile

    files = [FileRef(f["path"], f["partition"]) for f in json.loads(Path(manifest).read_text())["files"]]
    started = time.perf_counter()
    spark = _spark() if engine == "spark" else None
    startup = time.perf_counter() - started

    def profile(refs: list[FileRef]) -> list[TableProfile]:
        if spark is not None:
            return list(profile_files_spark(spark, refs, partition_column="nominal_date").values())
        return list(profile_files_duckdb(refs, partition_column="nominal_date").values())

    if mode == "full":
        Path(previous).write_text(json.dumps(merge_profiles(profile(files[:-1])).to_dict()))
        started = time.perf_counter()
        result = merge_profiles(profile(files))
        read = len(files)
    else:
        profile(files[:1])  # warm-up on one day, the size of the new one
        started = time.perf_counter()
        stored = TableProfile.from_dict(json.loads(Path(previous).read_text()))
        result = merge_profiles([stored, *profile(files[-1:])])
        read = 1
    kept = json.dumps(result.to_dict())
    seconds = time.perf_counter() - started
    peak = peak_mb() + sum(peak_mb(pid) for pid in _descendants(os.getpid()))
    if spark is not None:
        spark.stop()
    return {"seconds": seconds, "startup": startup, "peak_mb": peak, "rows": result.rows, "files_read": read,
            "stored_kb": len(kept) / 1024}  # fmt: skip


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
    return {"seconds": seconds, "startup": 0.0, "peak_mb": peak_mb(), "rows": len(frame), "files_read": len(files)}


def run_lake(manifest: str, var_dir: str) -> dict[str, Any]:
    """The data lake's own commit path (DuckDB, profile on commit): every day but the last, then the last appended."""
    import httpx
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_lake.entrypoints.app import create_app
    from data_lake.settings import Settings
    from strata_kernel.contracts.auth import service_credential
    from strata_kernel.http import ServiceClient
    from strata_kernel.lake import LakeClient

    settings = Settings(var_dir=Path(var_dir), profile_on_commit="sync", profile_engine="duckdb", log_json=False)
    app = create_app(settings)
    credential = service_credential("data_processing", settings.credentials_directory())
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, timeout_seconds=600.0, retries=0,
                            transport=httpx.WSGITransport(app=app))  # fmt: skip
    lake = LakeClient(settings.resolved_lake_root(), catalog)

    def days(entries: list[dict[str, str]]) -> pa.Table:  # the partition value is in the directory, not the file
        parts = []
        for entry in entries:
            part = pq.read_table(entry["path"])
            parts.append(part.append_column("nominal_date", pa.array([entry["partition"]] * part.num_rows)))
        return pa.concat_tables(parts)

    files = json.loads(Path(manifest).read_text())["files"]
    lake.write_arrow(TABLE, days(files[:-1]), partition_column="nominal_date", job="bench", inputs=[], mode="overwrite")
    started = time.perf_counter()
    lake.write_arrow(TABLE, days(files[-1:]), partition_column="nominal_date", job="bench", inputs=[])
    commit = time.perf_counter() - started
    meta = catalog.get(f"/v1/tables/{TABLE}/profile")["profile"]
    found = {"rows": meta["rows"], **meta["meta"]}
    first = catalog.get(f"/v1/tables/{TABLE}/profile?version=1")["profile"]["meta"]
    return {"seconds": found["seconds"], "full_seconds": first["seconds"], "commit_seconds": commit,
            "rows": found["rows"], "files_read": found["files_read"], "merged": found["merged_with_previous"],
            "startup": 0.0, "peak_mb": None}  # fmt: skip


def _measured(function: str, *args: str) -> dict[str, Any]:
    before = os.getloadavg()[0]
    result = run_in_subprocess("bench.profile", function, *args)
    result["load"] = (before, os.getloadavg()[0])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="small,large", help="small (the demo's 60k), large (1.5M rows)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="pandas, duckdb, spark")
    parser.add_argument("--no-lake", action="store_true", help="skip the data lake's own commit path")
    args = parser.parse_args(argv or [])
    datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = [*(d for d in datasets if d not in DATASETS), *(e for e in engines if e not in ENGINES)]
    if unknown:
        parser.error(f"unknown dataset or engine: {', '.join(unknown)}")
    results: list[tuple[str, str, str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="strata-bench-profile-") as work:
        for name in datasets:
            label, world, orders, days = DATASETS[name]
            directory = Path(work) / world
            manifest = directory / "manifest.json"
            manifest.parent.mkdir(parents=True)
            manifest.write_text(json.dumps(run_in_subprocess("bench.profile", "write_orders", world, str(orders),
                                                             str(days), str(directory))))  # fmt: skip
            if "pandas" in engines:
                row = _measured("run_pandas", str(manifest))
                results.append((label, "pandas describe(include='all')", "full", row))
            kernel = [engine for engine in engines if engine != "pandas"]
            for mode in ("full", "incremental"):  # interleaved: each mode sees every engine in turn
                for engine in kernel:
                    previous = str(directory / f"previous-{engine}.json")
                    row = _measured("run_kernel", engine, str(manifest), mode, previous)
                    results.append((label, f"Strata profile, {engine}", mode, row))
            if not args.no_lake:
                row = _measured("run_lake", str(manifest), str(Path(work) / f"lake-{world}"))
                results.append((label, "data lake commit (duckdb)", "incremental", row))
    _check(results)
    _print(results)


def _check(results: list[tuple[str, str, str, dict[str, Any]]]) -> None:
    """Every path profiled the same rows of a table: a bench that compared different work would mislead."""
    for label in {label for label, *_ in results}:
        rows = {(path, mode): r["rows"] for lbl, path, mode, r in results if lbl == label}
        if len(set(rows.values())) != 1:
            raise RuntimeError(f"{label}: the paths profiled different row counts: {rows}")


def _print(results: list[tuple[str, str, str, dict[str, Any]]]) -> None:
    table = Table(title="Profiling processed.orders: full vs incremental (one new day), 2-core shared machine")
    for column in ("table", "path", "mode", "files read", "rows", "seconds", "vs pandas", "peak RSS MB",
                   "load 1m start→end", "note"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("table", "path", "mode", "note") else "right")
    baseline = {label: r["seconds"] for label, path, _, r in results if path.startswith("pandas")}
    for label, path, mode, r in results:
        ratio = f"{r['seconds'] / baseline[label]:.2f}x" if label in baseline else ""
        note = f"+ {r['startup']:.1f} s session start" if r.get("startup", 0) > 0.5 else ""
        if path.startswith("pandas"):
            note = "no incremental mode: a new day re-reads all"
        elif path.startswith("data lake"):
            note = (f"merged with previous: {r['merged']}; v1 (full) {r['full_seconds']:.2f} s; "
                    f"append commit {r['commit_seconds']:.2f} s")  # fmt: skip
        peak = "" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f}"
        load = f"{r['load'][0]:.1f}→{r['load'][1]:.1f}"
        table.add_row(label, path, mode, str(r["files_read"]), f"{r['rows']:,}", f"{r['seconds']:.2f}", ratio, peak,
                      load, note)  # fmt: skip
    Console(width=190).print(table)


if __name__ == "__main__":
    main()
