"""Fixtures of partitioned-model tests: ONE SparkSession for the whole session, fakes at the ports."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from partitioned_data import ETD_FEATURES, churn_table, etd_table, write_lake_table

from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.errors import ModelNotFound, VersionNotFound
from inference_engine.partitioning.spec import PartitionSpec, parse_spec
from inference_engine.partitioning.training import PartitionedOptions
from inference_engine.ports import ModelRegistry, TableLocation, TrainedCandidate, TrainingDataSource
from inference_engine.settings import Settings
from tests.inference_engine.inference_fakes import directory_table


class FakeLake(TrainingDataSource):
    """The lake catalog port: table name -> a directory of Parquet files."""

    def __init__(self, tables: dict[str, Path]) -> None:
        self.tables = tables
        self.holds: list[tuple[str, int, str]] = []

    def locate(self, table: str, version: int | None = None) -> TableLocation:
        return directory_table(table, self.tables[table])

    def hold(self, table: str, version: int, holder: str) -> None:
        self.holds.append((table, version, holder))


class CopyingRegistry(ModelRegistry):
    """The registry port in memory: a published partitioned model is a copied directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.published: list[tuple[ModelVersion, TrainedCandidate]] = []

    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        number = len(self.published) + 1
        shutil.copytree(candidate.model, self.root / candidate.name / str(number))
        version = ModelVersion(candidate.name, number, candidate.features, candidate.framework, (), candidate.tags)
        self.published.append((version, candidate))
        return version

    def version(self, name: str, version: int) -> ModelVersion:
        for published, _ in self.published:
            if (published.name, published.version) == (name, version):
                return published
        raise VersionNotFound(f"model {name} has no version {version}")

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.latest_version(name)

    def latest_version(self, name: str) -> ModelVersion:
        versions = [v for v, _ in self.published if v.name == name]
        if not versions:
            raise ModelNotFound(f"no registered model named {name}")
        return versions[-1]

    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        target = into / "partitioned"
        shutil.copytree(self.root / model_version.name / str(model_version.version), target)
        return ModelArtifact(model_version, target)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.version(name, version)


@pytest.fixture
def registry(tmp_path: Path) -> CopyingRegistry:
    return CopyingRegistry(tmp_path / "registry")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from inference_engine.partitioning.spark import build_spark_session

    settings = Settings(var_dir=tmp_path_factory.mktemp("spark-var"), spark_master="local[2]")
    session = build_spark_session(settings, "strata-partitioned-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def etd_lake(tmp_path_factory: pytest.TempPathFactory) -> FakeLake:
    root = tmp_path_factory.mktemp("lake")
    return FakeLake(
        {
            "processed.etd_training_set": write_lake_table(root / "etd", etd_table(), "nominal_date"),
            "processed.churn": write_lake_table(root / "churn", churn_table(), "day"),
        }
    )


def etd_spec(**changes: Any) -> PartitionSpec:
    body = {
        "name": "etd",
        "table": "processed.etd_training_set",
        "partition_by": ["country_code", "city_id"],
        "min_rows": 150,
        "metric": "mae",
        "algorithm": "linear_regression",
        "id_column": "order_id",
        "baseline_by": "restaurant_id",
        "monitoring": {"slice_by": "order__hour_of_day"},
        "holdout_days": 4,
        **changes,
    }
    return parse_spec(body)


def churn_spec() -> PartitionSpec:
    return parse_spec(
        {
            "name": "churn",
            "table": "processed.churn",
            "partition_by": ["region", "store"],
            "min_rows": 100,
            "metric": "auc",
            "algorithm": "logistic_regression",
            "label": "churned",
            "time_column": "seen_at",
            "features": ["tenure_months", "monthly_spend"],
            "holdout_days": 4,
        }
    )


def options(tmp_path: Path, **changes: Any) -> PartitionedOptions:
    return PartitionedOptions(**{"runs_dir": tmp_path / "runs", **changes})


def train(spec: PartitionSpec, lake: FakeLake, registry: CopyingRegistry, spark: Any, opts: PartitionedOptions) -> Any:
    from inference_engine.partitioning.training import train_partitioned

    return train_partitioned(spec, lake, registry, lambda: spark, opts)


__all__ = ["ETD_FEATURES", "CopyingRegistry", "FakeLake", "churn_spec", "etd_spec", "options", "train"]
