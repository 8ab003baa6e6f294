"""data_processing's generic online API, as every caller uses it.

- ``POST /v1/models/{name}/predict``: :class:`OnlinePredictRequest` -> :class:`OnlinePredictResponse`. Each instance
  holds the model's entity keys, its nominal time (ISO-8601; default: now) and its context fields, as its
  declaration names them (``model_specs/<name>.yaml``); data_processing looks the features up online, computes the
  same expressions as training and asks the inference engine through its routing (header ``X-Routing-Key``).
- ``GET /v1/features?entity=<id | key:id>&features=@g:f,@g:f[&at=ISO]``: :class:`FeatureReadRequest` ->
  :class:`FeatureRead`, the features alone (the TTL rule of serving applied at ``at``, default now).

A request instance is checked against the declaration by :func:`parse_instance` (both sides can run it): a missing
entity key or a wrongly typed context field is a 400 naming ``instances.N.<field>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from strata_kernel.contracts.model_spec import ModelSpec
from strata_kernel.contracts.schema_check import FieldCheck, Violation, field_violations
from strata_kernel.contracts.time_zones import NaiveTimeColumn, aware
from strata_kernel.contracts.wire import InvalidPayload, is_finite_number, is_number
from strata_kernel.errors import BadRequest

MAX_INSTANCES = 1000
MAX_FEATURES = 100
MAX_TEXT = 256
PREDICT_PATH = "/v1/models/{name}/predict"
FEATURES_PATH = "/v1/features"


class InvalidRequest(BadRequest):
    code = "invalid_request"


@dataclass(frozen=True, slots=True)
class ServingInstance:
    """One checked instance: entity keys as text, the nominal time as an aware datetime, typed context fields."""

    entities: Mapping[str, str]
    time: datetime
    context: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OnlinePredictRequest:
    instances: list[dict[str, Any]]

    def to_wire(self) -> dict[str, Any]:
        return {"instances": [_jsonable(instance) for instance in self.instances]}

    @classmethod
    def from_wire(cls, body: Any, max_instances: int = MAX_INSTANCES) -> OnlinePredictRequest:
        """The envelope ``{"instances": [{...}, ...]}`` (1..max_instances objects); fields are checked per model."""
        if not isinstance(body, dict):
            raise InvalidRequest("body must be a JSON object with 'instances'", field="body")
        instances = body.get("instances")
        if not isinstance(instances, list) or not 1 <= len(instances) <= max_instances:
            raise InvalidRequest(f"instances must be a list of 1..{max_instances} objects", field="instances")
        for index, instance in enumerate(instances):
            if not isinstance(instance, dict):
                raise InvalidRequest(f"instances.{index} must be an object", field=f"instances.{index}")
        return cls(instances)


def parse_instance(
    instance: Mapping[str, Any], spec: ModelSpec, index: int, now: datetime | None = None
) -> ServingInstance:
    """Check one instance against its model's declaration; InvalidRequest names ``instances.<index>.<field>``."""
    where = f"instances.{index}"
    unknown = sorted(set(instance) - set(spec.request_columns()))
    if unknown:
        raise InvalidRequest(f"{where}.{unknown[0]}: not a field of model {spec.name} (fields: "
                             f"{', '.join(spec.request_columns())})", field=f"{where}.{unknown[0]}")  # fmt: skip
    entities = {key: _entity(instance.get(key), f"{where}.{key}") for key in spec.entities}
    moment = _time(instance.get(spec.spine.time), spec.spine.time_zone, f"{where}.{spec.spine.time}", now)
    context = {f.name: _typed(instance.get(f.name), f.type, f"{where}.{f.name}") for f in spec.context}
    return ServingInstance(entities, moment, context)


def envelope_violations(body: Any) -> list[Violation]:
    """The faults of a request whose envelope ``{"instances": [...]}`` itself is refused."""
    return field_violations(body, ("instances",), {"instances": _instances_alone})


def _instances_alone(raw: Any) -> None:
    OnlinePredictRequest.from_wire({"instances": raw})


def instance_violations(instance: Any, spec: ModelSpec) -> list[Violation]:
    """Every field of one instance that breaks the model's declaration (``parse_instance`` names only the first);
    fields are named bare (``n_items``, not ``instances.3.n_items``) so a monitor's series stay few."""
    checks: dict[str, FieldCheck] = {key: partial(_entity, where=key) for key in spec.entities}
    checks[spec.spine.time] = partial(_time, zone=spec.spine.time_zone, where=spec.spine.time, now=None)
    for context in spec.context:
        checks[context.name] = partial(_typed, kind=context.type, where=context.name)
    return field_violations(instance, spec.request_columns(), checks)


