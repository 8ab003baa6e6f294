"""Fakes at comparative_eval's ports (the engine client and the clock) and services wired on a temp store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from comparative_eval.adapters.sql_store import SqlDatabase
from comparative_eval.analysis import AnalysisService
from comparative_eval.bootstrap import bootstrap
from comparative_eval.metrics import EvalMetrics
from comparative_eval.ports import EngineClient, ValidationReport
from comparative_eval.services import DeploymentService
from comparative_eval.settings import Settings
from strata_kernel.contracts.routing import RoutingRecord
from strata_kernel.errors import NotFound, StrataError

START = datetime(2025, 3, 1, 12, 0, 0)

TEST_TEMPLATE = """
steps: [5, 25, 50, 100]
interval_seconds: 10
alpha: 0.05
latency_budget_ms: 50
min_samples: 40
rules:
  error_rate: {margin: 0.01}
  latency_p99: {max_ratio: 1.5}
  mae: {min_samples: 40, tolerance: 0.05}
"""


class FakeEngine(EngineClient):
    """The inference engine as comparative_eval sees it: serving versions, validation verdicts, pushed routing."""

    def __init__(self) -> None:
        self.serving: dict[str, str] = {"etd": "1"}
        self.known_versions: dict[str, set[str]] = {"etd": {"1", "2", "3", "4"}}
        self.refusals: dict[str, list[str]] = {}  # version -> problems
        self.push_error: StrataError | None = None
        self.pushed: list[dict[str, Any]] = []
        self.validated: list[tuple[str, str, int, float]] = []

    def serving_version(self, model: str) -> str | None:
        return self.serving.get(model)

    def validate(
        self, model: str, version: str, instances: list[dict[str, Any]], latency_budget_ms: float
    ) -> ValidationReport:
        if version not in self.known_versions.get(model, set()):
            raise NotFound(f"model {model} has no version {version}", code="version_not_found")
        self.validated.append((model, version, len(instances), latency_budget_ms))
        problems = self.refusals.get(version, [])
        return ValidationReport(ok=not problems, problems=problems, p99_ms=3.0, instances=len(instances))

    def push_routing(self, routing: RoutingRecord) -> None:
        if self.push_error is not None:
            raise self.push_error
        self.pushed.append(routing.to_wire())  # what the engine receives


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    deployments: DeploymentService
    analysis: AnalysisService
    engine: FakeEngine
    clock: FakeClock
    database: SqlDatabase
    metrics: EvalMetrics
    registry: CollectorRegistry
    templates_dir: Path
    samples_dir: Path


def write_samples(directory: Path, model: str = "etd", n: int = 5) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{model}.json").write_text(json.dumps([{"order__n_items": i + 1} for i in range(n)]))


def build_world(tmp_path: Path, database_url: str | None = None) -> World:
    """The services as comparative_eval's composition root wires them, on a temp store, a fake engine and clock."""
    templates_dir = tmp_path / "templates"
    templates_dir.mkdir(exist_ok=True)
    (templates_dir / "etd.yaml").write_text(TEST_TEMPLATE)
    samples_dir = tmp_path / "samples"
    write_samples(samples_dir)
    database = SqlDatabase(database_url or f"sqlite:///{tmp_path / 'ce.db'}")
    engine, clock = FakeEngine(), FakeClock()
    registry = CollectorRegistry()
    settings = Settings(var_dir=tmp_path / "var", templates_dir=templates_dir, validation_samples_dir=samples_dir,
                        lock_timeout_seconds=2.0, validation_sample_size=200, operator_token="test-token")  # fmt: skip
    deps = bootstrap(settings, registry=registry, uow_factory=database.unit_of_work, engine=engine, clock=clock)
    return World(deps.deployments, deps.analysis, engine, clock, database, deps.metrics, registry, templates_dir,
                 samples_dir)  # fmt: skip
