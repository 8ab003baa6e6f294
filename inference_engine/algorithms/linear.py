"""scikit-learn linear and logistic regression behind the algorithm interface.

Categorical columns (category indexes) are one-hot encoded — one column per category, a missing or unseen
category is all zeros — never read as ordered numbers. Missing numeric values are imputed with the fit rows'
column means (linear models cannot take NaN). The saved form is plain JSON (means, categories, coefficients,
intercept), so loading needs neither pickle nor scikit-learn, and serving is one dot product in numpy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from inference_engine.algorithms.base import Algorithm, FittedModel, Task


class LinearModel(FittedModel):
    suffix = ".json"

    def __init__(
        self, kind: Task, means: np.ndarray, coef: np.ndarray, intercept: float, categorical: Mapping[int, int]
    ) -> None:
        self._kind = kind
        self._means = means
        self._coef = coef
        self._intercept = intercept
        self._categorical = dict(categorical)

    def predict(self, x: np.ndarray) -> np.ndarray:
        scores = design(x, self._means, self._categorical) @ self._coef + self._intercept
        return scores if self._kind == "regression" else 1.0 / (1.0 + np.exp(-scores))

    def save(self, path: str) -> None:
        body = {
            "kind": self._kind,
            "means": self._means.tolist(),
            "coef": self._coef.tolist(),
            "intercept": self._intercept,
            "categorical": {str(k): v for k, v in self._categorical.items()},
        }
        with open(path, "w", encoding="utf-8") as file:
            json.dump(body, file)

    @classmethod
    def read(cls, path: str) -> LinearModel:
        with open(path, encoding="utf-8") as file:
            body = json.load(file)
        categorical = {int(k): int(v) for k, v in (body.get("categorical") or {}).items()}
        return cls(body["kind"], np.array(body["means"]), np.array(body["coef"]), float(body["intercept"]), categorical)


def design(x: np.ndarray, means: np.ndarray, categorical: Mapping[int, int]) -> np.ndarray:
    """The model's input matrix: numeric columns imputed with ``means``, categorical ones one-hot encoded."""
    numeric = [i for i in range(x.shape[1]) if i not in categorical]
    blocks = [np.where(np.isnan(x[:, numeric]), means[numeric], x[:, numeric]).astype(np.float64)]
    for index, count in sorted(categorical.items()):
        codes = x[:, index]
        known = ~np.isnan(codes) & (codes >= 0) & (codes < count)
        block = np.zeros((len(x), count))
        block[np.flatnonzero(known), codes[known].astype(np.int64)] = 1.0
        blocks.append(block)
    return np.hstack(blocks)


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
        categorical: Mapping[int, int] | None = None,
    ) -> FittedModel:
        from sklearn.linear_model import LinearRegression

        means, kinds = _column_means(fit[0]), dict(categorical or {})
        model = LinearRegression(**hyperparameters).fit(design(fit[0], means, kinds), fit[1])
        coef = np.asarray(model.coef_, dtype=np.float64)
        return LinearModel("regression", means, coef, float(model.intercept_), kinds)


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
        categorical: Mapping[int, int] | None = None,
    ) -> FittedModel:
        from sklearn.linear_model import LogisticRegression

        means, kinds = _column_means(fit[0]), dict(categorical or {})
        params = {"max_iter": 500, **hyperparameters, "random_state": seed}
        model = LogisticRegression(**params).fit(design(fit[0], means, kinds), fit[1] > 0.5)
        coef = np.asarray(model.coef_, dtype=np.float64).ravel()
        return LinearModel("classification", means, coef, float(np.ravel(model.intercept_)[0]), kinds)
