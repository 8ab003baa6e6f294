"""A model declared in model_specs/ is served without a setting: loaded by its first request or routing record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from inference_fakes import FakeRegistry, constant_booster

from inference_engine.bootstrap import Dependencies, bootstrap
from inference_engine.domain.routing import RoutingRecord
from inference_engine.errors import ModelNotFound
from inference_engine.routing.ports import RoutingSource
from inference_engine.serving.poller import RoutingPoller
from inference_engine.settings import Settings
from strata_kernel.errors import NotFound

BODY = {"instances": [{"a__x": 1.0, "a__y": 2.0, "b__z": 3.0}]}


@pytest.fixture
def engine(registry: FakeRegistry, tmp_path: Path) -> Dependencies:
    """Configured: etd. Declared besides: fraud (registered, v1 in production, v2 unaliased) and churn (no version)."""
    specs = tmp_path / "model_specs"
    specs.mkdir()
    for name in ("etd", "fraud", "churn"):
        (specs / f"{name}.yaml").write_text(f"name: {name}\n")  # the engine only needs to know the name
    registry.add("fraud", constant_booster(0.3))
    registry.add("fraud", constant_booster(0.7))
    registry.set_alias("fraud", "production", 1)
    settings = Settings(var_dir=tmp_path / "var", models=["etd"], model_specs_dir=specs, prediction_log=False,
                        routing_poll_seconds=0, warmup_predictions=1)  # fmt: skip
    return bootstrap(settings, registry=registry)


def predict(engine: Dependencies, model: str, key: str = "k") -> tuple[int, float]:
    prediction = engine.predictor.predict(model, BODY, routing_key=key, request_id="r-1")
    score = prediction.predictions[0]
    assert isinstance(score, float)
    return prediction.version, round(score, 1)


def test_readiness_waits_for_configured_models_only(engine: Dependencies) -> None:
    assert engine.routing_table.load_configured()
    assert engine.routing_table.readiness_problem() is None
    assert [m.name for m in engine.routing_table.list_models()] == ["etd"]
    assert engine.routing_table.served_names() == ("etd", "churn", "fraud")


def test_a_declared_model_is_loaded_by_its_first_request(engine: Dependencies) -> None:
    engine.routing_table.load_configured()

    assert predict(engine, "fraud") == (1, 0.3)
    assert sorted(m.name for m in engine.routing_table.list_models()) == ["etd", "fraud"]


def test_a_declared_model_takes_a_routing_record_before_any_request(engine: Dependencies) -> None:
    table = engine.routing_table
    table.apply_routing(RoutingRecord("fraud", 1, 1, 2, "canary", 100))

    assert predict(engine, "fraud") == (2, 0.7)
    assert table.routing("fraud")["revision"] == 1


def test_the_poller_converges_declared_models_on_comparative_evaluations_routing(engine: Dependencies) -> None:
    class Records(RoutingSource):
        def __init__(self) -> None:
            self.asked: list[str] = []

        def current(self, model: str) -> dict[str, Any] | None:
            self.asked.append(model)
            record = RoutingRecord("fraud", 3, 2, None, "full", 0)
            return record.to_wire() if model == "fraud" else None

    source = Records()
    changed = RoutingPoller(engine.routing_table, source, interval_seconds=1).poll_once()

    assert changed == ["fraud"] and sorted(source.asked) == ["churn", "etd", "fraud"]
    assert predict(engine, "fraud") == (2, 0.7)


def test_undeclared_and_unregistered_models_are_clear_404s(engine: Dependencies) -> None:
    with pytest.raises(ModelNotFound, match=r"neither configured nor declared .*served: etd, churn, fraud"):
        predict(engine, "weather")
    with pytest.raises(ModelNotFound):
        engine.routing_table.apply_routing(RoutingRecord("weather", 1, 1))
    with pytest.raises(NotFound, match="no registered model named churn"):  # declared, never trained
        predict(engine, "churn")
    assert engine.routing_table.readiness_problem() is not None  # etd was never loaded: readiness is about etd
    assert "churn" not in (engine.routing_table.readiness_problem() or "")
