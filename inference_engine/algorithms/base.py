"""The algorithm interface: fit on arrays, predict arrays, save to / load from one non-pickle file."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

Task = Literal["regression", "classification"]


class FittedModel(abc.ABC):
    """A trained model: scores float32 rows (NaN = missing) and persists itself."""

    #: file suffix of the saved model (``.ubj``, ``.json``)
    suffix: str = ""

    @abc.abstractmethod
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Regression: the estimate; classification: the probability of the positive class."""

    @abc.abstractmethod
    def save(self, path: str) -> None:
        """Write the model to ``path`` (a file ending in ``suffix``)."""

    def fitted_params(self) -> dict[str, Any]:
        """What training decided (best iteration, ...), recorded per node next to the hyperparameters."""
        return {}


class Algorithm(abc.ABC):
    name: str = ""
    task: Task = "regression"

    @abc.abstractmethod
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
        """Train on ``fit`` (x, y); ``valid`` may drive early stopping. Same inputs and seed -> same model.

        ``categorical`` maps a column index to its number of categories: that column holds category indexes
        (NaN = missing or unseen), never to be read as an ordered number.
        """

    @abc.abstractmethod
    def load(self, path: str) -> FittedModel:
        """Read a model written by ``FittedModel.save``."""