@dataclass(frozen=True, slots=True)
class OnlinePredictResponse:
    model: str
    version: str
    #: regression: the estimate; classification: the probability of the positive class
    predictions: Sequence[float]
    #: per instance, the age (seconds at the instance's time) of the oldest stored feature row used; None if none
    features_age_seconds: Sequence[float | None] = ()
    #: partitioned models: per instance, the node of the tree that answered
    nodes: Sequence[str | None] | None = None
    #: "stable" | "canary" when a routing record applies
    route: str | None = None

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "version": self.version, "predictions": list(self.predictions),
                                "features_age_seconds": list(self.features_age_seconds)}  # fmt: skip
        if self.nodes is not None:
            body["nodes"] = list(self.nodes)
        if self.route is not None:
            body["route"] = self.route
        return body

    @classmethod
    def from_wire(cls, body: Any) -> OnlinePredictResponse:
        if not isinstance(body, dict):
            raise InvalidPayload("answer must be a JSON object", field="body")
        predictions = body.get("predictions")
        if not isinstance(predictions, list) or not predictions or not all(is_finite_number(p) for p in predictions):
            raise InvalidPayload("predictions must be a non-empty list of finite numbers", field="predictions")
        ages = body.get("features_age_seconds") or []
        if not isinstance(ages, list) or not all(a is None or is_number(a) for a in ages):
            raise InvalidPayload(
                "features_age_seconds must be a list of numbers or nulls", field="features_age_seconds"
            )
        nodes = body.get("nodes")
        if nodes is not None and (not isinstance(nodes, list) or len(nodes) != len(predictions)):
            raise InvalidPayload("nodes must be a list as long as predictions", field="nodes")
        route = body.get("route")
        return cls(
            model=str(body.get("model") or ""),
            version=str(body.get("version") or ""),
            predictions=[float(p) for p in predictions],
            features_age_seconds=[None if a is None else float(a) for a in ages],
            nodes=None if nodes is None else [None if n is None else str(n) for n in nodes],
            route=route if isinstance(route, str) else None,
        )


@dataclass(frozen=True, slots=True)
class FeatureReadRequest:
    """``entity``: the id (when every named group has the same entity kind) or ``<key>:<id>`` pairs."""

    entities: Mapping[str, str]  # key ("" = the only one) -> id
    features: tuple[str, ...]
    at: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        """As query parameters (``entity`` may repeat)."""
        body: dict[str, Any] = {
            "entity": [value if key == "" else f"{key}:{value}" for key, value in self.entities.items()],
            "features": ",".join(self.features),
        }
        if self.at is not None:
            body["at"] = self.at.isoformat()
        return body

    @classmethod
    def from_wire(cls, body: Any) -> FeatureReadRequest:
        """From query parameters: ``{"entity": str | [str], "features": "a,b", "at"?: ISO}``."""
        if not isinstance(body, dict):
            raise InvalidRequest("query must carry entity and features", field="query")
        raw = body.get("entity")
        values = raw if isinstance(raw, list) else [raw] if raw is not None else []
        entities: dict[str, str] = {}
        for value in values:
            key, sep, ident = str(value).partition(":")
            key, ident = (key, ident) if sep else ("", key)
            entities[key] = _entity(ident, "entity")
        if not entities:
            raise InvalidRequest("entity: missing (an id, or <key>:<id> per entity kind)", field="entity")
        names = tuple(f.strip() for f in str(body.get("features") or "").split(",") if f.strip())
        if not 1 <= len(names) <= MAX_FEATURES:
            raise InvalidRequest(f"features: 1..{MAX_FEATURES} comma-separated '@group:feature'", field="features")
        at = body.get("at")
        moment = None if at is None else _time(at, None, "at", None)
        return cls(entities, names, moment)


@dataclass(frozen=True, slots=True)
class FeatureRead:
    entities: Mapping[str, str]  # entity kind -> id
    features: Mapping[str, Any]  # "@group:feature" -> value (null: none, or older than the group's TTL)
    feature_time: Mapping[str, str | None] = field(default_factory=dict)  # group -> ISO-8601 of its row
    at: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "entities": dict(self.entities),
            "features": {key: _jsonable(value) for key, value in self.features.items()},
            "feature_time": dict(self.feature_time),
            "at": None if self.at is None else self.at.isoformat(),
        }

    @classmethod
    def from_wire(cls, body: Any) -> FeatureRead:
        if not isinstance(body, dict) or not isinstance(body.get("features"), dict):
            raise InvalidPayload("answer must be an object with features", field="features")
        at = body.get("at")
        return cls(dict(body.get("entities") or {}), dict(body["features"]), dict(body.get("feature_time") or {}),
                   None if at is None else _time(at, None, "at", None))  # fmt: skip


def _entity(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None or not isinstance(value, str | int) or not str(value).strip():
        raise InvalidRequest(f"{where}: an entity key must be a non-empty string or integer", field=where)
    text = str(value)
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"{where}: at most {MAX_TEXT} characters", field=where)
    return text


def _time(value: Any, zone: str | None, where: str, now: datetime | None) -> datetime:
    if value is None:
        return now if now is not None else datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidRequest(f"{where}: must be an ISO-8601 time", field=where)
    try:
        moment = aware(parsed, zone, where)
    except NaiveTimeColumn:
        raise InvalidRequest(f"{where}: {value!r} has no offset and the model declares no time zone: send one "
                             "(e.g. +01:00 or Z)", field=where) from None  # fmt: skip
    if parsed.tzinfo is None and moment.utcoffset() != moment.replace(fold=1).utcoffset():
        # in the hour a DST change skips or repeats the two readings of the wall clock differ (the training join
        # refuses such times too)
        raise InvalidRequest(f"{where}: {value!r} is a wall-clock time that {zone} skips or repeats: send it with "
                             "its offset", field=where)  # fmt: skip
    return moment


def _typed(value: Any, kind: str, where: str) -> Any:
    """A context value of its declared type; null is a missing value (the model has a rule for it)."""
    if value is None:
        return None
    if kind == "string":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise InvalidRequest(f"{where}: must be a string of at most {MAX_TEXT} characters", field=where)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidRequest(f"{where}: must be true or false", field=where)
        return value
    if not is_number(value) or not math.isfinite(value) or (kind == "int64" and float(value) != int(value)):
        raise InvalidRequest(f"{where}: must be {'an integer' if kind == 'int64' else 'a finite number'}", field=where)
    return int(value) if kind == "int64" else float(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
