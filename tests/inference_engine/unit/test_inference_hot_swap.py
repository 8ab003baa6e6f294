"""Reload swaps the served model atomically: a request already running finishes on the version it started with."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from inference_fakes import FakeRegistry

from inference_engine.bootstrap import Dependencies, bootstrap
from inference_engine.domain.models import ModelArtifact
from inference_engine.domain.signature import Instance
from inference_engine.ports import ModelRuntime
from inference_engine.runtimes import create_runtime
from inference_engine.settings import Settings

INSTANCE = {"a__x": 1.0, "a__y": 2.0, "b__z": 3.0}


class GatedRuntime(ModelRuntime):
    """Wraps the real runtime; version 1 waits at a gate once it has started predicting (a slow request)."""

    def __init__(self, artifact: ModelArtifact, started: threading.Event, gate: threading.Event) -> None:
        super().__init__(artifact)
        self._inner = create_runtime(artifact)
        self._started, self._gate = started, gate

    def load(self) -> None:
        self._inner.load()

    def predict(self, instances: Sequence[Instance]) -> list[float]:
        is_the_slow_request = self.artifact.model_version.version == 1 and len(instances) == 2
        if is_the_slow_request and not self._started.is_set():
            self._started.set()
            self._gate.wait(5)
        return self._inner.predict(instances)


def serving(registry: FakeRegistry, tmp_path: Path, warmup_predictions: int = 1, **overrides: object) -> Dependencies:
    """The engine's serving parts as its composition root wires them, over the fake registry."""
    settings = Settings(var_dir=tmp_path / "var", models=["etd"], warmup_predictions=warmup_predictions,
                        prediction_log=False, routing_poll_seconds=0)  # fmt: skip
    return bootstrap(settings, registry=registry, **overrides)  # type: ignore[arg-type]


def test_in_flight_request_finishes_on_the_old_model_while_new_ones_get_the_new(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    started, gate = threading.Event(), threading.Event()
    service = serving(registry, tmp_path, runtime_factory=lambda artifact: GatedRuntime(artifact, started, gate))
    assert service.routing_table.load_configured()
    slow_result: list[object] = []
    slow = threading.Thread(
        target=lambda: slow_result.append(service.predictor.predict("etd", {"instances": [INSTANCE, INSTANCE]}))
    )
    slow.start()
    assert started.wait(5)

    registry.set_alias("etd", "production", 2)
    assert service.routing_table.reload("etd").version == 2
    fresh = service.predictor.predict("etd", {"instances": [INSTANCE]})
    gate.set()
    slow.join(5)

    assert (fresh.version, fresh.predictions) == (2, pytest.approx([20.0], abs=0.01))
    old = slow_result[0]
    assert (old.version, old.predictions) == (1, pytest.approx([10.0, 10.0], abs=0.01))  # type: ignore[attr-defined]
    assert [m.version for m in service.routing_table.list_models()] == [2]


def test_reload_without_a_moved_alias_keeps_the_loaded_model(registry: FakeRegistry, tmp_path: Path) -> None:
    service = serving(registry, tmp_path, warmup_predictions=0)
    service.routing_table.load_configured()
    fetches = registry.fetches

    assert service.routing_table.reload("etd").version == 1
    assert registry.fetches == fetches
