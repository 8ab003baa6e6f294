"""The operator's deployment API: the CLI (``strata deploy/canary/shadow/promote/rollback``) -> comparative_eval
``POST /v1/deployments/{model}/<action>``, and the deployment records comparative_eval answers (the change's answer,
``GET /v1/deployments[/{model}/history]``; the UI relays the history unchanged).

A request's ``to_wire`` leaves out what the operator did not say (comparative_eval's defaults apply). Versions travel
as sent, a positive integer as a number or a string: whether it is one, and which modes, weights and versions a
change may take, is comparative_eval's rule (its 400/409 answers), not the wire's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strata_kernel.contracts.wire import InvalidPayload

#: what made a revision (``RecordAnswer.action``; "" for records stored before it was kept)
ACTIONS = ("deploy", "canary", "shadow", "promote", "rollback")


@dataclass(frozen=True)
class DeployRequest:
    version: int | str
    mode: str
    #: the canary share in %, default the analysis template's first step
    weight: int | None = None
    reason: str = ""

    FIELDS = ("version", "mode", "weight", "reason")

    def to_wire(self) -> dict[str, Any]:
        return _said({"version": self.version, "mode": self.mode, "weight": self.weight, "reason": self.reason})

    @classmethod
    def from_wire(cls, body: Any) -> DeployRequest:
        item = _object(body)
        version: Any = item.get("version")  # as sent: comparative_eval's rule checks it
        return cls(version, _text(item, "mode"), _weight(item, required=False), _reason(item))


@dataclass(frozen=True)
class CanaryRequest:
    weight: int
    reason: str = ""

    FIELDS = ("weight", "reason")

    def to_wire(self) -> dict[str, Any]:
        return _said({"weight": self.weight, "reason": self.reason})

    @classmethod
    def from_wire(cls, body: Any) -> CanaryRequest:
        item = _object(body)
        weight = _weight(item, required=True)
        assert weight is not None
        return cls(weight, _reason(item))


@dataclass(frozen=True)
class ShadowRequest:
    #: a new candidate; None: shadow the current one
    version: int | str | None = None
    reason: str = ""

    FIELDS = ("version", "reason")

    def to_wire(self) -> dict[str, Any]:
        return _said({"version": self.version, "reason": self.reason})

    @classmethod
    def from_wire(cls, body: Any) -> ShadowRequest:
        item = _object(body)
        return cls(item.get("version"), _reason(item))


@dataclass(frozen=True)
class PromoteRequest:
    #: straight to 100%: the candidate becomes stable
    full: bool = False
    #: promote although the analysis says hold or rollback (recorded)
    force: bool = False
    reason: str = ""

    FIELDS = ("full", "force", "reason")

    def to_wire(self) -> dict[str, Any]:
        return _said({"full": self.full, "force": self.force, "reason": self.reason})

    @classmethod
    def from_wire(cls, body: Any) -> PromoteRequest:
        item = _object(body)
        return cls(_flag(item, "full"), _flag(item, "force"), _reason(item))


@dataclass(frozen=True)
class RollbackRequest:
    #: pin only this node (and those below it) to the stable version
    node: str | None = None
    #: back to this version, which served as stable before
    to_version: int | str | None = None
    reason: str = ""

    FIELDS = ("node", "to_version", "reason")

    def to_wire(self) -> dict[str, Any]:
        return _said({"node": self.node, "reason": self.reason, "to_version": self.to_version})

    @classmethod
    def from_wire(cls, body: Any) -> RollbackRequest:
        item = _object(body)
        node = item.get("node")
        if node is not None and not isinstance(node, str):
            raise InvalidPayload("node must be a node id (a string)", field="node")
        return cls(node, item.get("to_version"), _reason(item))


@dataclass(frozen=True)
class RecordAnswer:
    """One revision of a model's deployment record: the routing (as :class:`.routing.RoutingRecord` carries it) and
    who changed it, why and when."""

    model: str
    revision: int
    stable_version: str
    candidate_version: str | None
    mode: str
    weight: int
    node_pins: Mapping[str, str] = field(default_factory=dict)
    action: str = ""
    step: int = 0
    actor: str = ""
    reason: str = ""
    #: UTC, ISO-8601 with Z: when the change was decided
    created_at: str | None = None

    FIELDS = ("model", "revision", "stable_version", "candidate_version", "mode", "weight", "node_pins", "action",
              "step", "actor", "reason", "created_at")  # fmt: skip

    def to_wire(self) -> dict[str, Any]:
        return {name: dict(self.node_pins) if name == "node_pins" else getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_wire(cls, body: Any) -> RecordAnswer:
        item = _object(body)
        pins = item.get("node_pins") or {}
        if not isinstance(pins, dict) or not all(isinstance(v, str) for v in pins.values()):
            raise InvalidPayload("node_pins must be an object {node_id: version}", field="node_pins")
        candidate, created = item.get("candidate_version"), item.get("created_at")
        for name, value in (("candidate_version", candidate), ("created_at", created)):
            if value is not None and not isinstance(value, str):
                raise InvalidPayload(f"{name} must be a string or null", field=name)
        return cls(
            model=_text(item, "model"),
            revision=_int(item, "revision"),
            stable_version=_text(item, "stable_version"),
            candidate_version=candidate,
            mode=_text(item, "mode"),
            weight=_int(item, "weight"),
            node_pins=dict(pins),
            action=_text(item, "action", ""),
            step=_int(item, "step", 0),
            actor=_text(item, "actor", ""),
            reason=_reason(item),
            created_at=created,
        )


@dataclass(frozen=True)
class ChangeAnswer:
    """comparative_eval's answer to a change: the new record and whether the engine took the routing at once."""

    record: RecordAnswer
    pushed: bool
    #: why the engine did not take it now (its poller converges)
    push_reason: str | None = None

    FIELDS = (*RecordAnswer.FIELDS, "pushed", "push_reason")

    def to_wire(self) -> dict[str, Any]:
        return {**self.record.to_wire(), "pushed": self.pushed, "push_reason": self.push_reason}

    @classmethod
    def from_wire(cls, body: Any) -> ChangeAnswer:
        item = _object(body)
        push_reason = item.get("push_reason")
        if push_reason is not None and not isinstance(push_reason, str):
            raise InvalidPayload("push_reason must be a string or null", field="push_reason")
        return cls(RecordAnswer.from_wire(item), _flag(item, "pushed"), push_reason)


def _said(body: dict[str, Any]) -> dict[str, Any]:
    """What the operator said: None, "" and False are comparative_eval's defaults, left out."""
    return {key: value for key, value in body.items() if value is not None and value != "" and value is not False}


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidPayload("body must be a JSON object", field="body")
    return value


def _text(item: dict[str, Any], name: str, default: str | None = None) -> str:
    value = item.get(name, default)
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} must be a string, got {value!r}", field=name)
    return value


def _reason(item: dict[str, Any]) -> str:
    return _text(item, "reason", "")


def _int(item: dict[str, Any], name: str, default: int | None = None) -> int:
    value = item.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPayload(f"{name} must be an integer, got {value!r}", field=name)
    return value


def _weight(item: dict[str, Any], *, required: bool) -> int | None:
    if item.get("weight") is None and not required:
        return None
    weight = _int(item, "weight")
    if not 0 <= weight <= 100:
        raise InvalidPayload(f"weight must be 0..100, got {weight!r}", field="weight")
    return weight


def _flag(item: dict[str, Any], name: str) -> bool:
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise InvalidPayload(f"{name} must be true or false", field=name)
    return value
