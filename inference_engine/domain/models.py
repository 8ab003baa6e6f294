"""What the engine knows about a registered model version, independent of the registry that stores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from strata_kernel.contracts.prediction import ModelDescription, PredictResponse


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model (``etd`` v3), with the tags written at training time."""

    name: str
    version: int
    features: tuple[str, ...]
    framework: str = "xgboost"
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    #: when it was registered, and the MLflow experiment of its run (for a link to the run); None if unknown
    created_at: datetime | None = None
    experiment_id: str | None = None


@dataclass(frozen=True)
class ModelArtifact:
    """A version's files on local disk, ready for a runtime to load."""

    model_version: ModelVersion
    model_file: Path


@dataclass(frozen=True)
class ServedModel:
    """A description of a loaded model, as the API lists it."""

    name: str
    version: int
    alias: str | None
    features: tuple[str, ...]
    loaded_at: datetime

    def to_dict(self) -> dict[str, object]:
        return ModelDescription(self.name, self.version, self.alias, self.features, self.loaded_at).to_wire()


@dataclass(frozen=True)
class Prediction:
    model: str
    version: int
    #: a number per instance (ETD minutes), or an object per instance (the chatbot's answer: known, article_id, ...)
    predictions: Sequence[float | dict[str, Any]]
    #: partitioned models only: per instance, the node of the tree whose model answered
    nodes: list[str] | None = None

    def to_dict(self) -> dict[str, object]:
        return PredictResponse(self.model, self.version, self.predictions, self.nodes).to_wire()
