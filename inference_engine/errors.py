"""Errors of the inference engine; each knows its HTTP status (see strata_kernel.errors)."""

from __future__ import annotations

from strata_kernel.contracts.prediction import InvalidInstances
from strata_kernel.errors import BadRequest, NotFound, Unavailable

__all__ = [
    "InvalidInstances",
    "ModelNotFound",
    "ModelNotReady",
    "RegistryUnavailable",
    "TrainingDataError",
    "VersionNotFound",
]


class ModelNotFound(NotFound):
    code = "model_not_found"


class VersionNotFound(NotFound):
    code = "model_version_not_found"


class ModelNotReady(Unavailable):
    code = "model_not_ready"


class TrainingDataError(BadRequest):
    """The training set cannot train a model (missing, too small, wrong columns)."""

    code = "training_data_invalid"


class RegistryUnavailable(Unavailable):
    code = "registry_unavailable"
