"""Interfaces the use cases need, in domain terms. Adapters implement them; tests substitute fakes.

The model runtime interface (after MLServer's ``MLModel``) is one of them: load once, predict many, describe
itself. One module per framework (inference_engine.runtimes) implements it and imports its framework inside that
module only, so the engine serves an XGBoost ETD model next to a TensorFlow one without importing both everywhere.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.domain.signature import InputSignature, Instance
from inference_engine.errors import ModelNotFound
from strata_kernel.errors import NotFound


@dataclass(frozen=True)
class TrainedCandidate:
    """A freshly trained model and everything the registry records about it."""

    name: str
    framework: str
    model: Any  # the framework's model object (an xgboost.Booster for "xgboost")
    features: tuple[str, ...]
    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, str]
    input_example: list[dict[str, float]] = field(default_factory=list)
    #: JSON documents stored with the version's run, by artifact path (e.g. the reference profile)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TableLocation:
    name: str
    location: Path
    version: int
    #: the Parquet files of ``version`` as the catalog lists them (absolute): what a reader reads, never a glob of
    #: ``location`` (a commit in progress leaves the old and the new files side by side there)
    files: tuple[Path, ...]


class ModelRegistry(abc.ABC):
    """Where trained versions are recorded, tagged, aliased and fetched from."""

    @abc.abstractmethod
    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version carrying ``alias``; ModelNotFound / VersionNotFound when there is none."""

    @abc.abstractmethod
    def version(self, name: str, version: int) -> ModelVersion:
        """One version by number; ModelNotFound / VersionNotFound when unknown."""

    @abc.abstractmethod
    def latest_version(self, name: str) -> ModelVersion:
        """The highest version number of ``name``; ModelNotFound when it has none."""

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every registered version of ``name``, newest first (ModelNotFound if it has none). This default asks
        for each number in turn; an adapter with a search (MLflow) answers in one query."""
        newest = self.latest_version(name).version
        found = []
        for number in range(newest, 0, -1):
            try:
                found.append(self.version(name, number))
            except NotFound:
                continue  # a deleted version
        return found

    @abc.abstractmethod
    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        """Copy the version's files under ``into`` and say which file holds the model."""

    @abc.abstractmethod
    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` (deploy, rollback)."""

    @abc.abstractmethod
    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        """Record the run (params, metrics), store the model and register it as a new version."""


class ModelDocuments(abc.ABC):
    """The JSON documents stored with a version (``TrainedCandidate.documents``), e.g. its reference profile."""

    @abc.abstractmethod
    def document(self, model_version: ModelVersion, path: str) -> dict[str, Any]:
        """The document at ``path`` of the version's run; VersionNotFound when the version has none."""


class TrainingDataSource(abc.ABC):
    """Where training sets live (the data lake catalog)."""

    @abc.abstractmethod
    def locate(self, table: str, version: int | None = None) -> TableLocation:
        """The directory of the table's committed Parquet files and its current version (or ``version``'s files:
        a rebuild reads what the version it reproduces read)."""

    @abc.abstractmethod
    def hold(self, table: str, version: int, holder: str) -> None:
        """Keep the table version's files for as long as a model trained on it may be rebuilt (the lake's
        retention would delete them once later versions replace them)."""


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


#: builds the runtime of a version's files (inference_engine.runtimes picks one by framework)
RuntimeFactory = Callable[[ModelArtifact], ModelRuntime]
