"""The model runtime interface (after MLServer's ``MLModel``): load once, predict many, describe itself.

One module per framework implements it and imports its framework inside that module only, so the
engine can serve an XGBoost ETD model next to, say, a TensorFlow model without importing both everywhere.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.domain.signature import InputSignature, Instance
from inference_engine.errors import ModelNotFound


class ModelRuntime(abc.ABC):
    def __init__(self, artifact: ModelArtifact) -> None:
        self.artifact = artifact
        version = artifact.model_version
        self.signature = InputSignature.of(version.features, version.tags)

    @abc.abstractmethod
    def load(self) -> None:
        """Read the model into memory; called once before any prediction."""

    @abc.abstractmethod
    def predict(self, instances: Sequence[Instance]) -> list[float]:
        """Check ``instances`` against the signature (InvalidInstances -> 400) and score them."""

    def predict_routed(self, instances: Sequence[Instance]) -> tuple[list[Any], list[str] | None]:
        """Scores plus, per instance, the node of a partitioned model that answered (None: not partitioned)."""
        return list(self.predict(instances)), None

    def tree(self) -> dict[str, Any]:
        """The node tree of a partitioned model; other models have none (404)."""
        version = self.artifact.model_version
        raise ModelNotFound(f"model {version.name} v{version.version} is not a partitioned model (it has no tree)")

    def unload(self) -> None:
        """Release resources once no request uses this runtime any more (most runtimes hold only memory)."""

    def metadata(self) -> ModelVersion:
        return self.artifact.model_version

    def warm_up(self, predictions: int) -> None:
        """Run a few predictions so the first real request pays no lazy initialisation."""
        all_missing = {feature: None for feature in self.signature.features}
        for _ in range(predictions):
            self.predict([all_missing])
