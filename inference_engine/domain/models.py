"""What the engine knows about a registered model version, independent of the registry that stores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model (``etd`` v3), with the tags written at training time."""

    name: str
    version: int
    features: tuple[str, ...]
    framework: str = "xgboost"
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


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
        return {
            "name": self.name,
            "version": str(self.version),
            "alias": self.alias,
            "features": list(self.features),
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class Prediction:
    model: str
    version: int
    #: a number per instance (ETD minutes), or an object per instance (the chatbot's answer: known, article_id, ...)
    predictions: Sequence[float | dict[str, Any]]
    #: partitioned models only: per instance, the node of the tree whose model answered
    nodes: list[str] | None = None

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "model": self.model,
            "version": str(self.version),
            "predictions": list(self.predictions),
        }
        if self.nodes is not None:
            body["nodes"] = self.nodes
            # one instance (the ETD estimate) or one node for all: a single "node" is what a caller reads
            body["node"] = self.nodes[0] if len(set(self.nodes)) == 1 else None
        return body
