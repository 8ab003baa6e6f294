"""The helpbot's forward pass in numpy, read straight from the saved ``.keras`` file: serving without TensorFlow.

The model is small and fixed (helpbot.model.build_model): ids -> Embedding(mask_zero) -> masked average ->
Dropout (a no-op when serving) -> Dense softmax. Its inference is two array lookups and one matrix product, yet
importing TensorFlow to run it costs 5-30 s and ~650 MB per process (measured on this machine).
Reading the weights with h5py (Keras' own weight format) and scoring in float32 numpy gives the same
probabilities as the Keras graph to ~1e-7 (tests compare both on a trained model). A saved model whose
architecture is anything else is refused here (``UnsupportedArchitecture``); the runtime then falls back to Keras.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

#: the layer classes of build_model, in order
ARCHITECTURE = ("InputLayer", "Embedding", "GlobalAveragePooling1D", "Dropout", "Dense")
#: the op Keras records for the embedding's padding mask (``ids != 0``): part of the same computation
_MASK_OPS = frozenset({"NotEqual"})
WEIGHTS_FILE = "model.weights.h5"


class UnsupportedArchitecture(ValueError):
    """The saved model is not the embedding-bag architecture this scorer implements."""


class NumpyScorer:
    """Softmax rows for a padded int32 batch; the same contract as helpbot.model.Scorer."""

    def __init__(self, embedding: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> None:
        if embedding.shape[1] != kernel.shape[0] or kernel.shape[1] != bias.shape[0]:
            raise UnsupportedArchitecture(
                f"weight shapes do not chain: embedding {embedding.shape}, dense {kernel.shape} + {bias.shape}"
            )
        self._embedding = embedding.astype(np.float32, copy=False)
        self._kernel = kernel.astype(np.float32, copy=False)
        self._bias = bias.astype(np.float32, copy=False)
        self.classes = int(bias.shape[0])
        self.max_length: int | None = None

    @classmethod
    def read(cls, model_file: Path) -> NumpyScorer:
        """Weights of a ``.keras`` file (a zip of config.json and model.weights.h5)."""
        import h5py

        with zipfile.ZipFile(model_file) as archive:
            config = json.loads(archive.read("config.json"))
            layers = _layers(config)
            with h5py.File(io.BytesIO(archive.read(WEIGHTS_FILE)), "r") as weights:
                embedding = np.asarray(weights[_vars_path(weights, "embedding")]["0"])
                dense = weights[_vars_path(weights, "dense")]
                kernel, bias = np.asarray(dense["0"]), np.asarray(dense["1"])
        scorer = cls(embedding, kernel, bias)
        scorer.max_length = _max_length(layers[0])
        return scorer

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Masked mean of the ids' embeddings (id 0 is padding), then softmax(x W + b), in float32."""
        if len(batch) == 0:
            return np.zeros((0, self.classes), dtype=np.float32)
        mask = batch != 0
        counts = mask.sum(axis=1, keepdims=True).astype(np.float32)
        summed = np.einsum("nld,nl->nd", self._embedding[batch], mask.astype(np.float32))
        logits = (summed / counts) @ self._kernel + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return result


def _layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    layers = [layer for layer in config.get("config", {}).get("layers", []) if layer.get("class_name") not in _MASK_OPS]
    classes = tuple(layer.get("class_name") for layer in layers)
    if classes != ARCHITECTURE:
        raise UnsupportedArchitecture(f"layers {classes} are not {ARCHITECTURE}")
    embedding, dense = layers[1]["config"], layers[4]["config"]
    if not embedding.get("mask_zero"):
        raise UnsupportedArchitecture("the embedding does not mask id 0")
    if dense.get("activation") != "softmax" or not dense.get("use_bias", True):
        raise UnsupportedArchitecture("the output layer is not a dense softmax with bias")
    return layers


def _vars_path(weights: Any, kind: str) -> str:
    """Keras 3 stores each layer's variables under ``layers/<class name in snake case>/vars``."""
    path = f"layers/{kind}/vars"
    if path not in weights:
        raise UnsupportedArchitecture(f"{WEIGHTS_FILE} has no {path}")
    return path


def _max_length(input_layer: dict[str, Any]) -> int | None:
    shape = input_layer.get("config", {}).get("batch_shape") or input_layer.get("config", {}).get("batch_input_shape")
    return int(shape[-1]) if shape and shape[-1] is not None else None
