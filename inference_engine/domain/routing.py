"""The engine's side of routing (pure: no I/O, no frameworks): node pins of partitioned models.

The record itself — modes, the sticky canary split, which versions it needs, its parse — is the published
language's :class:`strata_kernel.contracts.routing.RoutingRecord`, shared with comparative_eval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from strata_kernel.contracts.routing import CANARY, FULL, MODES, SHADOW, STABLE, RoutingRecord

__all__ = ["CANARY", "FULL", "GLOBAL_NODE", "MODES", "SHADOW", "STABLE", "RoutingRecord", "pinned_version", "view"]

#: the partitioned models' root node (inference_engine.partitioning.tree.GLOBAL); every node is below it
GLOBAL_NODE = "global"
_NODE_SEPARATOR = "/"  # node ids are "country_code=NL/city_id=c-ams": a node's ancestors are its prefixes


def pinned_version(pins: Mapping[str, int], node: str) -> int | None:
    """The version pinning ``node`` or its nearest pinned ancestor (``global`` is everyone's), else None."""
    while True:
        version = pins.get(node)
        if version is not None:
            return version
        cut = node.rfind(_NODE_SEPARATOR)
        if cut < 0:
            return pins.get(GLOBAL_NODE) if node != GLOBAL_NODE else None
        node = node[:cut]


def view(record: RoutingRecord) -> dict[str, Any]:
    """The record as the engine shows it (``GET /v1/models/{name}/routing``, logs): versions as numbers."""
    return asdict(record)
