"""The model registry on MLflow: tracking + registry at one URI (``sqlite:///`` embedded, ``postgresql://`` served).

MLflow is imported only when this adapter is first used. Vendor exceptions become ours in ``_translated``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.errors import ModelNotFound, RegistryUnavailable, VersionNotFound
from inference_engine.ports import ModelDocuments, ModelRegistry, TrainedCandidate

# a download's progress bar would land in a CLI's --json output and in service logs; set before mlflow is imported
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

_PUBLISH_LOCK = threading.Lock()  # mlflow's fluent API (start_run, log_model) keeps process-wide state


class MlflowRegistry(ModelRegistry, ModelDocuments):
    def __init__(self, tracking_uri: str, artifact_root: Path, experiment: str) -> None:
        self._uri = tracking_uri
        self._artifact_root = artifact_root
        self._experiment = experiment
        self._client_instance: Any = None

    @property
    def _client(self) -> Any:
        if self._client_instance is None:
            from mlflow import MlflowClient

            with _translated("connecting to the MLflow registry"):
                self._client_instance = MlflowClient(tracking_uri=self._uri, registry_uri=self._uri)
        return self._client_instance

    # --- reading -------------------------------------------------------------------------------------
    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        self._require_model(name)
        with _translated(f"{name}@{alias}", missing=VersionNotFound(f"no version of model {name} has alias {alias}")):
            return _to_domain(self._client.get_model_version_by_alias(name, alias))

    def version(self, name: str, version: int) -> ModelVersion:
        self._require_model(name)
        with _translated(f"{name} v{version}", missing=VersionNotFound(f"model {name} has no version {version}")):
            return _to_domain(self._client.get_model_version(name, str(version)))

    def latest_version(self, name: str) -> ModelVersion:
        self._require_model(name)
        with _translated(f"versions of {name}"):
            versions = self._client.search_model_versions(f"name = '{name}'")
        if not versions:
            raise VersionNotFound(f"model {name} has no versions")
        return _to_domain(max(versions, key=lambda v: int(v.version)))

    def list_versions(self, name: str) -> list[ModelVersion]:
        self._require_model(name)
        with _translated(f"versions of {name}"):
            found = sorted(self._client.search_model_versions(f"name = '{name}'"), key=lambda v: -int(v.version))
            experiments = {v.run_id: self._client.get_run(v.run_id).info.experiment_id for v in found if v.run_id}
            aliases = {int(v): a for a, v in (self._client.get_registered_model(name).aliases or {}).items()}
        return [
            replace(_to_domain(v), aliases=tuple(a for n, a in aliases.items() if n == int(v.version)) or (),
                    experiment_id=experiments.get(v.run_id)) for v in found
        ]  # fmt: skip

    def fetch(self, model_version: ModelVersion, into: Path) -> ModelArtifact:
        import mlflow.artifacts

        name, version = model_version.name, model_version.version
        with _translated(f"artifacts of {name} v{version}"):
            uri = self._client.get_model_version_download_uri(name, str(version))
            # an mlflow-artifacts:/ URI (a server serving its artifacts) resolves against the tracking URI
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(into),
                                                             tracking_uri=self._uri))  # fmt: skip
        return ModelArtifact(model_version, _model_file(local, model_version.framework))

    def document(self, model_version: ModelVersion, path: str) -> dict[str, Any]:
        run_id = model_version.tags.get("run_id")
        if not run_id:
            raise VersionNotFound(f"{model_version.name} v{model_version.version} has no run to read {path} from")
        missing = VersionNotFound(f"{model_version.name} v{model_version.version} has no {path}")
        with _translated(f"{path} of {model_version.name} v{model_version.version}", missing=missing):
            try:
                document = _load_json_artifact(f"runs:/{run_id}/{path}", self._uri)
            except OSError as exc:  # a local artifact store raises the file system's error for a missing file
                raise missing from exc
        if not isinstance(document, dict):
            raise missing
        return document

    def _require_model(self, name: str) -> None:
        with _translated(f"model {name}", missing=ModelNotFound(f"no registered model named {name}")):
            self._client.get_registered_model(name)

    # --- writing -------------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.version(name, version)  # unknown model/version -> our 404 with a clear message
        with _translated(f"alias {alias} of {name}"):
            self._client.set_registered_model_alias(name, alias, str(version))

    def publish(self, candidate: TrainedCandidate) -> ModelVersion:
        import mlflow

        with _PUBLISH_LOCK, _translated(f"publishing {candidate.name}"):
            mlflow.set_tracking_uri(self._uri)
            mlflow.set_registry_uri(self._uri)
            with mlflow.start_run(experiment_id=self._experiment_id(), run_name=f"train-{candidate.name}") as run:
                mlflow.log_params(candidate.params)
                mlflow.log_metrics(candidate.metrics)
                for path, document in candidate.documents.items():
                    mlflow.log_dict(document, path)  # plain JSON: mlflow.artifacts.load_dict reads it back
                model_uri = _log_model(candidate)
            registered = mlflow.register_model(model_uri, candidate.name, tags=candidate.tags)
            self._client.set_model_version_tag(candidate.name, registered.version, "run_id", run.info.run_id)
            return _to_domain(self._client.get_model_version(candidate.name, registered.version))

    def _experiment_id(self) -> str:
        existing = self._client.get_experiment_by_name(self._experiment)
        if existing is not None:
            return str(existing.experiment_id)
        # a tracking server keeps the artifacts it serves (mlflow server --serve-artifacts): its default location
        served = self._uri.startswith(("http://", "https://"))
        location = None if served else self._artifact_root.as_uri()
        return str(self._client.create_experiment(self._experiment, artifact_location=location))


def _log_model(candidate: TrainedCandidate) -> str:
    if candidate.framework == "partitioned":
        return _log_partitioned(candidate)
    if candidate.framework == "tensorflow":
        return _log_tensorflow(candidate)
    if candidate.framework != "xgboost":
        raise ValueError(f"cannot log a {candidate.framework} model yet")
    import mlflow.xgboost
    import pandas as pd
    import xgboost

    signature = _signature(candidate)
    categorical = "categories" in candidate.tags  # text features: an example of codes would contradict the schema
    example = pd.DataFrame([] if categorical else candidate.input_example, columns=list(candidate.features),
                           dtype="float64")  # fmt: skip
    info = mlflow.xgboost.log_model(
        candidate.model,
        name="model",
        signature=signature,
        input_example=example if len(example) else None,
        model_format="ubj",
        # explicit requirements: inferring them spawns a subprocess that re-imports the model
        pip_requirements=[f"xgboost=={xgboost.__version__}", f"mlflow=={mlflow.__version__}"],
    )
    return str(info.model_uri)


def _signature(candidate: TrainedCandidate) -> Any:
    """Inputs: every feature (text ones are categorical strings), then the partition keys; output: one number."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    categorical = set(json.loads(candidate.tags.get("categories") or "{}"))
    keys = json.loads(candidate.tags.get("partition_by") or "[]")
    inputs: list[ColSpec | TensorSpec] = [
        ColSpec("string" if f in categorical else "double", f) for f in candidate.features
    ]
    inputs += [ColSpec("string", key, required=False) for key in keys if key not in candidate.features]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("double")]))


