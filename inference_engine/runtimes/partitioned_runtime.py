"""Runtime of a partitioned model: the routing table plus the runtime (fitted model) of every serving node.

A request's instances carry the partition keys (``country_code``, ``city_id``) next to the features; each
instance goes to the deepest known node with a model — an unknown city to its country, an unknown country
to global — and the answer says which node scored it. No pandas on this path: dict lookups and numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from inference_engine.domain.models import ModelArtifact
from inference_engine.domain.signature import Instance
from inference_engine.errors import InvalidInstances
from inference_engine.partitioning.predictor import PartitionedPredictor, load_predictor, read_report
from inference_engine.ports import ModelRuntime
from inference_engine.runtimes import create_runtime

FRAMEWORK = "partitioned"


class PartitionedRuntime(ModelRuntime):
    _predictor: PartitionedPredictor | None = None
    _report: dict[str, Any] | None = None

    def load(self) -> None:
        directory = self.artifact.model_file
        self._predictor = load_predictor(directory)
        self._report = read_report(directory)

    def predict(self, instances: Sequence[Instance]) -> list[float]:
        return self.predict_routed(instances)[0]

    def predict_routed(self, instances: Sequence[Instance]) -> tuple[list[Any], list[str] | None]:
        """Scores plus, per instance, the id of the node whose model answered."""
        predictor = self._loaded()
        rows = np.array(list(self.signature.rows(instances)), dtype=np.float32)
        rows = rows.reshape(len(instances), len(self.signature.features))
        keys = [predictor.routing.keys_of(_checked(instance, index)) for index, instance in enumerate(instances)]
        scores, nodes = predictor.predict(keys, rows)
        return [float(score) for score in scores], nodes

    def tree(self) -> dict[str, Any]:
        """The training report stored with the version: every node, status, rows, metric, who serves it."""
        self._loaded()
        version = self.artifact.model_version
        return {**(self._report or {}), "model": version.name, "version": version.version}

    def _loaded(self) -> PartitionedPredictor:
        if self._predictor is None:
            raise RuntimeError("PartitionedRuntime used before load()")
        return self._predictor


def _checked(instance: Instance, index: int) -> Instance:
    if not isinstance(instance, dict):  # signature.rows already said so; kept for a direct caller
        raise InvalidInstances(f"instances.{index} must be an object", field=f"instances.{index}")
    return instance


def create_runtime_with_partitions(artifact: ModelArtifact) -> ModelRuntime:
    """The engine's runtime factory: partitioned versions here, every other framework as before."""
    if artifact.model_version.framework == FRAMEWORK:
        return PartitionedRuntime(artifact)
    return create_runtime(artifact)
