"""What serves one model right now: the applied routing record and the loaded runtime of every version it needs.

A Deployment is immutable and replaced as a whole (one reference swap), so a request that read it keeps a
consistent view (record, stable, candidate, pins) while a new routing is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inference_engine.domain.models import Prediction, ServedModel
from inference_engine.domain.routing import CANARY, FULL, STABLE, RoutingRecord, view
from inference_engine.ports import ModelRuntime
from strata_kernel.contracts.prediction import PredictResponse


@dataclass(frozen=True)
class LoadedModel:
    served: ServedModel
    runtime: ModelRuntime


@dataclass(frozen=True)
class Deployment:
    stable: LoadedModel
    applied_at: datetime
    #: None = no routing record: the alias's version answers everything
    record: RoutingRecord | None = None
    candidate: LoadedModel | None = None
    #: every loaded version of this deployment (stable, candidate, pinned), by number
    by_version: Mapping[int, LoadedModel] = field(default_factory=dict)

    @classmethod
    def of_alias(cls, loaded: LoadedModel) -> Deployment:
        return cls(loaded, loaded.served.loaded_at, by_version={loaded.served.version: loaded})

    def choose(self, key: str) -> tuple[LoadedModel, str]:
        """The version answering ``key`` and the route label."""
        record = self.record
        if record is None or self.candidate is None or record.route(key) != CANARY:
            return self.stable, STABLE
        return self.candidate, CANARY

    def label(self, version: int, route: str) -> str:
        """The route of an instance a node pin moved to ``version``: canary only if the candidate still answers."""
        candidate = self.candidate
        return CANARY if route == CANARY and candidate is not None and candidate.served.version == version else STABLE

    def to_dict(self, alias: str) -> dict[str, Any]:
        """``GET /v1/models/{name}/routing``: the applied record, or the alias-derived default."""
        if self.record is not None:
            body = view(self.record)
            source = "record"
        else:
            served = self.stable.served
            body = {"model": served.name, "revision": 0, "stable_version": served.version, "candidate_version": None,
                    "mode": FULL, "weight": 0, "node_pins": {}}  # fmt: skip
            source = f"alias:{alias}"
        return {**body, "applied_at": self.applied_at.isoformat(timespec="milliseconds"), "source": source}


@dataclass(frozen=True)
class RoutedPrediction(Prediction):
    """A prediction plus the route that answered it (and, when node pins split a request, each one's version)."""

    route: str = STABLE
    versions: list[int] | None = None

    def to_dict(self) -> dict[str, object]:
        return PredictResponse(
            self.model, self.version, self.predictions, self.nodes, self.route, self.versions
        ).to_wire()
