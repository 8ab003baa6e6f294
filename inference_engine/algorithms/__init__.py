"""Learning algorithms behind one interface (fit -> a model that predicts, saves and reloads without pickle).

An explicit table maps a spec's ``algorithm`` to its implementation; each imports its library lazily.
"""

from __future__ import annotations

from collections.abc import Callable

from inference_engine.algorithms.base import Algorithm, FittedModel
from inference_engine.errors import TrainingDataError


def _xgboost_regressor() -> Algorithm:
    from inference_engine.algorithms.xgboost_algorithm import XGBoostAlgorithm

    return XGBoostAlgorithm(task="regression")


def _xgboost_classifier() -> Algorithm:
    from inference_engine.algorithms.xgboost_algorithm import XGBoostAlgorithm

    return XGBoostAlgorithm(task="classification")


def _linear_regression() -> Algorithm:
    from inference_engine.algorithms.linear import LinearRegressionAlgorithm

    return LinearRegressionAlgorithm()


def _logistic_regression() -> Algorithm:
    from inference_engine.algorithms.linear import LogisticRegressionAlgorithm

    return LogisticRegressionAlgorithm()


ALGORITHMS: dict[str, Callable[[], Algorithm]] = {
    "xgboost_regressor": _xgboost_regressor,
    "xgboost_classifier": _xgboost_classifier,
    "linear_regression": _linear_regression,
    "logistic_regression": _logistic_regression,
}


def get_algorithm(name: str) -> Algorithm:
    factory = ALGORITHMS.get(name)
    if factory is None:
        known = ", ".join(sorted(ALGORITHMS))
        raise TrainingDataError(f"unknown algorithm {name!r}; known: {known}", field="algorithm")
    return factory()


def load_fitted(algorithm: str, path: str) -> FittedModel:
    """Read a model saved by ``FittedModel.save`` (the algorithm name says which reader)."""
    return get_algorithm(algorithm).load(path)


__all__ = ["ALGORITHMS", "Algorithm", "FittedModel", "get_algorithm", "load_fitted"]
