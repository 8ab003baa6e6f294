"""The same registry adapter on PostgreSQL: only the URI changes. Uses a fresh database, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from inference_fakes import TINY_FEATURES, learned_booster

from inference_engine.adapters.mlflow_registry import MlflowRegistry
from inference_engine.ports import TrainedCandidate
from inference_engine.runtimes import create_runtime

pytestmark = pytest.mark.integration

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _admin_connection() -> object:
    import psycopg

    return psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)


@pytest.fixture
def database_uri() -> Iterator[str]:
    try:
        admin = _admin_connection()
    except Exception as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}")
    name = f"strata_test_mlflow_{uuid.uuid4().hex[:10]}"
    with admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
        try:
            yield f"{SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]


def test_register_alias_and_load_a_model_on_postgresql(database_uri: str, tmp_path: Path) -> None:
    registry = MlflowRegistry(database_uri, tmp_path / "artifacts", "strata-test")
    booster = learned_booster()
    candidate = TrainedCandidate(
        name="etd",
        framework="xgboost",
        model=booster,
        features=TINY_FEATURES,
        params={"max_depth": 4},
        metrics={"mae": 1.5},
        tags={"features": '["a__x", "a__y", "b__z"]', "framework": "xgboost", "metric_mae": "1.5000"},
        input_example=[{"a__x": 1.0, "a__y": 2.0, "b__z": 3.0}],
    )

    published = registry.publish(candidate)
    registry.set_alias("etd", "production", published.version)
    serving = registry.version_by_alias("etd", "production")
    (tmp_path / "download").mkdir()
    runtime = create_runtime(registry.fetch(serving, tmp_path / "download"))
    runtime.load()

    assert serving.version == published.version == 1
    assert serving.features == TINY_FEATURES
    instance = {"a__x": 0.5, "a__y": None, "b__z": -1.0}
    expected = booster.inplace_predict([[0.5, float("nan"), -1.0]]).tolist()
    assert runtime.predict([instance]) == expected
