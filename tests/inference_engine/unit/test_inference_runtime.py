"""The XGBoost runtime: signature checks, missing values, feature order, agreement with the booster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from inference_fakes import TINY_FEATURES, learned_booster

from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.errors import InvalidInstances
from inference_engine.ports import ModelRuntime
from inference_engine.runtimes import create_runtime


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    return learned_booster()


@pytest.fixture
def runtime(booster: xgb.Booster, tmp_path: Path) -> ModelRuntime:
    path = tmp_path / "model.ubj"
    booster.save_model(str(path))
    loaded = create_runtime(ModelArtifact(ModelVersion("etd", 1, TINY_FEATURES), path))
    loaded.load()
    return loaded


def test_predictions_match_the_booster_on_the_same_rows(runtime: ModelRuntime, booster: xgb.Booster) -> None:
    rows = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0], [-2.0, 1.0, 0.0]], dtype=np.float32)
    instances = [dict(zip(TINY_FEATURES, map(float, row), strict=True)) for row in rows]

    assert runtime.predict(instances) == pytest.approx(booster.inplace_predict(rows).tolist(), abs=0)


def test_the_order_of_keys_in_an_instance_does_not_matter(runtime: ModelRuntime) -> None:
    forward = {"a__x": 1.0, "a__y": -2.0, "b__z": 0.5}
    backward = {"b__z": 0.5, "a__y": -2.0, "a__x": 1.0}

    assert runtime.predict([forward]) == runtime.predict([backward])


def test_null_is_a_missing_value_like_nan(runtime: ModelRuntime, booster: xgb.Booster) -> None:
    expected = booster.inplace_predict(np.array([[np.nan, 1.0, 2.0]], dtype=np.float32), missing=np.nan)

    predicted = runtime.predict([{"a__x": None, "a__y": 1, "b__z": 2}])

    assert predicted == pytest.approx(expected.tolist(), abs=0)
    assert predicted != runtime.predict([{"a__x": 0.0, "a__y": 1, "b__z": 2}])


def test_unknown_extra_fields_are_ignored(runtime: ModelRuntime) -> None:
    plain = {"a__x": 1.0, "a__y": 2.0, "b__z": 3.0}

    assert runtime.predict([{**plain, "restaurant_id": "r-000001", "extra": [1]}]) == runtime.predict([plain])


def test_a_missing_feature_is_a_bad_request_naming_it(runtime: ModelRuntime) -> None:
    with pytest.raises(InvalidInstances) as raised:
        runtime.predict([{"a__x": 1, "a__y": 2, "b__z": 3}, {"a__x": 1, "b__z": 3}])

    assert raised.value.status == 400
    assert raised.value.field == "instances.1.a__y"
    assert "a__y" in raised.value.message


@pytest.mark.parametrize("value", ["12", True, [1.0], {"v": 1}])
def test_a_non_numeric_value_is_a_bad_request_naming_the_field(runtime: ModelRuntime, value: object) -> None:
    with pytest.raises(InvalidInstances) as raised:
        runtime.predict([{"a__x": 1, "a__y": value, "b__z": 3}])

    assert raised.value.field == "instances.0.a__y"
    assert "number or null" in raised.value.message


def test_warm_up_predicts_without_a_request(runtime: ModelRuntime) -> None:
    runtime.warm_up(3)  # all features missing: must not raise

    assert runtime.metadata().features == TINY_FEATURES
