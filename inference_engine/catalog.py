"""What the operators' model page shows of a model: its kind (the serving version's, else the newest's), every
registered version with its held-out metrics and MLflow run, and which one serves. Read from the registry; nothing
is loaded."""

from __future__ import annotations

from typing import Any

from inference_engine.domain.models import ModelVersion, ServedModel
from inference_engine.ports import ModelRegistry
from strata_kernel import provenance

#: version tags ``metric_<name>`` carry the held-out evaluation (training writes them next to the MLflow metrics)
METRIC_PREFIX = "metric_"


def model_versions(registry: ModelRegistry, name: str, serving: ServedModel | None) -> dict[str, Any]:
    versions = registry.list_versions(name)
    # the kind of model that answers: the serving version's (a newer version may be of another kind)
    shown = next((v for v in versions if serving is not None and v.version == serving.version), None)
    shown = shown or (versions[0] if versions else None)
    return {
        "model": name,
        "kind": shown.framework if shown is not None else None,
        "serving_version": None if serving is None else str(serving.version),
        "versions": [_version(v) for v in versions],
    }


def _version(version: ModelVersion) -> dict[str, Any]:
    metrics: dict[str, float] = {}
    for tag, value in version.tags.items():
        if tag.startswith(METRIC_PREFIX):
            try:
                metrics[tag.removeprefix(METRIC_PREFIX)] = float(value)
            except ValueError:
                continue
    return {
        "version": str(version.version),
        "framework": version.framework,
        "aliases": list(version.aliases),
        "created_at": version.created_at.isoformat(timespec="seconds") if version.created_at else None,
        "run_id": version.tags.get("run_id"),
        "experiment_id": version.experiment_id,
        "metrics": metrics,
        # what it was built from (strata_kernel.provenance): commit, dvc.lock, params, lake tables, libraries
        "provenance": provenance.read(version.tags),
    }
