"""A model is a declaration: model_specs/<name>.yaml parsed and checked once, errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from strata_kernel.contracts.model_spec import InvalidModelSpec, ModelSpec, task_of
from strata_kernel.model_specs import UnknownModel, declared_models, default_specs_dir, load_model_spec

MINIMAL: dict[str, Any] = {
    "name": "trips",
    "spine": {"table": "raw.trips", "id": "trip_id", "time": "started_at", "time_zone": "America/Chicago"},
    "entities": ["station_id"],
    "context": {"name": "trip", "fields": {"bike_type": "string", "riders": "int64"}},
    "label": "minutes",
    "features": ["@trip:bike_type", "@stations:docks_free_1h"],
    "algorithm": "xgboost_regressor",
    "metric": "mae",
}


def _spec(**changes: Any) -> ModelSpec:
    return ModelSpec.from_mapping({**MINIMAL, **changes}, "trips.yaml")


def test_the_repository_declares_etd_with_everything_its_training_and_serving_need() -> None:
    etd = load_model_spec("etd", default_specs_dir())
    assert (etd.task, etd.partition_by, etd.holdout_days, etd.spine.time_zone) == (
        "regression", ("country_code", "city_id"), 7, "UTC")  # fmt: skip
    assert etd.request_columns() == ("restaurant_id", "placed_at", "n_items", "subtotal", "country_code", "city_id")
    assert etd.training_table == "processed.etd_training_set" and etd.baseline_mean_by == "restaurant_id"
    assert "etd" in declared_models(default_specs_dir())


def test_defaults_a_global_model_with_a_node_mean_baseline_and_a_seven_day_holdout() -> None:
    spec = _spec()
    assert (spec.partitioning, spec.baseline_mean_by, spec.holdout_days, spec.task) == (None, None, 7, "regression")
    assert spec.context_fields["bike_type"].categorical and not spec.context_fields["riders"].categorical
    assert task_of("logistic_regression") == task_of("xgboost_classifier") == "classification"


def test_a_query_spine_names_the_tables_it_reads() -> None:
    spine = {"query": "SELECT t.*, s.region FROM raw.trips t JOIN raw.stations s USING (station_id)",
             "id": "trip_id", "time": "started_at", "time_zone": "UTC"}  # fmt: skip
    assert _spec(spine=spine).spine.tables == ("raw.trips", "raw.stations")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"colour": "blue"}, "colour", "unknown field(s) colour"),
        ({"spine": None}, "spine", "spine: missing"),
        ({"spine": {**MINIMAL["spine"], "query": "SELECT 1"}}, "spine", "exactly one of table or query"),
        ({"spine": {**MINIMAL["spine"], "table": "gold.trips"}}, "spine.table", "'gold.trips' must be '<zone>.<name>'"),
        ({"spine": {**MINIMAL["spine"], "time_zone": "Chicago"}}, "spine.time_zone", "America/Chicago"),
        ({"entities": []}, "entities", "non-empty list"),
        ({"holdout": "7"}, "holdout", "whole days like '7d'"),
        ({"context": {"fields": {"riders": "decimal"}}}, "context.fields.riders", "type 'decimal' is not one of"),
        ({"context": {"fields": {"hour_of_day": "int64"}}}, "context.fields.hour_of_day", "computed from the nominal"),
        ({"partitioning": {"by": ["region"]}}, "partitioning.by.0", "must be an entity or a context field"),
        ({"partitioning": {"by": ["station_id"], "min_rows": 1}}, "partitioning.min_rows", "integer >= 2"),
        ({"label": "riders"}, "label", "cannot also be a request column"),
        ({"baseline": {"median_by": "x"}}, "baseline", "{mean_by: <column>}"),
        ({"features": []}, "features", "non-empty list"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_field(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidModelSpec) as refused:
        _spec(**changes)
    assert refused.value.field == field
    assert message in refused.value.message and refused.value.message.startswith("trips.yaml: ")


def test_an_undeclared_model_is_not_found_naming_the_declared_ones(tmp_path: Path) -> None:
    (tmp_path / "trips.yaml").write_text("name: trips\n")
    with pytest.raises(UnknownModel, match=r"model 'flights' is not declared .*declared: trips"):
        load_model_spec("flights", tmp_path)
    with pytest.raises(InvalidModelSpec, match=r"trips\.yaml: spine: missing"):
        load_model_spec("trips", tmp_path)
    (tmp_path / "other.yaml").write_text(
        "\n".join(f"{k}: {v!r}" if not isinstance(v, dict | list) else f"{k}: {v}" for k, v in MINIMAL.items())
    )
    with pytest.raises(InvalidModelSpec, match=r"name: 'trips' must be the file's name \('other'\)"):
        load_model_spec("other", tmp_path)
