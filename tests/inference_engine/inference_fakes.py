"""Fakes at the inference engine's ports (registry, training data), plus tiny real XGBoost model files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import xgboost as xgb

from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.errors import ModelNotFound, VersionNotFound
from inference_engine.ports import ModelRegistry, TableLocation, TrainedCandidate, TrainingDataSource

TINY_FEATURES = ("a__x", "a__y", "b__z")


def constant_booster(value: float) -> xgb.Booster:
    """A real booster that predicts ~``value`` everywhere: lets a test tell versions apart by their output."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, len(TINY_FEATURES))).astype(np.float32)
    data = xgb.DMatrix(x, label=np.full(64, value), feature_names=list(TINY_FEATURES))
    return xgb.train({"tree_method": "hist", "seed": 1, "base_score": value}, data, num_boost_round=2)


def learned_booster() -> xgb.Booster:
    """A booster whose output depends on every feature and on missing values."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, len(TINY_FEATURES))).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    y = 3 * np.nan_to_num(x[:, 0], nan=5.0) - 2 * np.nan_to_num(x[:, 1]) + x[:, 2].clip(0)
    data = xgb.DMatrix(x, label=np.nan_to_num(y), feature_names=list(TINY_FEATURES), missing=np.nan)
    return xgb.train({"tree_method": "hist", "seed": 1, "max_depth": 4}, data, num_boost_round=20)


class FakeRegistry(ModelRegistry):
    """In-memory registry over model files in a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions: dict[str, dict[int, ModelVersion]] = {}
        self.aliases: dict[tuple[str, str], int] = {}
        self.published: list[TrainedCandidate] = []
        self.fetches = 0

    def add(self, name: str, booster: xgb.Booster, features: tuple[str, ...] = TINY_FEATURES) -> ModelVersion:
        number = len(self.versions.get(name, {})) + 1
        path = self.root / name / str(number) / "model.ubj"
        path.parent.mkdir(parents=True, exist_ok=True)
        booster.save_model(str(path))
        version = ModelVersion(name, number, features)
        self.versions.setdefault(name, {})[number] = version
        return version

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        self._versions_of(name)
        number = self.aliases.get((name, alias))
        if number is None:
            raise VersionNotFound(f"no version of model {name} has alias {alias}")
        return self.version(name, number)

    def version(self, name: str, version: int) -> ModelVersion:
        found = self._versions_of(name).get(version)
        if found is None:
            raise VersionNotFound(f"model {name} has no version {version}")
        return found

    def latest_version(self, name: str) -> ModelVersion:
        return self.version(name, max(self._versions_of(name)))

    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        self.fetches += 1
        source = self.root / model_version.name / str(model_version.version) / "model.ubj"
        target = into / "model.ubj"
        shutil.copy(source, target)
        return ModelArtifact(model_version, target)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.version(name, version)
        self.aliases[(name, alias)] = version

    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        self.published.append(candidate)
        return self.add(candidate.name, candidate.model, candidate.features)

    def _versions_of(self, name: str) -> dict[int, ModelVersion]:
        if name not in self.versions:
            raise ModelNotFound(f"no registered model named {name}")
        return self.versions[name]


def directory_table(table: str, location: Path, version: int = 1) -> TableLocation:
    """A directory of Parquet files a test wrote, as the catalog would list it: every file not under a ``_``
    directory (the lake's ``_staging``)."""
    files = sorted(path for path in location.rglob("*.parquet")
                   if not any(part.startswith("_") for part in path.relative_to(location).parts))  # fmt: skip
    return TableLocation(table, location, version, tuple(files))


class FakeLake(TrainingDataSource):
    def __init__(self, location: Path, version: int = 4) -> None:
        self.location = location
        self.version = version
        self.holds: list[tuple[str, int, str]] = []

    def locate(self, table: str, version: int | None = None) -> TableLocation:
        return directory_table(table, self.location, self.version)

    def hold(self, table: str, version: int, holder: str) -> None:
        self.holds.append((table, version, holder))


class RecordingRegistry(ModelRegistry):
    """The registry port keeping what was published: the model's bytes, its tags and documents."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.candidates: list[TrainedCandidate] = []

    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        number = len(self.candidates) + 1
        target = self.root / str(number)
        if candidate.framework == "xgboost":
            target.mkdir(parents=True)
            candidate.model.save_model(str(target / "model.ubj"))
        else:
            shutil.copytree(candidate.model, target)
        self.candidates.append(candidate)
        return ModelVersion(candidate.name, number, candidate.features, candidate.framework, (), candidate.tags)

    def model_path(self, number: int) -> Path:
        candidate = self.candidates[number - 1]
        return self.root / str(number) / ("model.ubj" if candidate.framework == "xgboost" else "")

    def version(self, name: str, version: int) -> ModelVersion:
        raise NotImplementedError

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        raise NotImplementedError

    def latest_version(self, name: str) -> ModelVersion:
        raise NotImplementedError

    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        raise NotImplementedError

    def set_alias(self, name: str, alias: str, version: int) -> None:
        raise NotImplementedError