def _log_partitioned(candidate: TrainedCandidate) -> str:
    """A partitioned model is one directory (routing.json, report.json, models/): logged as the version's files,
    with an MLmodel file whose ``partitioned`` flavor names that directory (read back by ``_model_file``)."""
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        mlmodel = {"flavors": {"partitioned": {"data": "partitioned"}}, "signature": _signature(candidate).to_dict()}
        (Path(tmp) / "MLmodel").write_text(yaml.safe_dump(mlmodel))
        mlflow.log_artifact(str(Path(tmp) / "MLmodel"), artifact_path="model")
    mlflow.log_artifacts(str(candidate.model), artifact_path="model/partitioned")
    run = mlflow.active_run()
    if run is None:
        raise ValueError("logging a partitioned model needs an active run")
    return f"runs:/{run.info.run_id}/model"


def _log_tensorflow(candidate: TrainedCandidate) -> str:
    """A TensorFlow model is a directory (model.keras, labels.json, vocabulary.json) logged as the version's files,
    with an MLmodel file whose ``tensorflow`` flavor names it and whose signature describes the Keras model:
    ``token_ids`` int32 (-1, max_length) in, ``probabilities`` float32 (-1, classes) out (``candidate.params``)."""
    import tempfile

    import mlflow
    import numpy as np
    from mlflow.models import Model, ModelSignature
    from mlflow.types import Schema, TensorSpec

    max_length, classes = int(candidate.params["max_length"]), int(candidate.params["classes"])
    model = Model()
    model.add_flavor("tensorflow", data="tensorflow")
    model.signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype("int32"), (-1, max_length), feature) for feature in candidate.features]),
        outputs=Schema([TensorSpec(np.dtype("float32"), (-1, classes), "probabilities")]),
    )
    with tempfile.TemporaryDirectory() as tmp:
        model.save(str(Path(tmp) / "MLmodel"))
        mlflow.log_artifact(str(Path(tmp) / "MLmodel"), artifact_path="model")
    mlflow.log_artifacts(str(candidate.model), artifact_path="model/tensorflow")
    run = mlflow.active_run()
    if run is None:
        raise ValueError("logging a tensorflow model needs an active run")
    return f"runs:/{run.info.run_id}/model"


def _to_domain(version: Any) -> ModelVersion:
    tags: dict[str, str] = dict(version.tags or {})
    return ModelVersion(
        name=version.name,
        version=int(version.version),
        features=tuple(json.loads(tags.get("features", "[]"))),
        framework=tags.get("framework", "xgboost"),
        aliases=tuple(getattr(version, "aliases", ()) or ()),
        tags=tags,
        created_at=_from_millis(getattr(version, "creation_timestamp", None)),
    )


def _from_millis(value: object) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) else None


def _model_file(local: Path, framework: str) -> Path:
    """The MLmodel file names the flavor's data file (``model.ubj`` for xgboost) or directory (partitioned,
    tensorflow)."""
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    flavor = mlmodel.get("flavors", {}).get(framework)
    if not flavor or "data" not in flavor:
        raise VersionNotFound(f"the artifact at {local} has no {framework} flavor")
    return local / flavor["data"]


@contextmanager
def _translated(what: str, *, missing: Exception | None = None) -> Iterator[None]:
    """MLflow and database errors -> ours; 'does not exist' -> ``missing`` (a 404) when given."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except MlflowException as exc:
        if missing is not None and exc.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            raise missing from exc
        raise RegistryUnavailable(f"MLflow registry failed on {what}: {_first_line(exc)}") from exc
    except SQLAlchemyError as exc:
        raise RegistryUnavailable(f"MLflow registry database unreachable ({what}): {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _load_json_artifact(uri: str, tracking_uri: str) -> Any:
    """A JSON artifact, resolved against *this* registry (``mlflow.artifacts.load_dict`` resolves ``runs:/`` with
    the process's default tracking URI: a ``mlflow.db`` in the working directory, created and migrated there)."""
    import tempfile

    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="strata-artifact-") as folder:
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=tracking_uri, dst_path=folder)
        with open(local, encoding="utf-8") as file:
            return json.load(file)
