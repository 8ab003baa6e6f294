"""The reference profile every training job stores with the version it registers (``profile/reference.json``).

Rows: every labelled row of the training set the version was trained from (training window and held-out window),
with the version's own prediction for each, so the monitors can judge live inputs *and* live predictions against
what this version saw and said. Cut by hour of day (``monitoring.slice_by`` of the model spec) and, for a
partitioned model, by the node that serves each row. See ``strata_kernel/profiles/reference.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from inference_engine.partitioning.spec import MonitoringSpec
from strata_kernel.profiles.reference import ARTIFACT_PATH, build_reference

PREDICTION = "prediction"
LABEL = "label"
NODE = "node"
#: the chatbot's one numeric input the monitors profile: how many token ids a question has
TOKEN_COUNT = "token_count"
#: the version tag naming the artifact (so a reader finds it without knowing Strata's layout)
REFERENCE_TAG = "reference_profile"


def reference_document(
    features: Sequence[str],
    x: np.ndarray,
    predictions: np.ndarray,
    labels: np.ndarray | None,
    monitoring: MonitoringSpec,
    *,
    nodes: Sequence[str] | None = None,
    meta: dict[str, Any] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The JSON document of a numeric model's reference: feature matrix ``x`` (NaN = missing) and outputs.

    ``categories``: the categorical features' categories; their columns of ``x`` hold category indexes, profiled
    as the text the live traffic carries.
    """
    import pyarrow as pa

    columns: dict[str, Any] = {name: pa.array(x[:, i].astype(np.float64)) for i, name in enumerate(features)}
    for name, values in (categories or {}).items():
        codes = x[:, list(features).index(name)]
        columns[name] = pa.array([None if c != c else values[int(c)] for c in codes.tolist()], pa.string())
    columns[PREDICTION] = pa.array(np.asarray(predictions, dtype=np.float64))
    if labels is not None:
        columns[LABEL] = pa.array(np.asarray(labels, dtype=np.float64))
    if nodes is not None:
        columns[NODE] = pa.array(list(nodes), pa.string())
    slice_by = monitoring.slice_by if monitoring.slice_by in features else None
    reference = build_reference(
        pa.table(columns), features=list(features), prediction=PREDICTION, label=LABEL if labels is not None else None,
        slice_by=slice_by, node_by=NODE if nodes is not None else None,
        calendar_features=monitoring.calendar_features, meta=_meta(len(predictions), meta),
    )  # fmt: skip
    return reference.to_dict()


def categorical_reference_document(
    predictions: Sequence[str | None], features: Mapping[str, Sequence[float]], *, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A classifier's reference: its predicted labels (categorical) and numeric input features per row."""
    import pyarrow as pa

    columns: dict[str, Any] = {name: pa.array(np.asarray(v, dtype=np.float64)) for name, v in features.items()}
    columns[PREDICTION] = pa.array(list(predictions), pa.string())
    reference = build_reference(pa.table(columns), features=list(features), prediction=PREDICTION,
                                meta=_meta(len(predictions), meta))  # fmt: skip
    return reference.to_dict()


def _meta(rows: int, meta: dict[str, Any] | None) -> dict[str, Any]:
    return {**(meta or {}), "rows": rows, "computed_at": datetime.now(UTC).isoformat(timespec="seconds")}


def documents(reference: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The candidate's JSON artifacts: the reference at its well-known path."""
    return {ARTIFACT_PATH: reference}
