"""Read the node tree (training report) of a registered partitioned version, without loading its models."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from inference_engine.errors import ModelNotFound
from inference_engine.partitioning.predictor import read_report
from inference_engine.ports import ModelRegistry


def registered_tree(
    registry: ModelRegistry, name: str, version: int | None, alias: str, work_dir: Path
) -> dict[str, Any]:
    """The given version, else the one carrying ``alias``, else the newest."""
    from inference_engine.errors import VersionNotFound

    if version is not None:
        model_version = registry.version(name, version)
    else:
        try:
            model_version = registry.version_by_alias(name, alias)
        except VersionNotFound:
            model_version = registry.latest_version(name)
    if model_version.framework != "partitioned":
        raise ModelNotFound(f"model {name} v{model_version.version} is not a partitioned model (it has no tree)")
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        artifact = registry.fetch(model_version, Path(tmp))
        report = read_report(artifact.model_file)
    return {**report, "model": name, "version": model_version.version}
