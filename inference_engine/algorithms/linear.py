"""scikit-learn linear and logistic regression behind the algorithm interface.

Missing values are imputed with the fit rows' column means (linear models cannot take NaN). The saved form
is plain JSON (means, coefficients, intercept), so loading needs neither pickle nor scikit-learn, and serving
is one dot product in numpy.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from inference_engine.algorithms.base import Algorithm, FittedModel, Task


class LinearModel(FittedModel):
    suffix = ".json"

    def __init__(self, kind: Task, means: np.ndarray, coef: np.ndarray, intercept: float) -> None:
        self._kind = kind
        self._means = means
        self._coef = coef
        self._intercept = intercept

    def predict(self, x: np.ndarray) -> np.ndarray:
        filled = _impute(x, self._means).astype(np.float64)
        scores = filled @ self._coef + self._intercept
        return scores if self._kind == "regression" else 1.0 / (1.0 + np.exp(-scores))

    def save(self, path: str) -> None:
        body = {"kind": self._kind, "means": self._means.tolist(), "coef": self._coef.tolist(),
                "intercept": self._intercept}  # fmt: skip
        with open(path, "w", encoding="utf-8") as file:
            json.dump(body, file)

    @classmethod
    def read(cls, path: str) -> LinearModel:
        with open(path, encoding="utf-8") as file:
            body = json.load(file)
        return cls(body["kind"], np.array(body["means"]), np.array(body["coef"]), float(body["intercept"]))


def _impute(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Missing values -> the fit rows' column means (the same rule at fit and at predict time)."""
    return np.where(np.isnan(x), means, x)


def _column_means(x: np.ndarray) -> np.ndarray:
    counts = np.sum(~np.isnan(x), axis=0)
    sums = np.nansum(x, axis=0)
    return np.divide(sums, counts, out=np.zeros(x.shape[1]), where=counts > 0)


class _LinearBase(Algorithm):
    def load(self, path: str) -> FittedModel:
        return LinearModel.read(path)


class LinearRegressionAlgorithm(_LinearBase):
    name = "linear_regression"
    task: Task = "regression"

    def fit(
        self,
        fit: tuple[np.ndarray, np.ndarray],
        valid: tuple[np.ndarray, np.ndarray],
        hyperparameters: dict[str, Any],
        *,
        seed: int,
        threads: int,
    ) -> FittedModel:
        from sklearn.linear_model import LinearRegression

        means = _column_means(fit[0])
        model = LinearRegression(**hyperparameters).fit(_impute(fit[0], means), fit[1])
        return LinearModel("regression", means, np.asarray(model.coef_, dtype=np.float64), float(model.intercept_))


class LogisticRegressionAlgorithm(_LinearBase):
    name = "logistic_regression"
    task: Task = "classification"

    def fit(
        self,
        fit: tuple[np.ndarray, np.ndarray],
        valid: tuple[np.ndarray, np.ndarray],
        hyperparameters: dict[str, Any],
        *,
        seed: int,
        threads: int,
    ) -> FittedModel:
        from sklearn.linear_model import LogisticRegression

        means = _column_means(fit[0])
        params = {"max_iter": 500, **hyperparameters, "random_state": seed}
        model = LogisticRegression(**params).fit(_impute(fit[0], means), fit[1] > 0.5)
        coef = np.asarray(model.coef_, dtype=np.float64).ravel()
        return LinearModel("classification", means, coef, float(np.ravel(model.intercept_)[0]))
