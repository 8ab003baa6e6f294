"""Benchmark of partitioned training on the full ETD data set (>= 1M orders, 60 countries, 400 cities).

The first run builds the full data set (>= 1M orders) under var/bench-full through `strata build --size full`.

Measures, in a fresh process each, the whole partitioned training (``inference_engine train etd --fresh``):
wall time and peak memory of its process tree (driver + Spark JVM + Python workers); the naive way (a fresh
process per node reading its own rows from the lake, training, evaluating) on a sample of nodes, extrapolated
per level to the whole tree; and the held-out MAE of the partitioned model against its global node alone,
overall and for cities with few orders.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.processes import groups_rss_kb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR = ROOT / "var" / "bench-full"
LAKE_PORT = 18304


@dataclass(frozen=True)
class Measured:
    seconds: float
    #: the command's own process tree
    peak_rss_mb: float
    stdout: str
    #: peak per measured group (``driver``: the command's tree, then ``others``), and ``together``
    peaks_mb: dict[str, float] = field(default_factory=dict)


def child_env(var_dir: Path) -> dict[str, str]:
    return {**os.environ, "STRATA_VAR_DIR": str(var_dir), "STRATA_DATA_LAKE_URL": f"http://127.0.0.1:{LAKE_PORT}",
            "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1", "MLFLOW_DISABLE_TELEMETRY": "true",
            "STRATA_LOG_LEVEL": "WARNING"}  # fmt: skip


def measure(command: list[str], env: dict[str, str], others: Mapping[str, Sequence[int]] | None = None) -> Measured:
    """Run a command; wall time and the peak summed RSS of its process tree (sampled every 0.2 s).

    ``others``: process trees that are not the command's children (a Spark cluster's JVMs, which start the
    executors and their Python workers); each gets its own peak, and ``together`` is the highest sum of all
    groups in one sample."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peaks: dict[str, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sizes = groups_rss_kb({"driver": [process.pid], **(others or {})})
            for name, size in {**sizes, "together": sum(sizes.values())}.items():
                peaks[name] = max(peaks.get(name, 0), size)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, _ = process.communicate()
    except BaseException:  # interrupted: the job must not outlive the bench (nor keep a cluster's executors busy)
        process.kill()
        process.wait()
        raise
    finally:
        done.set()
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stdout.strip()[-300:]}")
    peaks_mb = {name: size / 1024 for name, size in peaks.items()}
    return Measured(time.perf_counter() - started, peaks_mb.get("driver", 0.0), stdout, peaks_mb)


