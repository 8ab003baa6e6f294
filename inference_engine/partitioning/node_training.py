"""Training of one node, run inside a Spark Python worker (``applyInPandas``) or directly.

The worker writes the node's model and its outcome (JSON) into the run directory the moment the node is
done, so an interrupted run keeps every finished node. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from inference_engine.partitioning.dataset import FIT, VALID, node_arrays
from inference_engine.partitioning.tree import (
    FAILED,
    NOT_BETTER_BY_MARGIN,
    SKIPPED_MIN_ROWS,
    SKIPPED_MIN_VALIDATION_ROWS,
    SKIPPED_NO_VALIDATION,
    SKIPPED_ONE_CLASS,
    TRAINED,
    WORSE_THAN_PARENT,
    NodeKey,
    NodeOutcome,
    file_stem,
    node_id,
    relative_improvement,
)


class InjectedFailure(RuntimeError):
    """A transient failure injected by the ``partition_inject_failures`` setting (fault-injection hook)."""


@dataclass(frozen=True)
class NodeContext:
    """Everything a worker needs; small and picklable (sent to Spark workers with the function)."""

    run_dir: str
    partition_by: tuple[str, ...]
    features: tuple[str, ...]
    label: str
    algorithm: str
    metric: str
    min_rows: int
    hyperparameters: dict[str, Any]
    seed: int
    threads: int
    attempt: int = 0
    min_improvement: float = 0.0
    min_validation_rows: int = 0
    #: node key -> (node id, model file) of the nearest ancestor with a model
    incumbents: dict[NodeKey, tuple[str, str]] = field(default_factory=dict)
    #: node ids that fail on attempts below the given number (fault injection for tests and drills)
    inject_failures: dict[str, int] = field(default_factory=dict)
    #: feature column index -> number of categories (text features, encoded as category indexes)
    categorical: dict[int, int] = field(default_factory=dict)


def outcome_path(run_dir: Path, node: str) -> Path:
    return run_dir / "outcomes" / f"{file_stem(node)}.json"


def read_outcome(run_dir: Path, node: str) -> NodeOutcome | None:
    path = outcome_path(run_dir, node)
    return NodeOutcome.from_dict(json.loads(path.read_text())) if path.is_file() else None


def train_node(context: NodeContext, key: NodeKey, frame: Any) -> NodeOutcome:
    """Train, judge against the incumbent, persist; never raises (a failure is an outcome to retry)."""
    node = node_id(context.partition_by, key)
    started = time.perf_counter()
    arrays = node_arrays(frame, list(context.features), context.label)
    rows_valid = len(arrays[VALID][1])
    rows = len(arrays[FIT][1]) + rows_valid
    base: dict[str, Any] = {
        "node": node,
        "key": key,
        "rows": rows,
        "rows_valid": rows_valid,
        "attempt": context.attempt,
    }
    try:
        if context.inject_failures.get(node, 0) > context.attempt:
            raise InjectedFailure(f"injected transient failure on attempt {context.attempt}")
        outcome = _judge(context, key, arrays, base)
    except Exception as exc:  # any failure of one node must not take the level down: it is retried
        outcome = NodeOutcome(**base, status=FAILED, reason=f"{type(exc).__name__}: {exc}"[:300])
    outcome = replace(outcome, seconds=round(time.perf_counter() - started, 3))
    _write_json(outcome_path(Path(context.run_dir), node), outcome.to_dict())
    return outcome


def _judge(context: NodeContext, key: NodeKey, arrays: dict[str, Any], base: dict[str, Any]) -> NodeOutcome:
    from inference_engine.algorithms import get_algorithm, load_fitted
    from inference_engine.algorithms.metrics import LOWER_IS_BETTER, compute_metrics, is_better

    fit, valid = arrays[FIT], arrays[VALID]
    if key and base["rows"] < context.min_rows:
        return NodeOutcome(**base, status=SKIPPED_MIN_ROWS, reason=f"{base['rows']} rows < min_rows {context.min_rows}")
    if len(valid[1]) == 0 or len(fit[1]) == 0:
        return NodeOutcome(**base, status=SKIPPED_NO_VALIDATION, reason="no rows in the fit or validation window")
    if key and len(valid[1]) < context.min_validation_rows:
        reason = f"{len(valid[1])} validation rows < min_validation_rows {context.min_validation_rows}"
        return NodeOutcome(**base, status=SKIPPED_MIN_VALIDATION_ROWS, reason=reason)
    algorithm = get_algorithm(context.algorithm)
    if algorithm.task == "classification" and len(np.unique(fit[1] > 0.5)) < 2:
        return NodeOutcome(**base, status=SKIPPED_ONE_CLASS, reason="the fit rows hold a single class")
    model = algorithm.fit(fit, valid, dict(context.hyperparameters), seed=context.seed, threads=context.threads,
                          categorical=context.categorical)  # fmt: skip
    metrics = compute_metrics(algorithm.task, valid[1], model.predict(valid[0]))
    own = metrics[context.metric]
    incumbent = context.incumbents.get(key)
    parent_metric = None
    if incumbent is not None:
        parent_model = load_fitted(context.algorithm, str(Path(context.run_dir) / incumbent[1]))
        parent_metric = compute_metrics(algorithm.task, valid[1], parent_model.predict(valid[0]))[context.metric]
    improvement = None
    if parent_metric is not None:
        improvement = relative_improvement(own, parent_metric, lower_is_better=context.metric in LOWER_IS_BETTER)
    judged = {**base, "metric": own, "parent_metric": parent_metric, "metrics": metrics, "improvement": improvement,
              "compared_with": incumbent[0] if incumbent else None, "fitted_params": model.fitted_params()}  # fmt: skip
    if parent_metric is not None and not is_better(context.metric, own, parent_metric):
        return NodeOutcome(**judged, status=WORSE_THAN_PARENT,
                           reason=f"{context.metric} {own:.4f} does not beat {incumbent[0]}'s {parent_metric:.4f}")  # type: ignore[index]  # fmt: skip
    if improvement is not None and not improvement >= context.min_improvement:
        return NodeOutcome(**judged, status=NOT_BETTER_BY_MARGIN,
                           reason=f"{context.metric} {own:.4f} beats {incumbent[0]}'s {parent_metric:.4f} by "  # type: ignore[index]
                           f"{improvement:.2%} < min_improvement {context.min_improvement:.2%}")  # fmt: skip
    model_file = f"models/{file_stem(base['node'])}{model.suffix}"
    target = Path(context.run_dir) / model_file
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"tmp-{target.name}")
    model.save(str(staging))
    staging.replace(target)
    reason = "no ancestor to compare with" if incumbent is None else f"beats {incumbent[0]} by {improvement:.2%}"
    return NodeOutcome(**judged, status=TRAINED, reason=reason, model_file=model_file)


def _write_json(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"tmp-{path.name}")
    staging.write_text(json.dumps(body, default=_json_default))
    staging.replace(path)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
