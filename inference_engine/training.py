"""Use case: train a model on a lake training set, evaluate it on a held-out time window, register it."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference_engine.domain.features import canonical_feature
from inference_engine.errors import ModelNotFound
from inference_engine.partitioning.spec import MonitoringSpec
from inference_engine.ports import ModelRegistry, TrainedCandidate, TrainingDataSource
from inference_engine.reference import documents, reference_document
from inference_engine.training_data import (
    TimeSplit,
    TrainingSet,
    check_sizes,
    feature_set_tags,
    read_training_set,
    split_by_time,
    split_validation,
)
from strata_kernel.errors import BadRequest

log = logging.getLogger(__name__)

#: model name -> the lake table it trains on
TRAINING_TABLES: dict[str, str] = {"etd": "processed.etd_training_set"}

XGBOOST_PARAMS: dict[str, Any] = {
    "objective": "reg:squarederror",
    "eval_metric": "mae",
    "tree_method": "hist",
    "max_depth": 6,
    "learning_rate": 0.08,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.9,
    "reg_lambda": 1.0,
}
MAX_ROUNDS = 600
EARLY_STOPPING_ROUNDS = 30

#: hyperparameters ``train --param KEY=VALUE`` may override, with their types (drills register a deliberately
#: worse candidate, e.g. ``--param n_estimators=2 --param max_depth=1``); n_estimators caps the boosting rounds
TUNABLE_PARAMS: dict[str, type[int] | type[float]] = {
    "n_estimators": int,
    "max_depth": int,
    "learning_rate": float,
    "min_child_weight": float,
    "subsample": float,
    "colsample_bytree": float,
    "reg_lambda": float,
}


def parse_param_overrides(pairs: Sequence[str]) -> dict[str, int | float]:
    """``["max_depth=1", ...]`` -> ``{"max_depth": 1}``; BadRequest (exit 2 in the CLI) naming the bad pair."""
    overrides: dict[str, int | float] = {}
    for pair in pairs:
        key, sep, raw = (part.strip() for part in pair.partition("="))
        kind = TUNABLE_PARAMS.get(key)
        if not sep or kind is None:
            known = ", ".join(sorted(TUNABLE_PARAMS))
            raise BadRequest(f"--param {pair!r}: expected KEY=VALUE with KEY one of {known}", field="param")
        try:
            value = kind(raw)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise BadRequest(f"--param {pair!r}: {key} must be {what}", field="param") from None
        lowest_ok = value >= 0 if key in {"min_child_weight", "reg_lambda"} else value > 0
        if not lowest_ok or not math.isfinite(value) or (key in {"subsample", "colsample_bytree"} and value > 1):
            raise BadRequest(f"--param {pair!r}: {key} is out of range", field="param")
        overrides[key] = value
    return overrides


@dataclass(frozen=True)
class TrainingOptions:
    holdout_days: int = 7
    validation_fraction: float = 0.15
    min_training_rows: int = 200
    min_holdout_rows: int = 20
    seed: int = 7
    threads: int = 1
    #: overrides of XGBOOST_PARAMS (see TUNABLE_PARAMS); recorded with the run's params
    params: Mapping[str, int | float] = field(default_factory=dict)
    #: how the version's reference profile is cut (the model spec's ``monitoring`` block)
    monitoring: MonitoringSpec = field(default_factory=MonitoringSpec)


@dataclass(frozen=True)
class Evaluation:
    mae: float
    rmse: float
    p90_abs_error: float
    baseline_mae: float


def train_model(
    name: str, data_source: TrainingDataSource, registry: ModelRegistry, options: TrainingOptions
) -> dict[str, Any]:
    """Train, evaluate, register; returns the one-line summary the CLI prints."""
    table_name = TRAINING_TABLES.get(name)
    if table_name is None:
        raise ModelNotFound(f"no trainer for model {name!r}; known: {', '.join(sorted(TRAINING_TABLES))}")
    table = data_source.locate(table_name)
    data_version = f"{table.name}@v{table.version}"
    split = split_by_time(read_training_set(table.location), options.holdout_days)
    check_sizes(
        split,
        min_training_rows=options.min_training_rows,
        min_holdout_rows=options.min_holdout_rows,
        holdout_days=options.holdout_days,
    )
    started = time.perf_counter()
    booster, params = fit_booster(split.train, options)
    evaluation = evaluate(booster, split.train, split.holdout)
    log.info("trained %s on %d rows in %.1fs", name, len(split.train), time.perf_counter() - started)
    params.update(
        holdout_days=options.holdout_days,
        holdout_start=str(split.holdout_start),
        rows_train=len(split.train),
        rows_holdout=len(split.holdout),
    )
    candidate = _candidate(name, booster, split.train, params, evaluation, data_version)
    candidate.tags.update(feature_set_tags(table.location))
    candidate.documents.update(documents(_reference(booster, split, options.monitoring, data_version)))
    published = registry.publish(candidate)
    return {
        "model": name,
        "version": published.version,
        "mae": round(evaluation.mae, 4),
        "rmse": round(evaluation.rmse, 4),
        "p90_abs_error": round(evaluation.p90_abs_error, 4),
        "baseline_mae": round(evaluation.baseline_mae, 4),
        "rows_train": len(split.train),
        "rows_holdout": len(split.holdout),
        "data_version": data_version,
    }


def fit_booster(train: TrainingSet, options: TrainingOptions) -> tuple[Any, dict[str, Any]]:
    """Gradient-boosted trees with early stopping on the latest slice of the training window."""
    import xgboost as xgb

    fit, valid = split_validation(train, options.validation_fraction)
    names = list(train.features)
    dfit = xgb.DMatrix(fit.x, label=fit.y, feature_names=names, missing=np.nan, nthread=options.threads)
    dvalid = xgb.DMatrix(valid.x, label=valid.y, feature_names=names, missing=np.nan, nthread=options.threads)
    overrides = dict(options.params)
    rounds = int(overrides.pop("n_estimators", MAX_ROUNDS))
    params = {**XGBOOST_PARAMS, **overrides, "seed": options.seed, "nthread": options.threads}
    booster = xgb.train(
        params,
        dfit,
        num_boost_round=rounds,
        evals=[(dvalid, "validation")],
        early_stopping_rounds=EARLY_STOPPING_ROUNDS,
        verbose_eval=False,
    )
    best_iteration = int(booster.best_iteration)
    best = booster[: best_iteration + 1]  # keep only the trees that helped on validation
    best.feature_names = names
    return best, {**params, "num_boost_round": rounds, "best_iteration": best_iteration}


def evaluate(booster: Any, train: TrainingSet, holdout: TrainingSet) -> Evaluation:
    errors = np.abs(booster.inplace_predict(holdout.x, missing=np.nan) - holdout.y)
    baseline = restaurant_mean_baseline(train, holdout)
    return Evaluation(
        mae=float(errors.mean()),
        rmse=float(np.sqrt(np.mean(errors**2))),
        p90_abs_error=float(np.quantile(errors, 0.9)),
        baseline_mae=float(np.abs(baseline - holdout.y).mean()),
    )


def _reference(booster: Any, split: TimeSplit, monitoring: MonitoringSpec, data_version: str) -> dict[str, Any]:
    """Every labelled row (training and held-out windows) with this booster's prediction for it."""
    x = np.vstack([split.train.x, split.holdout.x])
    y = np.concatenate([split.train.y, split.holdout.y])
    predictions = booster.inplace_predict(x, missing=np.nan)
    meta = {"data_version": data_version, "rows_from": "training and held-out windows"}
    return reference_document(split.train.features, x, predictions, y, monitoring, meta=meta)


