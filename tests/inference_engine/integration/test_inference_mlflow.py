"""Train into a real (SQLite) MLflow registry, deploy, serve: the app predicts what the trained booster predicts.

One training run is shared by the module: MLflow is slow to import and to create its database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from inference_fakes import FakeLake
from inference_synthetic import make_training_set, write_training_set
from typer.testing import CliRunner

from inference_engine.bootstrap import bootstrap
from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.entrypoints.app import create_app
from inference_engine.entrypoints.cli import app as cli
from inference_engine.partitioning.dataset import read_source
from inference_engine.partitioning.spec import load_spec
from inference_engine.partitioning.training import PartitionedOptions
from inference_engine.ports import ModelRegistry, TrainedCandidate
from inference_engine.settings import Settings
from inference_engine.training import train_declared
from strata_kernel import background
from strata_kernel.model_specs import default_specs_dir
from tests.support import as_caller, json_of


class RecordingRegistry(ModelRegistry):
    """The real registry, remembering what was published (to compare the served model with the trained one)."""

    def __init__(self, inner: ModelRegistry) -> None:
        self.inner = inner
        self.published: list[TrainedCandidate] = []

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.inner.version_by_alias(name, alias)

    def version(self, name: str, version: int) -> ModelVersion:
        return self.inner.version(name, version)

    def latest_version(self, name: str) -> ModelVersion:
        return self.inner.latest_version(name)

    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        return self.inner.fetch(model_version, into)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.inner.set_alias(name, alias, version)

    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        self.published.append(candidate)
        return self.inner.publish(candidate)


@dataclass(frozen=True)
class Trained:
    settings: Settings
    summary: dict[str, Any]
    booster: Any
    lake: FakeLake
    features: tuple[str, ...]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("mlflow")
    lake = FakeLake(write_training_set(root / "lake" / "etd_training_set", make_training_set(900, days=12)), version=2)
    settings = Settings(var_dir=root / "var", warmup_predictions=2)
    registry = RecordingRegistry(bootstrap(settings).registry)
    options = PartitionedOptions(runs_dir=root / "runs")
    result = train_declared("etd", default_specs_dir(), lake, registry, lambda: None, options, global_only=True)  # type: ignore[arg-type, return-value]
    published = registry.published[0]
    return Trained(settings, result["summary"], published.model, lake, published.features)


def run_cli(settings: Settings, *args: str) -> Any:
    env = {"STRATA_VAR_DIR": str(settings.var_dir), "STRATA_LOG_LEVEL": "WARNING"}
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_registered_version_carries_the_contract_tags(trained: Trained) -> None:
    version = bootstrap(trained.settings).registry.version("etd", trained.summary["version"])

    assert version.features == tuple(json.loads(version.tags["features"]))
    assert version.tags["data_version"] == "processed.etd_training_set@v2"
    # the training run held the version it read, so the lake keeps its files for a rebuild
    [(table, held, holder)] = trained.lake.holds
    assert (table, held) == ("processed.etd_training_set", 2) and holder.startswith("etd training run ")
    assert float(version.tags["metric_mae"]) == pytest.approx(trained.summary["mae"], abs=1e-3)
    assert json.loads(version.tags["canonical_features"])[0].startswith("@order:")


def test_deploy_refuses_an_unknown_version_with_one_line(trained: Trained) -> None:
    result = run_cli(trained.settings, "deploy", "etd", "--version", "99")

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["error: model etd has no version 99"]


def test_deployed_model_is_served_with_the_trained_boosters_predictions(trained: Trained) -> None:
    deployed = run_cli(trained.settings, "deploy", "etd", "--latest")
    assert deployed.exit_code == 0, deployed.output
    assert json.loads(deployed.stdout) == {"model": "etd", "version": 1, "alias": "production"}
    app = create_app(trained.settings)
    background.start(app)  # what the server does in each worker after the fork
    client = as_caller(app.test_client(), trained.settings, "data_processing")
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)

    source = read_source(trained.lake.locate("etd"), load_spec("etd", global_only=True)).slice(0, 50)
    features = list(trained.features)
    x = np.column_stack([source.column(f).to_numpy(zero_copy_only=False) for f in features]).astype(np.float32)
    instances = [{f: (None if np.isnan(v) else float(v)) for f, v in zip(features, row, strict=True)} for row in x]
    response = client.post("/v1/models/etd/predict", json={"instances": instances})

    assert response.status_code == 200, response.json
    assert json_of(response)["version"] == "1"
    assert json_of(response)["predictions"] == trained.booster.inplace_predict(x, missing=np.nan).tolist()


@dataclass(frozen=True)
class Matrix:
    features: list[str]
    x: np.ndarray
    y: np.ndarray


def _training_matrix(trained: Trained) -> Matrix:
    """Every labelled row of the training set as the model saw it (features in its order, label)."""
    source = read_source(trained.lake.locate("etd"), load_spec("etd", global_only=True))
    features = list(trained.features)
    x = np.column_stack([source.column(f).to_numpy(zero_copy_only=False) for f in features]).astype(np.float32)
    return Matrix(features, x, source.column("label").to_numpy(zero_copy_only=False).astype(np.float64))


def test_the_reference_profile_is_stored_with_the_version_and_read_back_with_plain_mlflow(trained: Trained) -> None:
    import mlflow
    from mlflow import MlflowClient

    uri = trained.settings.tracking_uri()
    version = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version("etd", str(trained.summary["version"]))
    mlflow.set_tracking_uri(uri)
    document = mlflow.artifacts.load_dict(f"runs:/{version.tags['run_id']}/profile/reference.json")

    # readable with json alone: what the training set and this version's predictions looked like
    assert document["format"] == "strata.reference" and document["prediction"] == "prediction"
    columns = {column["name"]: column for column in document["overall"]["columns"]}
    data = _training_matrix(trained)
    assert document["overall"]["rows"] == len(data.y)
    assert set(columns) == {*data.features, "prediction", "label"}
    label = columns["label"]["summary"]
    assert label["min"] == pytest.approx(data.y.min()) and label["max"] == pytest.approx(data.y.max())
    assert columns["prediction"]["summary"]["mean"] == pytest.approx(
        float(trained.booster.inplace_predict(data.x).mean()), rel=1e-4
    )
    assert {column["name"]: column["summary"]["missing_rate"] for column in columns.values()} == pytest.approx(
        {f: float(np.isnan(data.x[:, i]).mean()) for i, f in enumerate(data.features)} | {"prediction": 0, "label": 0}
    )
    # cut by hour of day as the model spec's monitoring block says; the day of week is a calendar feature
    assert document["slice_by"] == "order__hour_of_day"
    assert document["calendar_features"] == ["order__day_of_week"]
    hours = data.x[:, data.features.index("order__hour_of_day")].astype(int)
    assert {int(piece["key"]["hour"]) for piece in document["slices"] if "hour" in piece["key"]} == set(hours.tolist())


def test_the_engine_hands_the_reference_to_its_monitor_and_404s_for_an_unknown_version(trained: Trained) -> None:
    client = create_app(trained.settings).test_client()

    found = client.get(f"/v1/models/etd/versions/{trained.summary['version']}/reference")
    assert found.status_code == 200 and json_of(found)["overall"]["rows"] > 0
    missing = client.get("/v1/models/etd/versions/99/reference")
    assert missing.status_code == 404 and "no version 99" in json_of(missing)["error"]["message"]
