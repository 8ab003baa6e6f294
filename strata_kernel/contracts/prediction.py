"""The inference engine's API as its callers use it: predict, a served model, validate a version.

- data_processing -> ``POST /v1/models/{name}/predict`` (headers ``X-Routing-Key``, ``X-Vectoriser``):
  :class:`PredictRequest` -> :class:`PredictResponse` (ETD: a number per instance; the chatbot: a
  :class:`HelpPrediction` per instance)
- comparative_eval -> ``GET /v1/models/{name}`` (:class:`ModelDescription`: which version serves) and
  ``POST /v1/models/{name}/versions/{v}/validate`` (:class:`ValidationRequest` -> :class:`ValidationReport`)

Versions are positive integers, carried as strings (``"version": "3"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from strata_kernel.contracts.wire import InvalidPayload, is_finite_number, is_number, optional_text, version_number
from strata_kernel.errors import BadRequest

#: one instance: feature column (or partition key, or ``token_ids``) -> value
Instance = dict[str, Any]
#: an instance data_processing builds also names its entities (by key) and its nominal time (ISO-8601, UTC) under
#: this key: a model ignores both; the prediction log carries them to the training/serving skew monitor
NOMINAL_TIME_KEY = "__nominal_time"
MAX_INSTANCES = 1000


class InvalidInstances(BadRequest):
    code = "invalid_instances"


@dataclass(frozen=True, slots=True)
class PredictRequest:
    instances: list[Instance]

    def to_wire(self) -> dict[str, Any]:
        return {"instances": list(self.instances)}

    @classmethod
    def from_wire(cls, body: Any, max_instances: int = MAX_INSTANCES) -> PredictRequest:
        """The envelope ``{"instances": [...]}`` (1..max_instances items); each model checks its own fields."""
        if not isinstance(body, dict):
            raise InvalidInstances("body must be a JSON object with 'instances'", field="body")
        instances = body.get("instances")
        if not isinstance(instances, list):
            raise InvalidInstances("instances must be a list of objects", field="instances")
        if not 1 <= len(instances) <= max_instances:
            raise InvalidInstances(
                f"instances must hold 1..{max_instances} items, got {len(instances)}", field="instances"
            )
        return cls(instances)


@dataclass(frozen=True, slots=True)
class HelpPrediction:
    """The chatbot model's answer to one question; below its threshold ``known`` is false and title, url and
    answer are null (``article_id`` stays the best guess, for feedback analysis)."""

    known: bool
    article_id: str | None
    confidence: float
    title: str | None = None
    url: str | None = None
    answer: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, body: Any) -> HelpPrediction:
        if not isinstance(body, dict):
            raise InvalidPayload("predictions[0] must be an object", field="predictions")
        known = body.get("known")
        if not isinstance(known, bool):
            raise InvalidPayload(f"known is {type(known).__name__}, not bool", field="known")
        confidence = body.get("confidence")
        if not is_number(confidence):
            raise InvalidPayload(f"confidence must be a number, got {confidence!r}", field="confidence")
        article_id = body.get("article_id")
        return cls(
            known=known,
            article_id=None if article_id is None else str(article_id),
            confidence=float(confidence),
            # below the threshold there is no answer to show, whatever the engine put there
            title=_optional_str(body.get("title")) if known else None,
            url=_optional_str(body.get("url")) if known else None,
            answer=_optional_str(body.get("answer")) if known else None,
        )


@dataclass(frozen=True, slots=True)
class PredictResponse:
    model: str
    version: int
    #: a number per instance (ETD minutes), or an object per instance (the chatbot's HelpPrediction as a dict)
    predictions: Sequence[float | dict[str, Any]]
    #: partitioned models only: per instance, the node of the tree whose model answered
    nodes: Sequence[str] | None = None
    #: routed predictions only: "stable" | "canary" (see contracts.routing)
    route: str | None = None
    #: when node pins split a request between versions: each instance's version
    versions: Sequence[int] | None = None

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "version": str(self.version),
            "predictions": list(self.predictions),
        }
        if self.nodes is not None:
            body["nodes"] = list(self.nodes)
            # one instance (the ETD estimate) or one node for all: a single "node" is what a caller reads
            body["node"] = self.nodes[0] if len(set(self.nodes)) == 1 else None
        if self.route is not None:
            body["route"] = self.route
        if self.versions is not None:
            body["versions"] = [str(version) for version in self.versions]
        return body

    @classmethod
    def from_wire(cls, body: Any) -> PredictResponse:
        if not isinstance(body, dict):
            raise InvalidPayload("answer must be a JSON object", field="body")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidPayload(f"model must be a non-empty string, got {model!r}", field="model")
        predictions = body.get("predictions")
        if not isinstance(predictions, list) or not predictions:
            raise InvalidPayload(f"predictions must be a non-empty list, got {predictions!r}", field="predictions")
        nodes = body.get("nodes")
        if nodes is not None and (not isinstance(nodes, list) or len(nodes) != len(predictions)):
            raise InvalidPayload("nodes must be a list as long as predictions", field="nodes")
        route = body.get("route")
        versions = body.get("versions")
        return cls(
            model=model,
            version=_version(body.get("version"), "version"),
            predictions=predictions,
            nodes=None if nodes is None else [str(node) for node in nodes],
            route=route if isinstance(route, str) else None,
            versions=None if versions is None else [_version(v, "versions") for v in versions],
        )

    def numbers(self) -> list[float]:
        """Every prediction as a float (a numeric model's answer); InvalidPayload if one is not a number."""
        if not all(is_number(value) for value in self.predictions):
            raise InvalidPayload("predictions must be numbers", field="predictions")
        return [float(value) for value in self.predictions]  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ModelDescription:
    """A served model as ``GET /v1/models[/{name}]`` lists it."""

    name: str
    version: int
    alias: str | None
    features: Sequence[str]
    loaded_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": str(self.version),
            "alias": self.alias,
            "features": list(self.features),
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
        }

    @classmethod
    def from_wire(cls, body: Any) -> ModelDescription:
        if not isinstance(body, dict):
            raise InvalidPayload("a model description must be a JSON object", field="body")
        name = body.get("name")
        features = body.get("features")
        try:
            loaded_at = datetime.fromisoformat(str(body.get("loaded_at")))
        except ValueError:
            raise InvalidPayload(
                f"loaded_at is not an ISO-8601 time: {body.get('loaded_at')!r}", field="loaded_at"
            ) from None
        return cls(
            name=name if isinstance(name, str) and name else _missing("name"),
            version=_version(body.get("version"), "version"),
            alias=optional_text(body.get("alias")),
            features=[str(f) for f in features] if isinstance(features, list) else _missing("features"),
            loaded_at=loaded_at,
        )


