"""A streaming feature group = its metadata (kind: streaming) + a state factory ``compute(snapshot=None)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from data_processing.domain.feature_groups import FeatureGroup
from data_processing.errors import InvalidFeatureGroup
from data_processing.registry import FeatureGroupRegistry


class EntityState(Protocol):
    """One entity's window state, as returned by a streaming group's ``compute``."""

    clock: datetime | None  # the newest event time applied: the feature row's event_time

    def apply(self, event: Mapping[str, Any]) -> bool:
        """Apply an event (idempotent by event id, any order); True if features or clock changed."""

    def features(self) -> dict[str, Any]:
        """The current feature values."""

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state; ``compute(snapshot)`` restores it."""


@dataclass(frozen=True)
class StreamingGroup:
    definition: FeatureGroup
    new_state: Callable[[Mapping[str, Any] | None], EntityState]

    @property
    def name(self) -> str:
        return self.definition.name

    def entity_of(self, event: Mapping[str, Any]) -> str:
        entity = event.get(self.definition.entity)
        if not isinstance(entity, str) or not entity:
            raise ValueError(f"{self.definition.entity}: missing")
        return entity


def load_streaming_group(registry: FeatureGroupRegistry, name: str) -> StreamingGroup:
    """The group's metadata and code; refuses a batch group with a message naming it."""
    definition = registry.get(name)
    if definition.kind != "streaming":
        raise InvalidFeatureGroup(f"{name} is a {definition.kind} group: build it with build-features", field="group")
    return StreamingGroup(definition, registry.transform(name))
