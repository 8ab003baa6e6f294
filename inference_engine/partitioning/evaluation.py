"""Held-out evaluation of a model against its global node alone and a naive baseline (same rows, same metrics).

The baseline is the label's training-window mean: per value of the declaration's ``baseline.mean_by`` column, or
else per node of the tree — the node that answers the row (global for a model without partitions). For a
classifier that mean is the positive rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference_engine.algorithms.metrics import compute_metrics
from inference_engine.partitioning.dataset import HOLDOUT, PART, ROW, partition_keys
from inference_engine.partitioning.predictor import PartitionedPredictor
from inference_engine.partitioning.spec import PartitionSpec, task_of
from inference_engine.partitioning.tree import GLOBAL, node_id


@dataclass(frozen=True)
class HoldoutScores:
    keys: list[list[str | None]]
    y: np.ndarray
    partitioned: np.ndarray
    global_only: np.ndarray
    nodes: list[str]
    baseline: np.ndarray | None = None  # the spec's naive baseline on the same rows, if it names one


def score_holdout(split_path: Path, spec: PartitionSpec, predictor: PartitionedPredictor) -> HoldoutScores:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(split_path, filters=[(PART, "=", HOLDOUT)])
    table = table.take(pc.sort_indices(table, [(ROW, "ascending")]))
    x = np.column_stack([table.column(f).to_numpy(zero_copy_only=False) for f in predictor.features])
    x = x.astype(np.float32).reshape(table.num_rows, len(predictor.features))
    keys = partition_keys(table, spec.partition_by)
    y = table.column(spec.label).to_numpy(zero_copy_only=False).astype(np.float64)
    partitioned, nodes = predictor.predict(keys, x)
    global_only = predictor.models[GLOBAL].predict(x) if len(y) else np.empty(0)
    if spec.baseline_by is not None:
        baseline = _mean_by(split_path, spec, table.column(spec.baseline_by).to_pylist())
    else:
        baseline = _mean_by_node(split_path, spec, nodes)
    return HoldoutScores(keys, y, partitioned, global_only, nodes, baseline)


def _mean_by_node(split_path: Path, spec: PartitionSpec, nodes: list[str]) -> np.ndarray:
    """Per held-out row: the label's training-window mean over the rows of the node that answered it."""
    import pyarrow.parquet as pq

    columns = [*spec.partition_by, spec.label]
    train = pq.read_table(split_path, columns=columns, filters=[(PART, "!=", HOLDOUT)])
    labels = train.column(spec.label).to_numpy(zero_copy_only=False).astype(np.float64)
    keys = list(zip(*(train.column(c).to_pylist() for c in spec.partition_by), strict=True)) or [()] * len(labels)
    sums: dict[str, list[float]] = {}
    for key, label in zip(keys, labels.tolist(), strict=True):
        for depth in range(len(key) + 1):  # a row counts for its node and every ancestor
            total = sums.setdefault(node_id(spec.partition_by, tuple(str(v) for v in key[:depth])), [0.0, 0.0])
            total[0] += label
            total[1] += 1
    overall = float(labels.mean()) if len(labels) else float("nan")
    means = {node: s / n for node, (s, n) in sums.items() if n}
    return np.array([means.get(node, overall) for node in nodes], dtype=np.float64)


def _mean_by(split_path: Path, spec: PartitionSpec, holdout_values: list[object]) -> np.ndarray:
    """Naive estimate per held-out row: the label's training-window mean for its ``baseline_by`` value
    (the overall training mean for a value never seen in training)."""
    import pyarrow.parquet as pq

    column = spec.baseline_by
    assert column is not None
    train = pq.read_table(split_path, columns=[column, spec.label, PART], filters=[(PART, "!=", HOLDOUT)])
    values = np.asarray(train.column(column).to_pylist(), dtype=object).astype(str)
    labels = train.column(spec.label).to_numpy(zero_copy_only=False).astype(np.float64)
    keys, inverse = np.unique(values, return_inverse=True)
    means = dict(zip(keys.tolist(), (np.bincount(inverse, labels) / np.bincount(inverse)).tolist(), strict=True))
    overall = float(labels.mean()) if len(labels) else float("nan")
    return np.array([means.get(str(value), overall) for value in holdout_values], dtype=np.float64)


def holdout_summary(scores: HoldoutScores, spec: PartitionSpec) -> dict[str, object]:
    if len(scores.y) == 0:
        return {"holdout_rows": 0}
    task = task_of(spec.algorithm)
    partitioned = compute_metrics(task, scores.y, scores.partitioned)  # type: ignore[arg-type]
    global_only = compute_metrics(task, scores.y, scores.global_only)  # type: ignore[arg-type]
    if task == "regression":
        partitioned["p90_abs_error"] = float(np.quantile(np.abs(scores.partitioned - scores.y), 0.9))
        global_only["p90_abs_error"] = float(np.quantile(np.abs(scores.global_only - scores.y), 0.9))
    summary: dict[str, object] = {
        "holdout_rows": len(scores.y),
        "holdout": {k: round(v, 6) for k, v in partitioned.items()},
        "holdout_global_only": {k: round(v, 6) for k, v in global_only.items()},
    }
    if scores.baseline is not None:
        baseline = compute_metrics(task, scores.y, scores.baseline)  # type: ignore[arg-type]
        summary["baseline"] = {k: round(v, 6) for k, v in baseline.items()}
        summary["baseline_by"] = spec.baseline_by or "node"
        if task == "regression":
            summary["baseline_mae"] = round(float(np.abs(scores.baseline - scores.y).mean()), 6)
    return summary
