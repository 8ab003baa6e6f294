"""XGBoost behind the algorithm interface: early stopping on the validation rows, saved as UBJ (never pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xgboost as xgb

from inference_engine.algorithms.base import Algorithm, FittedModel, Task

DEFAULTS: dict[str, Any] = {
    "tree_method": "hist",
    "max_depth": 6,
    "learning_rate": 0.08,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.9,
    "reg_lambda": 1.0,
}
OBJECTIVES: dict[str, tuple[str, str]] = {
    "regression": ("reg:squarederror", "mae"),
    "classification": ("binary:logistic", "logloss"),
}
#: not booster parameters: how many rounds at most, and when to stop
ROUND_KEYS = ("num_boost_round", "early_stopping_rounds")


class XGBoostModel(FittedModel):
    suffix = ".ubj"

    def __init__(self, booster: Any, best_iteration: int | None = None) -> None:
        self._booster = booster
        self._best_iteration = best_iteration

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._booster.inplace_predict(x, missing=np.nan), dtype=np.float64).ravel()

    def save(self, path: str) -> None:
        self._booster.save_model(path)

    def fitted_params(self) -> dict[str, Any]:
        return {} if self._best_iteration is None else {"best_iteration": self._best_iteration}


class XGBoostAlgorithm(Algorithm):
    def __init__(self, task: Task) -> None:
        self.task = task
        self.name = f"xgboost_{'regressor' if task == 'regression' else 'classifier'}"

    def fit(
        self,
        fit: tuple[np.ndarray, np.ndarray],
        valid: tuple[np.ndarray, np.ndarray],
        hyperparameters: dict[str, Any],
        *,
        seed: int,
        threads: int,
        categorical: Mapping[int, int] | None = None,
    ) -> FittedModel:
        objective, eval_metric = OBJECTIVES[self.task]
        rounds = int(hyperparameters.get("num_boost_round", 400))
        patience = int(hyperparameters.get("early_stopping_rounds", 30))
        booster_params = {k: v for k, v in hyperparameters.items() if k not in ROUND_KEYS}
        params = {**DEFAULTS, "objective": objective, "eval_metric": eval_metric, **booster_params}
        params.update(seed=seed, nthread=threads)
        # categorical columns split by category sets (XGBoost's native support), never by order
        kinds = None if not categorical else ["c" if i in categorical else "q" for i in range(fit[0].shape[1])]
        options = {"missing": np.nan, "nthread": threads, "feature_types": kinds, "enable_categorical": bool(kinds)}
        dfit = xgb.DMatrix(fit[0], label=fit[1], **options)
        dvalid = xgb.DMatrix(valid[0], label=valid[1], **options)
        booster = xgb.train(
            params, dfit, num_boost_round=rounds, evals=[(dvalid, "validation")],
            early_stopping_rounds=patience, verbose_eval=False,
        )  # fmt: skip
        best = int(booster.best_iteration)
        return XGBoostModel(booster[: best + 1], best)  # keep only the trees that helped on validation

    def load(self, path: str) -> FittedModel:
        booster = xgb.Booster()
        booster.load_model(path)
        booster.set_param({"nthread": 1})  # a request holds a handful of rows
        return XGBoostModel(booster)
