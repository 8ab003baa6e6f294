"""Model runtimes by framework. Each factory imports its framework only when a model of that kind is loaded."""

from __future__ import annotations

from inference_engine.domain.models import ModelArtifact
from inference_engine.ports import ModelRuntime, RuntimeFactory
from strata_kernel.errors import ConfigurationError

__all__ = ["RUNTIMES", "RuntimeFactory", "create_runtime"]


def _xgboost(artifact: ModelArtifact) -> ModelRuntime:
    from inference_engine.runtimes.xgboost_runtime import XGBoostRuntime

    return XGBoostRuntime(artifact)


def _tensorflow(artifact: ModelArtifact) -> ModelRuntime:
    from inference_engine.runtimes.tensorflow_runtime import TensorFlowRuntime

    return TensorFlowRuntime(artifact)


RUNTIMES: dict[str, RuntimeFactory] = {"xgboost": _xgboost, "tensorflow": _tensorflow}


def create_runtime(artifact: ModelArtifact) -> ModelRuntime:
    framework = artifact.model_version.framework
    factory = RUNTIMES.get(framework)
    if factory is None:
        version = artifact.model_version
        raise ConfigurationError(
            f"{version.name} v{version.version} needs runtime {framework!r}, which is not installed"
        )
    return factory(artifact)
