"""Values exchanged with the online store and the inference engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

FeatureValue = float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class OnlineRow:
    """The newest feature row of one entity, as bulk-loaded into the online store."""

    entity_id: str
    feature_time: datetime
    values: dict[str, FeatureValue]


@dataclass(frozen=True)
class OnlineVersion:
    group: str
    version: int
    rows: int
    loaded_at: datetime
    newest_feature_time: datetime | None


@dataclass(frozen=True)
class Prediction:
    model: str
    version: str
    value: float
    node: str | None = None  # the node of a partitioned model that answered
    route: str | None = None  # "stable" | "canary" when a routing record applies


def online_record(row: OnlineRow) -> dict[str, Any]:
    """What ``OnlineStore.get`` returns: the feature values plus ``feature_time``."""
    return {**row.values, "feature_time": row.feature_time}
