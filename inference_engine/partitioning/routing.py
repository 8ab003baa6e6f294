"""The routing table of a partitioned model: partition keys of a request -> the node whose model answers.

Every node known at training maps to its serving node; an unknown city falls back to its country, an
unknown country to global. Pure Python dict lookups: this runs on the serving hot path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inference_engine.partitioning.tree import NodeKey


@dataclass(frozen=True)
class RoutingTable:
    partition_by: tuple[str, ...]
    #: node key (prefix of partition values) -> id of the node whose model serves it
    serving: Mapping[NodeKey, str]

    def route(self, values: Sequence[str | None]) -> str:
        """The deepest known prefix of ``values`` decides; a missing value stops the descent there."""
        depth = 0
        while depth < len(values) and values[depth] is not None:
            depth += 1
        for size in range(depth, -1, -1):
            served = self.serving.get(tuple(values[:size]))  # type: ignore[arg-type]
            if served is not None:
                return served
        raise LookupError("the routing table has no global node")

    def keys_of(self, instance: Mapping[str, Any]) -> list[str | None]:
        return [_key_value(instance.get(column)) for column in self.partition_by]

    def to_dict(self) -> dict[str, Any]:
        return {
            "partition_by": list(self.partition_by),
            "routes": [{"key": list(key), "served_by": node} for key, node in sorted(self.serving.items())],
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> RoutingTable:
        serving = {tuple(route["key"]): route["served_by"] for route in body["routes"]}
        return cls(tuple(body["partition_by"]), serving)


def _key_value(value: Any) -> str | None:
    """Keys are compared as strings (``7`` and ``"7"`` are the same store); null = unknown."""
    if value is None or isinstance(value, bool):
        return None
    return str(value)
