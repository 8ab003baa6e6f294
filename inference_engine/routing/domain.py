"""The routing record a model is served under, and the decisions it makes (pure: no I/O, no frameworks).

A record says which version is stable, which is the candidate and how the candidate takes part:
``full`` (the stable version answers everything), ``shadow`` (the stable answers, the candidate scores a copy)
or ``canary`` (the candidate answers ``weight`` % of routing keys). The canary split is sticky: a key's bucket
is ``crc32(key) % 100``, so the same key gets the same answer at the same weight, and raising the weight only
moves keys from stable to canary. ``node_pins`` hold nodes of a partitioned model (and every node below them)
on a given version.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from inference_engine.routing.errors import InvalidRoutingRecord

FULL, SHADOW, CANARY = "full", "shadow", "canary"
MODES = (FULL, SHADOW, CANARY)
STABLE = "stable"  # route labels: STABLE, CANARY, SHADOW

#: the partitioned models' root node (inference_engine.partitioning.tree.GLOBAL); every node is below it
GLOBAL_NODE = "global"
_NODE_SEPARATOR = "/"  # node ids are "country_code=NL/city_id=c-ams": a node's ancestors are its prefixes

PREDICTIONS_TOPIC = "inference.predictions"
RECORD_FIELDS = ("model", "revision", "stable_version", "candidate_version", "mode", "weight", "node_pins")


def bucket(key: str) -> int:
    """The key's sticky bucket in 0..99."""
    return zlib.crc32(key.encode()) % 100


@dataclass(frozen=True)
class RoutingRecord:
    model: str
    revision: int
    stable_version: int
    candidate_version: int | None = None
    mode: str = FULL
    weight: float = 0
    node_pins: Mapping[str, int] = field(default_factory=dict)

    def route(self, key: str) -> str:
        """``"canary"`` when the candidate answers this key, else ``"stable"``."""
        if self.mode != CANARY or self.weight <= 0:
            return STABLE
        return CANARY if bucket(key) < self.weight else STABLE

    def versions(self) -> frozenset[int]:
        """Every version this record needs loaded."""
        needed = {self.stable_version, *self.node_pins.values()}
        if self.mode != FULL and self.candidate_version is not None:
            needed.add(self.candidate_version)
        return frozenset(needed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "revision": self.revision,
            "stable_version": self.stable_version,
            "candidate_version": self.candidate_version,
            "mode": self.mode,
            "weight": self.weight,
            "node_pins": dict(self.node_pins),
        }


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


def parse_record(body: Any, model: str | None = None) -> RoutingRecord:
    """Validate a routing record (a PUT body or comparative_eval's answer); the error names the bad field.

    Fields other than the record's (``step``, ``actor``, ``created_at``...) are ignored.
    """
    if not isinstance(body, dict):
        raise InvalidRoutingRecord("body must be a JSON object (a routing record)", field="body")
    name = body.get("model", model)
    if not isinstance(name, str) or not name:
        raise InvalidRoutingRecord("model must be a non-empty string", field="model")
    if model is not None and name != model:
        raise InvalidRoutingRecord(f"model {name!r} does not match the URL's model {model!r}", field="model")
    mode = body.get("mode")
    if mode not in MODES:
        raise InvalidRoutingRecord(f"mode must be one of {', '.join(MODES)}, got {mode!r}", field="mode")
    stable = _version(body.get("stable_version"), "stable_version")
    candidate = body.get("candidate_version")
    candidate = None if candidate is None else _version(candidate, "candidate_version")
    if mode != FULL and candidate is None:
        raise InvalidRoutingRecord(f"a {mode} record needs a candidate_version", field="candidate_version")
    if mode != FULL and candidate == stable:
        raise InvalidRoutingRecord("candidate_version must differ from stable_version", field="candidate_version")
    weight = body.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 100:
        raise InvalidRoutingRecord(f"weight must be a number in 0..100, got {weight!r}", field="weight")
    return RoutingRecord(
        model=name,
        revision=_positive_int(body.get("revision"), "revision"),
        stable_version=stable,
        candidate_version=candidate,
        mode=mode,
        weight=weight,
        node_pins=_pins(body.get("node_pins")),
    )


def _pins(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRoutingRecord("node_pins must be an object {node_id: version}", field="node_pins")
    pins: dict[str, int] = {}
    for node, version in value.items():
        if not node or node != node.strip():
            raise InvalidRoutingRecord(f"node_pins has an invalid node id {node!r}", field="node_pins")
        pins[node] = _version(version, f"node_pins.{node}")
    return pins


def _version(value: Any, name: str) -> int:
    # versions travel as strings in the HTTP API ("version": "3"): accept both spellings of a positive integer
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return _positive_int(value, name, what="a version number (a positive integer)")


def _positive_int(value: Any, name: str, what: str = "a positive integer") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRoutingRecord(f"{name} must be {what}, got {value!r}", field=name)
    return value
