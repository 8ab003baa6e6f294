"""The routing record: which version of a model is stable, which is the candidate and how it takes part.

comparative_eval owns the records (``GET /v1/deployments/{model}/routing``, and the push ``PUT
/v1/models/{model}/routing`` to the engine with the operator token); the inference engine applies them.
``full``: the stable version answers everything; ``shadow``: the stable version answers, the candidate scores a
copy; ``canary``: the candidate answers the routing keys with ``crc32(key) % 100 < weight``. ``node_pins`` hold
nodes of a partitioned model (and every node below them) on a version.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strata_kernel.contracts.wire import version_number
from strata_kernel.errors import BadRequest

FULL, SHADOW, CANARY = "full", "shadow", "canary"
MODES = (FULL, SHADOW, CANARY)
#: route labels of a prediction (``inference.predictions`` ``route``)
STABLE = "stable"
ROUTES = (STABLE, CANARY, SHADOW)


class InvalidRoutingRecord(BadRequest):
    code = "invalid_routing_record"


def bucket(key: str) -> int:
    """A routing key's sticky bucket in 0..99: the same key gets the same answer at the same weight, and raising
    the weight only moves keys from stable to canary."""
    return zlib.crc32(key.encode()) % 100


@dataclass(frozen=True)
class RoutingRecord:
    model: str
    revision: int
    stable_version: int
    candidate_version: int | None = None
    mode: str = FULL
    #: the candidate's share of routing keys in canary, 0..100
    weight: float = 0
    node_pins: Mapping[str, int] = field(default_factory=dict)

    def route(self, key: str) -> str:
        """``"canary"`` when the candidate answers this routing key, else ``"stable"``."""
        if self.mode != CANARY or self.weight <= 0:
            return STABLE
        return CANARY if bucket(key) < self.weight else STABLE

    def versions(self) -> frozenset[int]:
        """Every version this record needs loaded."""
        needed = {self.stable_version, *self.node_pins.values()}
        if self.mode != FULL and self.candidate_version is not None:
            needed.add(self.candidate_version)
        return frozenset(needed)

    def to_wire(self) -> dict[str, Any]:
        """Versions travel as strings, like every version in the HTTP APIs (``"version": "3"``)."""
        return {
            "model": self.model,
            "revision": self.revision,
            "stable_version": str(self.stable_version),
            "candidate_version": None if self.candidate_version is None else str(self.candidate_version),
            "mode": self.mode,
            "weight": self.weight,
            "node_pins": {node: str(version) for node, version in self.node_pins.items()},
        }

    @classmethod
    def from_wire(cls, body: Any, model: str | None = None) -> RoutingRecord:
        """Validate a record (a PUT body or comparative_eval's answer); ``model`` is the URL's, if any.

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
        return cls(
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
    if isinstance(value, str) and version_number(value) is not None:
        value = version_number(value)
    return _positive_int(value, name, what="a version number (a positive integer)")


def _positive_int(value: Any, name: str, what: str = "a positive integer") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRoutingRecord(f"{name} must be {what}, got {value!r}", field=name)
    return value
