"""Deployment records and the rules of every change (deploy, canary weight, shadow, promote, rollback).

A record says which version serves which share of a model's traffic. Records are never updated: each change
is a new record with ``revision`` + 1, so "what served at instant T" is the newest record created at or before T.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from strata_kernel.contracts.routing import RoutingRecord
from strata_kernel.contracts.wire import version_number

Mode = Literal["full", "shadow", "canary"]
MODES: tuple[Mode, ...] = ("full", "shadow", "canary")

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NODE_ID = re.compile(r"^[A-Za-z0-9_.=/-]{1,200}$")


class ChangeRefused(ValueError):
    """A change that cannot apply to the current record; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        #: True when the request is well formed but the model's state forbids it (HTTP 409, not 400)
        self.conflict = conflict


def check_model_name(model: str) -> str:
    if not _MODEL_NAME.match(model):
        raise ChangeRefused(f"invalid model name {model!r} (letters, digits, '_', '.', '-'; 1..64)", field="model")
    return model


def check_version(version: object, field_name: str = "version") -> str:
    """Versions are positive integers (the registry's numbering), carried as strings like the engine's API."""
    number = version_number(version)
    if number is None:
        raise ChangeRefused(f"{field_name} must be a positive integer, got {version!r}", field=field_name)
    return str(number)


def check_weight(weight: object) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
        raise ChangeRefused(f"weight must be an integer in 0..100, got {weight!r}", field="weight")
    return weight


def check_node(node: str) -> str:
    if not _NODE_ID.match(node):
        raise ChangeRefused(f"invalid node id {node!r} (e.g. 'country_code=NL/city_id=c-0001')", field="node")
    return node


@dataclass(frozen=True)
class DeploymentRecord:
    model: str
    revision: int
    stable_version: str
    candidate_version: str | None
    mode: Mode
    weight: int
    node_pins: dict[str, str] = field(default_factory=dict)
    step: int = 0
    actor: str = "operator"
    reason: str = ""
    created_at: datetime | None = None  # UTC, naive; set by the store's clock when the record is appended
    #: what made this revision: deploy | canary | shadow | promote | rollback ("" for records stored before it was kept)
    action: str = ""

    @property
    def has_candidate(self) -> bool:
        return self.candidate_version is not None

    def routing_record(self) -> RoutingRecord:
        """What the inference engine applies (``PUT /v1/models/{name}/routing``), in the published language."""
        return RoutingRecord(
            model=self.model,
            revision=self.revision,
            stable_version=int(self.stable_version),
            candidate_version=None if self.candidate_version is None else int(self.candidate_version),
            mode=self.mode,
            weight=self.weight,
            node_pins={node: int(version) for node, version in self.node_pins.items()},
        )

    def routing(self) -> dict[str, Any]:
        """The routing record as it travels (versions as strings)."""
        return self.routing_record().to_wire()


@dataclass(frozen=True)
class Change:
    """A proposed next record (without revision and time, which the store assigns)."""

    stable_version: str
    candidate_version: str | None
    mode: Mode
    weight: int
    node_pins: dict[str, str]
    step: int
    action: str  # deploy | canary | shadow | promote | rollback
    #: why the change went ahead against the rules' advice (a forced promote), kept in the record's reason
    note: str = ""

    def as_record(self, model: str, revision: int, actor: str, reason: str, at: datetime) -> DeploymentRecord:
        return DeploymentRecord(
            model=model,
            revision=revision,
            stable_version=self.stable_version,
            candidate_version=self.candidate_version,
            mode=self.mode,
            weight=self.weight,
            node_pins=dict(self.node_pins),
            step=self.step,
            actor=actor,
            reason=reason,
            created_at=at,
            action=self.action,
        )


def step_of(steps: tuple[int, ...], weight: int) -> int:
    """Index of the greatest step <= weight (0 below the first step)."""
    index = 0
    for i, value in enumerate(steps):
        if value <= weight:
            index = i
    return index


def full(version: str, steps: tuple[int, ...], action: str = "deploy") -> Change:
    # a full record has no candidate: the stable version answers everything (100%)
    return Change(version, None, "full", 100, {}, len(steps) - 1, action)


