"""Ports of comparative_eval, in domain terms. Adapters implement them; services use only these."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from comparative_eval.domain.deployment import DeploymentRecord
from comparative_eval.domain.events import Outcome, Prediction
from comparative_eval.domain.template import AnalysisTemplate
from comparative_eval.domain.verdicts import Observation, Verdict
from strata_kernel.contracts.prediction import ValidationReport as ValidationReport  # the engine's answer
from strata_kernel.contracts.routing import RoutingRecord
from strata_kernel.unit_of_work import UnitOfWork as KernelUnitOfWork

#: "now" in UTC (naive); injected so tests pin time
Clock = Callable[[], datetime]


class DeploymentRepository(abc.ABC):
    """The append-only history of deployment records."""

    @abc.abstractmethod
    def current(self, model: str) -> DeploymentRecord | None:
        """The latest record of ``model`` (greatest revision), or ``None`` when it has none."""

    @abc.abstractmethod
    def currents(self) -> list[DeploymentRecord]:
        """The latest record of every model, by model name."""

    @abc.abstractmethod
    def history(self, model: str) -> list[DeploymentRecord]:
        """Every record of ``model``, newest first."""

    @abc.abstractmethod
    def at(self, model: str, instant: datetime) -> DeploymentRecord | None:
        """The record in force at ``instant`` (UTC): the greatest ``created_at <= instant``."""

    @abc.abstractmethod
    def append(self, record: DeploymentRecord) -> None:
        """Add a record; raises ``Conflict`` if its (model, revision) already exists."""


class AuditRepository(abc.ABC):
    @abc.abstractmethod
    def add(
        self, model: str, action: str, actor: str, outcome: str, reason: str, detail: dict[str, Any], at: datetime
    ) -> None:
        """Record an attempted change and how it ended (``applied``, ``refused``, ...)."""

    @abc.abstractmethod
    def recent(self, model: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest audit entries of ``model``, newest first."""


class VerdictRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, verdict: Verdict) -> None:
        """Store a verdict (with its decision time ``at`` and ``action``)."""

    @abc.abstractmethod
    def latest(self, model: str, revision: int | None = None) -> Verdict | None:
        """The newest verdict of ``model`` (of that revision, if given)."""


@dataclass(frozen=True)
class Added:
    """What one insert of samples did: the event ids of the rows it wrote (any other event given was held already,
    or repeated in the same insert) and the samples it newly joined, by route."""

    stored: frozenset[str] = frozenset()
    joined: dict[str, int] = field(default_factory=dict)


class SampleRepository(abc.ABC):
    """Logged predictions and outcomes, joined on ``request_id``; inserts are idempotent by event id."""

    @abc.abstractmethod
    def add_predictions(self, predictions: Sequence[Prediction]) -> Added:
        """Store new predictions (known event ids are ignored)."""

    @abc.abstractmethod
    def add_outcomes(self, outcomes: Sequence[Outcome]) -> Added:
        """Store new outcomes (first per kind and request wins)."""

    @abc.abstractmethod
    def window(self, model: str, version: str, routes: Sequence[str], since: datetime) -> list[Observation]:
        """Predictions of one version on these routes with ``event_time >= since``, with joined outcomes."""

    @abc.abstractmethod
    def recent_instances(self, model: str, limit: int) -> list[dict[str, Any]]:
        """The instances of the newest ``limit`` answered (non-shadow) predictions of ``model``."""


class UnitOfWork(KernelUnitOfWork):
    deployments: DeploymentRepository
    audit: AuditRepository
    verdicts: VerdictRepository
    samples: SampleRepository


UnitOfWorkFactory = Callable[[], UnitOfWork]


class EngineClient(abc.ABC):
    """The inference engine, as comparative_eval needs it."""

    @abc.abstractmethod
    def serving_version(self, model: str) -> str | None:
        """The version the engine serves for ``model`` now, ``None`` if it serves none (404)."""

    @abc.abstractmethod
    def validate(
        self, model: str, version: str, instances: list[dict[str, Any]], latency_budget_ms: float
    ) -> ValidationReport:
        """Ask the engine to load ``version`` and score ``instances`` within the budget (nothing is routed)."""

    @abc.abstractmethod
    def push_routing(self, routing: RoutingRecord) -> None:
        """Apply a routing record now; raises a ``StrataError`` when the engine does not take it."""

    def close(self) -> None:
        """Release connections."""


class ModelLocks(abc.ABC):
    @abc.abstractmethod
    def hold(self, model: str) -> AbstractContextManager[None]:
        """Hold the change lock of ``model``; raises ``LockTimeout`` when not obtained in time."""

    def close(self) -> None:
        """Release connections."""


class TemplateSource(abc.ABC):
    @abc.abstractmethod
    def template(self, model: str) -> AnalysisTemplate:
        """The analysis template of ``model`` (its own file, else the default); ``InvalidTemplate`` if malformed."""

    @abc.abstractmethod
    def check_all(self) -> list[str]:
        """Load every template; return their names (raises ``InvalidTemplate`` on the first malformed one)."""


class SampleFiles(abc.ABC):
    @abc.abstractmethod
    def instances(self, model: str) -> tuple[list[dict[str, Any]], str]:
        """Fallback validation instances of ``model`` and where they came from (empty list when none)."""
