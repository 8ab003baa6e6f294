"""Training over fakes at the lake and registry ports: time split, metrics, tags, refusals, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from inference_fakes import FakeLake, FakeRegistry
from inference_synthetic import FEATURES, make_training_set, write_training_set

from inference_engine.errors import ModelNotFound, TrainingDataError
from inference_engine.training import TrainingOptions, fit_booster, train_model
from inference_engine.training_data import read_training_set, split_by_time

OPTIONS = TrainingOptions(min_training_rows=100, min_holdout_rows=10)


@pytest.fixture(scope="module")
def training_table() -> pa.Table:
    return make_training_set(1200, days=14)


@pytest.fixture
def lake(tmp_path: Path, training_table: pa.Table) -> FakeLake:
    return FakeLake(write_training_set(tmp_path / "lake" / "processed" / "etd_training_set", training_table))


def test_trains_evaluates_and_registers_a_version_with_the_contract_tags(lake: FakeLake, tmp_path: Path) -> None:
    registry = FakeRegistry(tmp_path / "registry")

    summary = train_model("etd", lake, registry, OPTIONS)

    assert summary["model"] == "etd" and summary["version"] == 1
    assert summary["data_version"] == "processed.etd_training_set@v4"
    assert summary["rows_train"] + summary["rows_holdout"] == 1200
    assert 0 < summary["mae"] <= summary["rmse"]
    assert summary["mae"] < summary["baseline_mae"]  # the features carry signal the restaurant mean lacks
    tags = registry.published[0].tags
    assert json.loads(tags["features"]) == FEATURES
    assert "@restaurant_stats:avg_prep_minutes_7d" in json.loads(tags["canonical_features"])
    assert float(tags["metric_mae"]) == pytest.approx(summary["mae"], abs=1e-3)
    assert {"metric_rmse", "metric_p90_abs_error", "baseline_mae", "data_version"} <= tags.keys()


def test_the_feature_set_stored_beside_the_training_set_travels_with_the_model(lake: FakeLake, tmp_path: Path) -> None:
    feature_set = {"model": "etd", "features": ["@restaurant_stats:avg_prep_minutes_7d"], "derived": {}}
    location = tmp_path / "lake" / "processed" / "etd_training_set"
    (location / "_feature_set.json").write_text(json.dumps(feature_set))
    registry = FakeRegistry(tmp_path / "registry")

    train_model("etd", lake, registry, OPTIONS)

    assert json.loads(registry.published[0].tags["feature_set"]) == feature_set


def test_the_held_out_window_is_the_last_days_of_placed_at(lake: FakeLake) -> None:
    split = split_by_time(read_training_set(lake.location), holdout_days=7)

    assert str(split.holdout_start) == "2024-03-08T00:00:00.000000"
    assert split.train.placed_at.max() < split.holdout_start <= split.holdout.placed_at.min()


def test_same_data_and_seed_give_identical_predictions(lake: FakeLake) -> None:
    data = read_training_set(lake.location)

    first, _ = fit_booster(data, OPTIONS)
    second, _ = fit_booster(read_training_set(lake.location), OPTIONS)

    assert np.array_equal(first.inplace_predict(data.x), second.inplace_predict(data.x))


def test_too_little_data_is_refused_with_the_reason(tmp_path: Path, training_table: pa.Table) -> None:
    lake = FakeLake(write_training_set(tmp_path / "small", training_table.slice(0, 150)))
    registry = FakeRegistry(tmp_path / "registry")

    with pytest.raises(TrainingDataError, match="too small"):
        train_model("etd", lake, registry, TrainingOptions(min_training_rows=100, min_holdout_rows=10))
    assert registry.published == []


def test_a_training_set_without_label_is_refused_naming_it(tmp_path: Path, training_table: pa.Table) -> None:
    lake = FakeLake(write_training_set(tmp_path / "nolabel", training_table.drop_columns(["label"])))

    with pytest.raises(TrainingDataError, match="label"):
        train_model("etd", lake, FakeRegistry(tmp_path / "registry"), OPTIONS)


def test_an_empty_table_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    with pytest.raises(TrainingDataError, match="no Parquet files"):
        train_model("etd", FakeLake(tmp_path / "empty"), FakeRegistry(tmp_path / "registry"), OPTIONS)


def test_an_unknown_model_has_no_trainer(lake: FakeLake, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="no trainer"):
        train_model("chatbot", lake, FakeRegistry(tmp_path / "registry"), OPTIONS)
