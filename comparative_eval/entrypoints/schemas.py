"""Request and response schemas of the comparative_eval API; APIFlask puts them in the OpenAPI document."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range

from comparative_eval.domain.deployment import MODES
from comparative_eval.domain.verdicts import VERDICTS

_REASON = {"description": "Why (kept in the record and the audit log)."}
_VERSION = {"description": "A registered version: positive integer, as a number or a string.", "example": "3"}


class DeployIn(Schema):
    version = Raw(required=True, metadata=_VERSION)
    mode = String(required=True, validate=OneOf(MODES))
    weight = Integer(
        load_default=None,
        strict=True,
        validate=Range(min=0, max=100),
        metadata={"description": "Canary share in %, default the template's first step."},
    )
    reason = String(load_default="", validate=Length(max=1000), metadata=_REASON)


class CanaryIn(Schema):
    weight = Integer(required=True, strict=True, validate=Range(min=0, max=100))
    reason = String(load_default="", validate=Length(max=1000), metadata=_REASON)


class ShadowIn(Schema):
    version = Raw(load_default=None, metadata={**_VERSION, "description": "A new candidate; default the current."})
    reason = String(load_default="", validate=Length(max=1000), metadata=_REASON)


class PromoteIn(Schema):
    reason = String(load_default="", validate=Length(max=1000), metadata=_REASON)
    full = Boolean(load_default=False, metadata={"description": "Straight to 100%: the candidate becomes stable."})
    force = Boolean(
        load_default=False,
        metadata={"description": "Promote although the analysis says hold or rollback (409 without it); recorded."},
    )


class RollbackIn(Schema):
    reason = String(load_default="", validate=Length(max=1000), metadata=_REASON)
    node = String(
        load_default=None,
        validate=Length(min=1, max=200),
        metadata={"description": "Pin only this node (and those below it) to the stable version."},
    )
    to_version = Raw(
        load_default=None,
        metadata={**_VERSION, "description": "Back to this version, which served as stable before (default: drop "
                  "the candidate, or without one the previous stable version)."},
    )  # fmt: skip


class HistoryQuery(Schema):
    at = String(load_default=None, metadata={"description": "ISO-8601 instant (UTC unless it has an offset)."})


class RoutingOut(Schema):
    model = String()
    revision = Integer()
    stable_version = String()
    candidate_version = String(allow_none=True)
    mode = String(metadata={"enum": list(MODES)})
    weight = Integer(metadata={"description": "The candidate's share in canary (100 in full, 0 in shadow)."})
    node_pins = Dict(keys=String(), values=String())


class RecordOut(RoutingOut):
    action = String(metadata={"description": "What made this revision: deploy, canary, shadow, promote, rollback."})
    step = Integer(metadata={"description": "Index into the analysis template's steps."})
    actor = String()
    reason = String()
    created_at = String(metadata={"description": "UTC, ISO-8601 with Z: when the change was decided."})


class ChangeOut(RecordOut):
    pushed = Boolean(metadata={"description": "The engine took the routing now."})
    push_reason = String(allow_none=True, metadata={"description": "Why not (the engine's poller converges)."})


class VerdictOut(Schema):
    model = String()
    revision = Integer()
    verdict = String(metadata={"enum": list(VERDICTS)})
    reasons = List(String())
    metrics = Dict(metadata={"description": "{stable: {...}, candidate: {...}} of the step window."})
    tests = Dict(metadata={"description": "Per rule: outcome (pass|fail|insufficient|not_applicable), p_value..."})
    at = String(allow_none=True, metadata={"description": "UTC decision time."})
    action = String(allow_none=True, metadata={"description": "What the analysis did about it."})


class LatestVerdictOut(VerdictOut):
    """The same shape, registered once more: apispec warns when one schema is both nested and a response."""


class StatusOut(Schema):
    record = Nested(RecordOut)
    analysis = Nested(LatestVerdictOut, allow_none=True, metadata={"description": "Latest verdict; null without one."})


class DeploymentListOut(Schema):
    deployments = List(Nested(RecordOut))


class HistoryOut(Schema):
    records = List(Nested(RecordOut))