def restaurant_mean_baseline(train: TrainingSet, holdout: TrainingSet) -> np.ndarray:
    """Naive estimate: the restaurant's mean delivery time in the training window (global mean if unseen)."""
    keys, inverse = np.unique(train.groups.astype(str), return_inverse=True)
    means = np.bincount(inverse, weights=train.y) / np.bincount(inverse)
    by_restaurant = dict(zip(keys.tolist(), means.tolist(), strict=True))
    global_mean = float(train.y.mean())
    return np.array([by_restaurant.get(str(group), global_mean) for group in holdout.groups], dtype=np.float64)


def _candidate(
    name: str, booster: Any, train: TrainingSet, params: dict[str, Any], evaluation: Evaluation, data_version: str
) -> TrainedCandidate:
    metrics = {
        "mae": evaluation.mae,
        "rmse": evaluation.rmse,
        "p90_abs_error": evaluation.p90_abs_error,
        "baseline_mae": evaluation.baseline_mae,
    }
    tags = {
        "features": json.dumps(list(train.features)),
        "canonical_features": json.dumps([canonical_feature(f) for f in train.features]),
        "data_version": data_version,
        "metric_mae": f"{evaluation.mae:.4f}",
        "metric_rmse": f"{evaluation.rmse:.4f}",
        "metric_p90_abs_error": f"{evaluation.p90_abs_error:.4f}",
        "baseline_mae": f"{evaluation.baseline_mae:.4f}",
        "framework": "xgboost",
    }
    example = [_example_row(train, row) for row in range(min(2, len(train)))]
    return TrainedCandidate(name, "xgboost", booster, train.features, params, metrics, tags, example)


def _example_row(train: TrainingSet, row: int) -> dict[str, float]:
    return {feature: float(train.x[row, column]) for column, feature in enumerate(train.features)}
