"""Errors of data_processing; each knows its HTTP status (see strata_kernel.errors)."""

from __future__ import annotations

from strata_kernel.contracts.etd import InvalidOrder
from strata_kernel.errors import BadRequest, ConfigurationError, NotFound, Unavailable

__all__ = [
    "InferenceEngineUnavailable",
    "InvalidFeatureGroup",
    "InvalidJoin",
    "InvalidOrder",
    "OnlineStoreLoadFailed",
    "UnknownFeatureGroup",
]


class InvalidFeatureGroup(ConfigurationError):
    """A feature group definition (YAML + code) that cannot work."""

    code = "invalid_feature_group"


class InvalidJoin(BadRequest):
    """A point-in-time join that cannot run as asked (a missing column, keys that cannot be packed)."""

    code = "invalid_join"


class UnknownFeatureGroup(NotFound):
    code = "unknown_feature_group"


class InferenceEngineUnavailable(Unavailable):
    """The inference engine cannot give a prediction right now (down, or no model loaded)."""

    code = "inference_engine_unavailable"


class OnlineStoreLoadFailed(Unavailable):
    """A bulk load into the online store failed; the previous version keeps serving."""

    code = "online_store_load_failed"
