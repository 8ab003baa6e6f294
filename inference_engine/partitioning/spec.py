"""The training spec of a model run: hierarchy, thresholds, metric, algorithm, hold-out, naive baseline.

Built from a model's declaration (``model_specs/<name>.yaml``, ``strata_kernel.contracts.model_spec``) by
:func:`from_declaration`: a model without ``partitioning`` is a tree of one node (global). ``parse_spec`` reads the
same fields from a plain mapping (tests and tools).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inference_engine.errors import TrainingDataError
from strata_kernel.contracts.model_spec import LABEL_COLUMN, ModelSpec, task_of
from strata_kernel.model_specs import default_specs_dir, load_model_spec


@dataclass(frozen=True)
class PartitionSpec:
    name: str
    table: str
    partition_by: tuple[str, ...]
    min_rows: int
    metric: str
    algorithm: str
    label: str = "label"
    time_column: str = "placed_at"
    id_column: str | None = None
    #: None = every column whose name contains ``__`` (the lake's feature naming rule)
    features: tuple[str, ...] | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    #: a child keeps its own model only when it beats its parent by this relative margin (0.02 = 2%) on its
    #: validation rows; 0 = any strict improvement. A margin filters edges won by noise on small slices.
    min_improvement: float = 0.0
    #: a child with fewer validation rows is not judged at all (served by its parent); 0 = no such floor
    min_validation_rows: int = 0
    #: the naive baseline reported beside the model = the label's mean per value of this column over the training
    #: window (e.g. the restaurant's mean delivery time); None = the mean of the tree node that answers each row
    baseline_by: str | None = None
    #: how the monitors compare live traffic with this model's reference profile (see MonitoringSpec)
    monitoring: dict[str, Any] = field(default_factory=dict)
    #: the last N days (of local dates) are held out: never trained on, the evaluation of every version
    holdout_days: int = 7
    #: the zone whose wall clock dates the hold-out (the training set stores instants); None = UTC
    time_zone: str | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_declaration(model: ModelSpec, *, global_only: bool = False,
                     overrides: dict[str, Any] | None = None) -> PartitionSpec:  # fmt: skip
    """The run spec of a declared model; ``global_only`` trains the root alone, ``overrides`` replace
    hyperparameters (drills)."""
    partitioning = None if global_only else model.partitioning
    spec = PartitionSpec(
        name=model.name,
        table=model.training_table,
        partition_by=partitioning.by if partitioning is not None else (),
        min_rows=partitioning.min_rows if partitioning is not None else 2,
        metric=model.metric,
        algorithm=model.algorithm,
        label=LABEL_COLUMN,
        time_column=model.spine.time,
        id_column=model.spine.id,
        hyperparameters={**model.hyperparameters, **(overrides or {})},
        min_improvement=partitioning.min_improvement if partitioning is not None else 0.0,
        min_validation_rows=partitioning.min_validation_rows if partitioning is not None else 0,
        baseline_by=model.baseline_mean_by,
        holdout_days=model.holdout_days,
        time_zone=model.spine.time_zone,
        monitoring=dict(model.monitoring),
    )
    parse_monitoring(spec.monitoring, f"{model.name}.yaml")
    _check_algorithm(spec)
    return spec


def load_spec(name: str, specs_dir: Path | None = None, *, global_only: bool = False) -> PartitionSpec:
    """The run spec of the declared model ``name`` (``specs_dir``: default the repository's model_specs/)."""
    return from_declaration(load_model_spec(name, specs_dir or default_specs_dir()), global_only=global_only)


def parse_spec(body: dict[str, Any], source: str = "spec") -> PartitionSpec:
    """Validate a spec mapping; a bad field is a one-line error naming it."""
    for required in ("name", "table", "partition_by", "min_rows", "metric", "algorithm"):
        if required not in body:
            raise TrainingDataError(f"{source}: '{required}' is required", field=required)
    partition_by = body["partition_by"]
    if not isinstance(partition_by, list) or not all(isinstance(c, str) for c in partition_by):
        raise TrainingDataError(f"{source}: 'partition_by' must be a non-empty list of columns", field="partition_by")
    if not isinstance(body["min_rows"], int) or body["min_rows"] < 2:
        raise TrainingDataError(f"{source}: 'min_rows' must be an integer >= 2", field="min_rows")
    _check_margins(body, source)
    features = body.get("features")
    known = set(PartitionSpec.__dataclass_fields__)
    unknown = sorted(set(body) - known)
    if unknown:
        raise TrainingDataError(f"{source}: unknown field(s) {', '.join(unknown)}", field=unknown[0])
    parse_monitoring(body.get("monitoring"), source)
    spec = PartitionSpec(
        **{**body, "partition_by": tuple(partition_by), "features": tuple(features) if features else None,
           "hyperparameters": dict(body.get("hyperparameters") or {}),
           "monitoring": dict(body.get("monitoring") or {})}
    )  # fmt: skip
    _check_algorithm(spec)
    return spec


@dataclass(frozen=True)
class MonitoringSpec:
    """The ``monitoring:`` block of a model spec: how its reference profile is cut (see
    ``strata_kernel.profiles.reference``). ``slice_by``: a feature holding the local hour of day (0..23), so a
    window of live traffic is compared with training rows of the same hours; ``calendar_features``: features that
    follow the calendar (e.g. the day of week) and are never judged in windows shorter than their cycle."""

    slice_by: str | None = None
    calendar_features: tuple[str, ...] = ()


def parse_monitoring(body: Any, source: str = "spec") -> MonitoringSpec:
    if body is None:
        return MonitoringSpec()
    if not isinstance(body, dict) or set(body) - {"slice_by", "calendar_features"}:
        raise TrainingDataError(f"{source}: 'monitoring' takes only slice_by and calendar_features", field="monitoring")
    slice_by, calendar = body.get("slice_by"), body.get("calendar_features") or []
    if slice_by is not None and not isinstance(slice_by, str):
        raise TrainingDataError(f"{source}: 'monitoring.slice_by' must be a column name", field="monitoring")
    if not isinstance(calendar, list) or not all(isinstance(c, str) for c in calendar):
        message = f"{source}: 'monitoring.calendar_features' must be a list of columns"
        raise TrainingDataError(message, field="monitoring")
    return MonitoringSpec(slice_by, tuple(calendar))


def _check_margins(body: dict[str, Any], source: str) -> None:
    improvement = body.get("min_improvement", 0.0)
    if isinstance(improvement, bool) or not isinstance(improvement, int | float) or not 0 <= improvement < 1:
        raise TrainingDataError(f"{source}: 'min_improvement' must be a number in [0, 1)", field="min_improvement")
    valid_rows = body.get("min_validation_rows", 0)
    if isinstance(valid_rows, bool) or not isinstance(valid_rows, int) or valid_rows < 0:
        raise TrainingDataError(f"{source}: 'min_validation_rows' must be an integer >= 0", field="min_validation_rows")


def _check_algorithm(spec: PartitionSpec) -> None:
    from inference_engine.algorithms import ALGORITHMS
    from inference_engine.algorithms.metrics import check_metric

    if spec.algorithm not in ALGORITHMS:
        raise TrainingDataError(
            f"unknown algorithm {spec.algorithm!r}; known: {', '.join(sorted(ALGORITHMS))}", field="algorithm"
        )
    check_metric(task_of(spec.algorithm), spec.metric)


__all__ = ["PartitionSpec", "from_declaration", "load_spec", "parse_spec", "task_of"]
