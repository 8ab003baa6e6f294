"""TensorFlow runtime of the help-centre chatbot: a Keras model, its labels, vocabulary and threshold.

The hot path is numpy plus one call of a ``tf.function`` traced once with a fixed input signature
(``model.predict`` costs milliseconds per call). TensorFlow is imported only here and in helpbot.model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from inference_engine.domain.signature import Instance
from inference_engine.errors import ModelNotReady
from inference_engine.helpbot.encoding import MODEL_FILE, Labels, Vocabulary, answers, checked_token_ids, decide, encode
from inference_engine.helpbot.model import Scorer, import_tensorflow
from inference_engine.helpbot.vectoriser import model_vectoriser
from inference_engine.runtimes.base import ModelRuntime

import_tensorflow()  # quiet and oneDNN-free before anything else imports TensorFlow in this process


class TensorFlowRuntime(ModelRuntime):
    _scorer: Scorer | None = None
    _labels: Labels
    _vocabulary: Vocabulary
    _known: np.ndarray
    _threshold: float

    def load(self) -> None:
        import keras

        directory = self.artifact.model_file  # the version's directory (MLmodel ``tensorflow`` flavor)
        version = self.artifact.model_version
        threshold = version.tags.get("threshold")
        if threshold is None:
            raise ModelNotReady(f"{version.name} v{version.version} has no threshold tag")
        self._labels = Labels.read(directory)
        self._vocabulary = Vocabulary.read(directory)
        self._known = self._vocabulary.known_mask()
        self._threshold = float(threshold)
        model = keras.models.load_model(directory / MODEL_FILE, compile=False)
        if int(model.output_shape[-1]) != len(self._labels.articles):
            raise ModelNotReady(f"{version.name} v{version.version}: model outputs and labels.json disagree")
        self._scorer = Scorer(model)

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
