"""Per-node metrics: MAE / RMSE / R2 for regression, AUC / precision / recall for classification."""

from __future__ import annotations

import math

import numpy as np

from inference_engine.algorithms.base import Task

#: metrics where a lower value is better; every other metric is better when higher
LOWER_IS_BETTER = frozenset({"mae", "rmse"})
METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "regression": ("mae", "rmse", "r2"),
    "classification": ("auc", "precision", "recall"),
}


def compute_metrics(task: Task, y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    if task == "regression":
        return regression_metrics(y, predicted)
    return classification_metrics(y, predicted)


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    errors = predicted - y
    total = float(np.sum((y - y.mean()) ** 2)) if len(y) else 0.0
    r2 = 1.0 - float(np.sum(errors**2)) / total if total > 0 else math.nan
    return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors**2))), "r2": r2}


def classification_metrics(y: np.ndarray, probability: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    labels = (y > 0.5).astype(int)
    decided = (probability >= threshold).astype(int)
    auc = float(roc_auc_score(labels, probability)) if len(np.unique(labels)) == 2 else math.nan
    return {
        "auc": auc,
        "precision": float(precision_score(labels, decided, zero_division=0)),
        "recall": float(recall_score(labels, decided, zero_division=0)),
    }


def is_better(metric: str, candidate: float, incumbent: float) -> bool:
    """Strictly better; a NaN candidate never wins, a NaN incumbent always loses."""
    if math.isnan(candidate):
        return False
    if math.isnan(incumbent):
        return True
    return candidate < incumbent if metric in LOWER_IS_BETTER else candidate > incumbent


def check_metric(task: str, metric: str) -> None:
    from inference_engine.errors import TrainingDataError

    allowed = METRICS_BY_TASK.get(task, ())
    if metric not in allowed:
        raise TrainingDataError(
            f"metric {metric!r} does not fit a {task} model; use one of {', '.join(allowed)}", field="metric"
        )