@dataclass(frozen=True, slots=True)
class ValidationRequest:
    """Would a version serve the current traffic? Scored on ``instances`` within ``latency_budget_ms`` (p99)."""

    instances: list[Instance]
    latency_budget_ms: float

    def to_wire(self) -> dict[str, Any]:
        return {"instances": list(self.instances), "latency_budget_ms": self.latency_budget_ms}

    @classmethod
    def from_wire(cls, body: Any, max_instances: int = MAX_INSTANCES) -> ValidationRequest:
        instances = PredictRequest.from_wire(body, max_instances).instances
        budget = body.get("latency_budget_ms")
        if not is_number(budget) or not 0 < budget < math.inf:
            raise InvalidInstances(
                f"latency_budget_ms must be a positive number of milliseconds, got {budget!r}",
                field="latency_budget_ms",
            )
        return cls(instances, float(budget))


@dataclass(frozen=True, slots=True)
class ValidationReport:
    ok: bool
    problems: Sequence[str]
    p99_ms: float | None
    #: how many instances were scored
    instances: int

    def to_wire(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems), "p99_ms": self.p99_ms, "instances": self.instances}

    @classmethod
    def from_wire(cls, body: Any) -> ValidationReport:
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise InvalidPayload("a validation report needs a boolean 'ok'", field="ok")
        p99 = body.get("p99_ms")
        count = body.get("instances")
        return cls(
            ok=body["ok"],
            problems=[str(problem) for problem in body.get("problems") or []],
            p99_ms=float(p99) if is_finite_number(p99) else None,
            instances=int(count) if is_number(count) else 0,
        )


def _version(value: Any, name: str) -> int:
    number = version_number(value)
    if number is None:
        raise InvalidPayload(f"{name} must be a positive integer, got {value!r}", field=name)
    return number


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _missing(name: str) -> Any:
    raise InvalidPayload(f"{name} is missing or malformed", field=name)
