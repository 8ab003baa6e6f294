"""Runtime of the help-centre chatbot's Keras model (MLflow flavor ``tensorflow``): labels, vocabulary, threshold.

The forward pass runs in numpy from the saved weights (helpbot.numpy_scorer): TensorFlow's import alone cost
5-30 s and ~650 MB per engine worker, for two lookups and one matrix product. A saved model of another
architecture falls back to Keras (one ``tf.function`` traced once), imported only then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference_engine.domain.signature import Instance
from inference_engine.errors import ModelNotReady
from inference_engine.helpbot.encoding import MODEL_FILE, Labels, Vocabulary, answers, checked_token_ids, decide, encode
from inference_engine.helpbot.numpy_scorer import NumpyScorer, UnsupportedArchitecture
from inference_engine.helpbot.vectoriser import model_vectoriser
from inference_engine.ports import ModelRuntime

log = logging.getLogger(__name__)


class TensorFlowRuntime(ModelRuntime):
    _scorer: Callable[[np.ndarray], np.ndarray] | None = None
    #: "numpy" (the saved weights, no TensorFlow) or "keras" (the fallback)
    scoring_path: str = "numpy"
    _labels: Labels
    _vocabulary: Vocabulary
    _known: np.ndarray
    _threshold: float

    def load(self) -> None:
        directory = self.artifact.model_file  # the version's directory (MLmodel ``tensorflow`` flavor)
        version = self.artifact.model_version
        threshold = version.tags.get("threshold")
        if threshold is None:
            raise ModelNotReady(f"{version.name} v{version.version} has no threshold tag")
        self._labels = Labels.read(directory)
        self._vocabulary = Vocabulary.read(directory)
        self._known = self._vocabulary.known_mask()
        self._threshold = float(threshold)
        scorer, classes = _load_scorer(directory / MODEL_FILE)
        if classes != len(self._labels.articles):
            raise ModelNotReady(f"{version.name} v{version.version}: model outputs and labels.json disagree")
        self._scorer = scorer
        self.scoring_path = "numpy" if isinstance(scorer, NumpyScorer) else "keras"

    @property
    def vectoriser(self) -> str | None:
        """The vectoriser the model was trained with (its ``vectoriser`` tag); requests must use the same."""
        return model_vectoriser(self.artifact.model_version)

    @property
    def threshold(self) -> float:
        return self._threshold

    # base says list[float]: this model answers one object per question (Prediction.predictions takes both)
    def predict(self, instances: Sequence[Instance]) -> list[Any]:
        if self._scorer is None:
            raise RuntimeError("TensorFlowRuntime.predict called before load()")
        rows = checked_token_ids(instances, self._vocabulary.buckets)
        batch, scored = encode(rows, self._known, self._vocabulary.max_length)
        return answers(decide(self._scorer(batch[scored]), scored, self._threshold), self._labels)

    def warm_up(self, predictions: int) -> None:
        """Score a known token (the base warm-up sends feature dicts of None, which this model refuses)."""
        known = np.flatnonzero(self._known)
        instance = {"token_ids": [int(known[0]) if len(known) else 1]}
        for _ in range(predictions):
            self.predict([instance])

    def unload(self) -> None:
        self._scorer = None


def _load_scorer(model_file: Path) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """The numpy scorer when the architecture is the known one, else Keras; with its number of classes."""
    try:
        scorer = NumpyScorer.read(model_file)
        return scorer, scorer.classes
    except UnsupportedArchitecture as exc:
        log.warning("%s: %s; scoring with Keras (imports TensorFlow)", model_file, exc)
    from inference_engine.helpbot.model import Scorer, import_tensorflow

    import_tensorflow()  # quiet and oneDNN-free before keras imports TensorFlow
    import keras

    keras_scorer = Scorer(keras.models.load_model(model_file, compile=False))
    return keras_scorer, keras_scorer.classes