def start_lake(env: dict[str, str]) -> subprocess.Popen[bytes]:
    import urllib.request

    lake = subprocess.Popen([sys.executable, "-m", "data_lake", "serve", "--port", str(LAKE_PORT)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{LAKE_PORT}/readyz", timeout=1)
            return lake
        except OSError:
            time.sleep(0.5)
    lake.terminate()
    raise SystemExit("data_lake did not become ready")


def ensure_built(var_dir: Path, size: str = "full") -> None:
    """Build the data set of ``size`` under ``var_dir`` through the development flow, once (minutes for full)."""
    marker = var_dir / "demo" / "BUILT"
    if (var_dir / "lake" / "processed" / "etd_training_set").is_dir() and marker.is_file():
        built = json.loads(marker.read_text()).get("size")
        if built != size:
            raise SystemExit(f"{var_dir} holds the {built} data set, not {size}: pass another --var-dir")
        return
    print(f"building the {size} data set under {var_dir} (once) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "strata_cli", "build", "--size", size], env=child_env(var_dir), check=True)


def run(var_dir: Path = DEFAULT_VAR, sample_cities: int = 8, sample_countries: int = 3) -> dict[str, Any]:
    ensure_built(var_dir)
    env = child_env(var_dir)
    lake = start_lake(env)
    try:
        whole = measure([sys.executable, "-m", "inference_engine", "train", "etd", "--fresh"], env)
    finally:
        lake.terminate()
        lake.wait(timeout=15)
    summary = json.loads(whole.stdout.strip().splitlines()[-1])
    run_dir = var_dir / "inference_engine" / "partitioned" / "etd" / summary["run_id"]
    naive = naive_sample(run_dir, env, sample_cities, sample_countries)
    from inference_engine.partitioning.spec import load_spec

    spec = load_spec("etd")
    return {"summary": summary, "min_improvement": spec.min_improvement,
            "min_validation_rows": spec.min_validation_rows, "seconds": whole.seconds,
            "peak_rss_mb": whole.peak_rss_mb, "naive": naive,
            "accuracy": accuracy(run_dir)}  # fmt: skip


def naive_sample(run_dir: Path, env: dict[str, str], cities: int, countries: int) -> dict[str, Any]:
    """Time a fresh process per sampled node; extrapolate each level's mean to the level's node count."""
    meta = json.loads((run_dir / "meta.json").read_text())
    keys = [tuple(k) for k, parts in meta["rows"] if parts["fit"] + parts["valid"] > 0]
    by_level = {level: sorted(k for k in keys if len(k) == level) for level in range(3)}
    sample = {0: by_level[0], 1: _spread(by_level[1], countries), 2: _spread(by_level[2], cities)}
    per_level: dict[int, list[float]] = {}
    for level, chosen in sample.items():
        for key in chosen:
            command = [sys.executable, "-m", "bench.partitioned_training", "naive-node", str(run_dir), json.dumps(key)]
            per_level.setdefault(level, []).append(measure(command, env).seconds)
    estimate = sum(sum(times) / len(times) * len(by_level[level]) for level, times in per_level.items())
    return {
        "sampled": {lvl: len(t) for lvl, t in per_level.items()},
        "nodes": {lvl: len(k) for lvl, k in by_level.items()},
        "mean_seconds": {lvl: sum(t) / len(t) for lvl, t in per_level.items()},
        "estimated_seconds": estimate,
    }


def _spread(keys: list[tuple[str, ...]], count: int) -> list[tuple[str, ...]]:
    if len(keys) <= count:
        return keys
    step = len(keys) / count
    return [keys[int(i * step)] for i in range(count)]


def naive_node(run_dir: Path, key: list[str]) -> None:
    """One node as its own job: read only its rows from the lake training set, train, evaluate (no Spark)."""
    import duckdb
    import numpy as np

    from inference_engine.algorithms import get_algorithm
    from inference_engine.algorithms.metrics import compute_metrics
    from inference_engine.partitioning.spec import load_spec

    spec = load_spec("etd")
    meta = json.loads((run_dir / "meta.json").read_text())
    features = meta["features"]
    location = run_dir.parents[3] / "lake" / "processed" / "etd_training_set"
    where = " AND ".join(f"{c} = '{v}'" for c, v in zip(spec.partition_by, key, strict=False)) or "TRUE"
    cols = ", ".join(f'CAST("{f}" AS DOUBLE)' for f in features)
    source = f"read_parquet('{location}/*/*.parquet', hive_partitioning=true)"
    query = (f"SELECT {cols}, label, placed_at < TIMESTAMP '{meta['holdout_start']}' AS train FROM {source} "
             f"WHERE {where} AND label IS NOT NULL ORDER BY placed_at, order_id")  # fmt: skip
    rows = duckdb.execute(query).fetchnumpy()
    x = np.column_stack([rows[c] for c in list(rows)[: len(features)]]).astype(np.float32)
    y, train = rows["label"].astype(np.float64), rows["train"].astype(bool)
    n_train = int(train.sum())
    cut = n_train - max(1, int(n_train * 0.15))
    algorithm = get_algorithm(spec.algorithm)
    model = algorithm.fit(
        (x[:cut], y[:cut]), (x[cut:n_train], y[cut:n_train]), dict(spec.hyperparameters), seed=7, threads=1
    )
    print(json.dumps(compute_metrics("regression", y[cut:n_train], model.predict(x[cut:n_train]))))


def accuracy(run_dir: Path) -> dict[str, Any]:
    """Held-out MAE: partitioned vs global alone, overall and for cities by training-order count."""
    import numpy as np

    from inference_engine.partitioning.evaluation import score_holdout
    from inference_engine.partitioning.predictor import load_predictor
    from inference_engine.partitioning.spec import load_spec

    spec = load_spec("etd")
    scores = score_holdout(run_dir / "split.parquet", spec, load_predictor(run_dir / "artifact"))
    meta = json.loads((run_dir / "meta.json").read_text())
    city_rows = {tuple(k): p["fit"] + p["valid"] for k, p in meta["rows"] if len(k) == 2}
    rows = np.array([city_rows.get(tuple(k), 0) for k in scores.keys])
    bands = {"all": rows >= 0, f"cities < min_rows ({spec.min_rows})": rows < spec.min_rows,
             "cities < 1000 orders": rows < 1000, "cities >= 5000 orders": rows >= 5000}  # fmt: skip
    out = {}
    for band, mask in bands.items():
        if mask.any():
            out[band] = {"rows": int(mask.sum()),
                         "mae_partitioned": float(np.abs(scores.partitioned[mask] - scores.y[mask]).mean()),
                         "mae_global": float(np.abs(scores.global_only[mask] - scores.y[mask]).mean())}  # fmt: skip
    return out


MARGINS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1)


def choose_margin(run_dir: Path, margins: tuple[float, ...] = MARGINS) -> dict[str, Any]:
    """Pick ``min_improvement`` from the validation slice only (the held-out window is never read).

    Each node's validation rows are split in time: the earlier half plays the production judge (early stopping
    and node-vs-parent decision, as training does on the whole slice), the later half checks whether the kept
    edge lasts. For every margin the tree decision is replayed top-down and scored on the later halves.
    """
    import numpy as np
    import pyarrow.parquet as pq

    from inference_engine.algorithms import get_algorithm, load_fitted
    from inference_engine.partitioning.spec import load_spec
    from inference_engine.partitioning.tree import GLOBAL, file_stem

    spec = load_spec("etd")
    features = json.loads((run_dir / "meta.json").read_text())["features"]
    columns = [*spec.partition_by, *features, spec.label, "_part", "_row"]
    frame = pq.read_table(run_dir / "split.parquet", columns=columns, filters=[("_part", "!=", "holdout")])
    frame = frame.to_pandas().sort_values("_row", kind="stable")
    frame["_half"] = "fit"
    for _key, rows in frame[frame["_part"] == "valid"].groupby(list(spec.partition_by), sort=False):
        frame.loc[rows.index, "_half"] = np.where(np.arange(len(rows)) < len(rows) // 2, "judge", "check")
    x = frame[features].to_numpy(np.float32)
    y = frame[spec.label].to_numpy(np.float64)
    predictions = {GLOBAL: load_fitted(spec.algorithm, str(run_dir / "models" / f"{file_stem(GLOBAL)}.ubj")).predict(x)}
    algorithm = get_algorithm(spec.algorithm)
    for level in (1, 2):
        for key, rows in frame.groupby(list(spec.partition_by[:level]), sort=True):
            index = frame.index.get_indexer(rows.index)
            half = frame["_half"].to_numpy()[index]
            fit, judge = index[half == "fit"], index[half == "judge"]
            if len(index) < spec.min_rows or len(fit) == 0 or len(judge) == 0:
                continue
            model = algorithm.fit((x[fit], y[fit]), (x[judge], y[judge]), dict(spec.hyperparameters), seed=7, threads=2)
            full = np.full(len(y), np.nan)
            full[index] = model.predict(x[index])
            predictions[json.dumps(list(key) if isinstance(key, tuple) else [key])] = full
    keys = frame[list(spec.partition_by)].astype(str).to_numpy()
    halves = frame["_half"].to_numpy()
    return {f"{m:g}": _replay(m, predictions, keys, halves, y) for m in margins}


def _replay(margin: float, predictions: dict[str, Any], keys: Any, halves: Any, y: Any) -> dict[str, Any]:
    """Top-down decision with ``margin`` on the judge halves; MAE of the resulting routing on the check halves."""
    import numpy as np

    serving = predictions["global"].copy()  # row -> current serving prediction
    kept = 0
    for level in (1, 2):
        for name, own in predictions.items():
            if name == "global" or len(json.loads(name)) != level:
                continue
            mask = ~np.isnan(own)
            judge = mask & (halves == "judge")
            own_mae = np.abs(own[judge] - y[judge]).mean()
            parent_mae = np.abs(serving[judge] - y[judge]).mean()
            if own_mae < parent_mae * (1 - margin):
                serving[mask] = own[mask]
                kept += 1
    check = halves == "check"
    return {"kept": kept, "check_rows": int(check.sum()), "check_mae": float(np.abs(serving[check] - y[check]).mean()),
            "check_mae_global": float(np.abs(predictions["global"][check] - y[check]).mean())}  # fmt: skip


def print_report(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    summary, naive = result["summary"], result["naive"]
    console = Console(width=150)
    table = Table(title=f"Partitioned ETD training: {summary['nodes']} nodes {summary['counts']} (2-core machine)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("min_improvement / min_validation_rows (etd.yaml)",
                  f"{result.get('min_improvement', 0):g} / {result.get('min_validation_rows', 0)}")  # fmt: skip
    table.add_row("wall time, whole partitioned training (process)", f"{result['seconds']:.1f} s")
    table.add_row("  of which the Spark tree training", f"{summary['training_seconds']:.1f} s")
    table.add_row("peak memory (driver + JVM + workers)", f"{result['peak_rss_mb']:.0f} MB")
    table.add_row("naive: a process per node (sampled, extrapolated)", f"{naive['estimated_seconds']:.0f} s")
    table.add_row(
        "  mean seconds per node by level", json.dumps({k: round(v, 2) for k, v in naive["mean_seconds"].items()})
    )
    table.add_row("  sampled nodes by level / total", f"{naive['sampled']} / {naive['nodes']}")
    table.add_row("naive / partitioned", f"{naive['estimated_seconds'] / result['seconds']:.1f}x")
    for band, scores in result["accuracy"].items():
        table.add_row(f"held-out MAE, {band} ({scores['rows']} rows)",
                      f"partitioned {scores['mae_partitioned']:.3f} vs global {scores['mae_global']:.3f}")  # fmt: skip
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    node = sub.add_parser("naive-node")
    node.add_argument("run_dir", type=Path)
    node.add_argument("key")
    margin = sub.add_parser("choose-margin", help="pick min_improvement on the validation slice of a finished run")
    margin.add_argument("run_dir", type=Path)
    parser.add_argument("--var-dir", type=Path, default=None, help="default: var/bench-<size>")
    parser.add_argument("--versus-cluster", action="store_true",
                        help="train twice: local[2], then on a Spark standalone master with 2 workers")  # fmt: skip
    parser.add_argument("--size", default="full", help="the data set (--versus-cluster only): tiny, small, full")
    args = parser.parse_args(argv)
    args.var_dir = args.var_dir or ROOT / "var" / f"bench-{args.size}"
    if args.versus_cluster:
        from bench.partitioned_cluster import run_and_report

        run_and_report(args.var_dir, args.size)
        return
    if args.command == "naive-node":
        naive_node(args.run_dir, json.loads(args.key))
        return
    if args.command == "choose-margin":
        print(json.dumps(choose_margin(args.run_dir), indent=1))
        return
    result = run(args.var_dir)
    print_report(result)
    (args.var_dir / "bench-partitioned.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