def deploy_candidate(stable: str, version: str, mode: Mode, weight: int | None, steps: tuple[int, ...]) -> Change:
    if version == stable:
        raise ChangeRefused(f"version {version} is already the stable version", field="version")
    if mode == "shadow":
        return Change(stable, version, "shadow", 0, {}, 0, "deploy")
    chosen = steps[0] if weight is None else check_weight(weight)
    return Change(stable, version, "canary", chosen, {}, step_of(steps, chosen), "deploy")


def set_canary_weight(current: DeploymentRecord, weight: int, steps: tuple[int, ...]) -> Change:
    candidate = _require_candidate(current, "set a canary weight")
    check_weight(weight)
    return Change(
        current.stable_version, candidate, "canary", weight, current.node_pins, step_of(steps, weight), "canary"
    )


def to_shadow(current: DeploymentRecord) -> Change:
    candidate = _require_candidate(current, "shadow")
    return Change(current.stable_version, candidate, "shadow", 0, current.node_pins, 0, "shadow")


def promote(current: DeploymentRecord, steps: tuple[int, ...], straight_to_full: bool = False) -> Change:
    """Next step of the template: shadow -> first canary step -> ... -> 100% (the candidate becomes stable)."""
    candidate = _require_candidate(current, "promote")
    if straight_to_full:
        return full(candidate, steps, "promote")
    if current.mode == "shadow":
        return Change(current.stable_version, candidate, "canary", steps[0], current.node_pins, 0, "promote")
    higher = [(i, w) for i, w in enumerate(steps) if w > current.weight]
    if not higher or higher[0][1] >= 100:
        return full(candidate, steps, "promote")
    index, weight = higher[0]
    return Change(current.stable_version, candidate, "canary", weight, current.node_pins, index, "promote")


def rollback(
    history: list[DeploymentRecord],
    steps: tuple[int, ...],
    node: str | None = None,
    to_version: str | None = None,
) -> Change:
    """Where a rollback goes, from the model's history (newest first):

    - with a candidate: drop it (stable at 100%); with ``node``: pin that node to stable, the rest stays as it is;
    - without one (after a full promotion): back to the previous stable version — never to one that was itself
      rolled back from, so rolling back twice goes further back instead of forward again;
    - ``to_version``: straight to that version, which must have served as stable before (a version that never
      did is a deploy, validated first, not a rollback).
    """
    current = history[0]
    if to_version is not None:
        return _rollback_to(history, steps, to_version)
    if node is not None:
        candidate = _require_candidate(current, "roll back a node")
        pins = {**current.node_pins, check_node(node): current.stable_version}
        return Change(current.stable_version, candidate, current.mode, current.weight, pins, current.step, "rollback")
    if current.has_candidate:
        return full(current.stable_version, steps, "rollback")
    previous = previous_stable(history)
    if previous is None:
        raise ChangeRefused(
            f"cannot roll back: model {current.model} has no candidate and no earlier stable version than "
            f"{current.stable_version} to return to",
            conflict=True,
        )
    return full(previous, steps, "rollback")


def _rollback_to(history: list[DeploymentRecord], steps: tuple[int, ...], version: str) -> Change:
    current = history[0]
    if version == current.stable_version and not current.has_candidate:
        raise ChangeRefused(f"version {version} of {current.model} already serves 100%", conflict=True)
    if not any(record.stable_version == version for record in history):
        served = sorted({r.stable_version for r in history}, key=int)
        raise ChangeRefused(
            f"version {version} of {current.model} never served as stable (stable so far: {', '.join(served)}); "
            f"deploy it instead (it is validated first)",
            field="to_version",
            conflict=True,
        )
    return full(version, steps, "rollback")


def previous_stable(history: list[DeploymentRecord]) -> str | None:
    """The newest stable version before the current one that no rollback has abandoned (history newest first)."""
    current = history[0].stable_version
    abandoned = {
        older.stable_version
        for newer, older in itertools.pairwise(history)
        if newer.action == "rollback" and newer.stable_version != older.stable_version
    }
    for record in history:
        if record.stable_version != current and record.stable_version not in abandoned:
            return record.stable_version
    return None


def _require_candidate(current: DeploymentRecord, what: str) -> str:
    if current.candidate_version is None:
        raise ChangeRefused(
            f"cannot {what}: model {current.model} has no candidate (stable version {current.stable_version} "
            f"serves everything); deploy one with mode canary or shadow",
            conflict=True,
        )
    return current.candidate_version
