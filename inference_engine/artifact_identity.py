"""Is a rebuilt engine the same as a registered one? The bytes that decide its predictions, and a recorded sample.

A *fingerprint* is the sha256 of every file that decides predictions, per framework:

- ``xgboost``: the booster as UBJ (XGBoost writes the same bytes for the same trees: seeded, fixed thread count);
- ``partitioned``: ``routing.json`` and every node's model under ``models/`` (``report.json`` is left out: it
  records how long training took);
- ``tensorflow``: ``labels.json``, ``vocabulary.json`` and, inside ``model.keras``, ``model.weights.h5`` and
  ``config.json`` without its ``shared_object_id`` values. Keras 3 writes the save date into ``metadata.json`` and
  the memory address of a shared Python object as ``shared_object_id`` into ``config.json``, so the archive's own
  bytes differ on every save even when every weight is the same.

The *sample* is up to ``SAMPLE_ROWS`` held-out inputs with the predictions the version made for them, stored with
the version (``provenance/sample.json``): a rebuild is compared on it even when the registered files are gone.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_DOCUMENT = "provenance/sample.json"
SAMPLE_ROWS = 64
KERAS_FILE = "model.keras"
_SHARED_ID = re.compile(rb'"shared_object_id":\s*\d+')


def fingerprint(path: Path, framework: str) -> dict[str, str]:
    """File -> sha256 of what decides predictions (``path``: the flavor's file or directory)."""
    if framework == "xgboost":
        return {"model.ubj": _sha(path.read_bytes())}
    if framework == "partitioned":
        files = [path / "routing.json", *sorted((path / "models").rglob("*"))]
        return {str(f.relative_to(path)): _sha(f.read_bytes()) for f in files if f.is_file()}
    if framework == "tensorflow":
        found = {name: _sha((path / name).read_bytes()) for name in ("labels.json", "vocabulary.json")}
        with zipfile.ZipFile(path / KERAS_FILE) as archive:
            found[f"{KERAS_FILE}/model.weights.h5"] = _sha(archive.read("model.weights.h5"))
            config = _SHARED_ID.sub(b'"shared_object_id":0', archive.read("config.json"))
            found[f"{KERAS_FILE}/config.json"] = _sha(config)
        return found
    raise ValueError(f"no fingerprint for a {framework} model")


def booster_fingerprint(booster: Any) -> dict[str, str]:
    """The fingerprint of an in-memory XGBoost booster (what the registry's xgboost flavor stores as model.ubj)."""
    return {"model.ubj": _sha(bytes(booster.save_raw("ubj")))}


def digest(found: dict[str, str]) -> str:
    """One value for a whole fingerprint (the version tag ``provenance.fingerprint``)."""
    return "sha256:" + _sha(json.dumps(found, sort_keys=True).encode())


def differing(first: dict[str, str], second: dict[str, str]) -> list[str]:
    return sorted(name for name in first.keys() | second.keys() if first.get(name) != second.get(name))


# --- the recorded sample -----------------------------------------------------------------------------------------
def tabular_sample(keys: list[list[str | None]], x: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """A partitioned or XGBoost model's sample: partition keys, float32 inputs (NaN as null) and predictions."""
    rows = x.astype(np.float32)
    return {
        "kind": "tabular",
        "keys": keys,
        "x": [[None if np.isnan(v) else float(v) for v in row] for row in rows],
        "predictions": [float(p) for p in predictions],
    }


def token_sample(batch: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """The chatbot's sample: padded token-id rows and the probabilities of every article."""
    return {"kind": "tokens", "x": batch.astype(np.int32).tolist(),
            "predictions": probabilities.astype(np.float64).tolist()}  # fmt: skip


def sample_inputs(sample: dict[str, Any]) -> tuple[list[list[str | None]], np.ndarray]:
    if sample.get("kind") == "tokens":
        return [], np.asarray(sample["x"], dtype=np.int32)
    x = np.array([[np.nan if v is None else v for v in row] for row in sample["x"]], dtype=np.float32)
    return sample.get("keys") or [[] for _ in range(len(x))], x


def predict_sample(path: Path, framework: str, sample: dict[str, Any]) -> np.ndarray:
    """The predictions of the model at ``path`` on the sample's inputs, computed as serving computes them."""
    keys, x = sample_inputs(sample)
    if framework == "partitioned":
        from inference_engine.partitioning.predictor import load_predictor

        return np.asarray(load_predictor(path).predict(keys, x)[0], dtype=np.float64)
    if framework == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(path))
        booster.set_param({"nthread": 1})
        return np.asarray(booster.inplace_predict(x, missing=np.nan), dtype=np.float64).ravel()
    if framework == "tensorflow":
        from inference_engine.helpbot.numpy_scorer import NumpyScorer

        return np.asarray(NumpyScorer.read(path / KERAS_FILE)(x), dtype=np.float64)
    raise ValueError(f"cannot score a {framework} model")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
