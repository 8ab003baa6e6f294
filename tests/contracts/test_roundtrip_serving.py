"""data_processing's generic online API as code: a caller's request is what the service parses, the service's answer
is what a caller reads; every instance is checked against its model's declaration, naming the bad field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from strata_kernel.contracts.model_spec import ModelSpec
from strata_kernel.contracts.serving import (
    FeatureRead,
    FeatureReadRequest,
    InvalidRequest,
    OnlinePredictRequest,
    OnlinePredictResponse,
    parse_instance,
)
from strata_kernel.contracts.wire import InvalidPayload

SPEC = ModelSpec.from_mapping(
    {
        "name": "trips",
        "spine": {"table": "raw.trips", "id": "trip_id", "time": "started_at", "time_zone": "America/Chicago"},
        "entities": ["station_id"],
        "context": {
            "name": "trip",
            "fields": {"bike_type": "string", "riders": "int64", "member": "bool", "fare": "float64"},
        },
        "label": "minutes",
        "features": ["@trip:bike_type"],
        "algorithm": "xgboost_regressor",
        "metric": "mae",
    },
    "trips.yaml",
)
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _wire(value: Any) -> Any:
    return json.loads(json.dumps(value))


def test_a_predict_request_round_trips_and_each_instance_is_typed_by_the_declaration() -> None:
    sent = OnlinePredictRequest([{"station_id": 17, "started_at": "2025-06-01T08:30:00", "bike_type": "e-bike",
                                  "riders": 2, "member": True, "fare": 3}])  # fmt: skip
    received = OnlinePredictRequest.from_wire(_wire(sent.to_wire()))
    instance = parse_instance(received.instances[0], SPEC, 0, NOW)
    assert instance.entities == {"station_id": "17"}  # keys travel as text
    assert instance.time == datetime(2025, 6, 1, 8, 30, tzinfo=timezone(timedelta(hours=-5))).astimezone(UTC)
    assert instance.context == {"bike_type": "e-bike", "riders": 2, "member": True, "fare": 3.0}
    # an instance without a time is asked for now; one with an offset keeps it
    assert parse_instance({"station_id": "s"}, SPEC, 0, NOW).time == NOW
    assert parse_instance({"station_id": "s", "started_at": "2025-06-01T08:30:00Z"}, SPEC, 0, NOW).time == datetime(
        2025, 6, 1, 8, 30, tzinfo=UTC)  # fmt: skip


@pytest.mark.parametrize(
    ("instance", "field"),
    [
        ({}, "instances.0.station_id"),
        ({"station_id": ""}, "instances.0.station_id"),
        ({"station_id": "s", "started_at": "yesterday"}, "instances.0.started_at"),
        ({"station_id": "s", "riders": 1.5}, "instances.0.riders"),
        ({"station_id": "s", "member": "yes"}, "instances.0.member"),
        ({"station_id": "s", "bike_type": 7}, "instances.0.bike_type"),
        ({"station_id": "s", "fare": float("nan")}, "instances.0.fare"),
        ({"station_id": "s", "colour": "red"}, "instances.0.colour"),
    ],
)
def test_a_bad_instance_is_a_400_naming_its_field(instance: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_instance(instance, SPEC, 0, NOW)
    assert refused.value.field == field and refused.value.status == 400


def test_a_time_without_offset_needs_a_declared_zone() -> None:
    undeclared = ModelSpec.from_mapping({**_declaration(), "spine": {"table": "raw.trips", "id": "trip_id",
                                                                     "time": "started_at"}}, "trips.yaml")  # fmt: skip
    with pytest.raises(InvalidRequest, match="has no offset and the model declares no time zone"):
        parse_instance({"station_id": "s", "started_at": "2025-06-01T08:30:00"}, undeclared, 0, NOW)


@pytest.mark.parametrize("local", ["2025-03-09T02:30:00", "2025-11-02T01:30:00"])
def test_a_wall_clock_time_the_zone_skips_or_repeats_needs_its_offset(local: str) -> None:
    """Chicago skips 02:00-02:59 on 9 March and shows 01:00-01:59 twice on 2 November: as the training join does,
    such a time is refused, not read on one side of the change by chance; with its offset it is one instant."""
    with pytest.raises(InvalidRequest, match="skips or repeats") as refused:
        parse_instance({"station_id": "s", "started_at": local}, SPEC, 0, NOW)
    assert refused.value.field == "instances.0.started_at"
    second = parse_instance({"station_id": "s", "started_at": "2025-11-02T01:30:00-06:00"}, SPEC, 0, NOW)
    assert second.time == datetime(2025, 11, 2, 7, 30, tzinfo=UTC)
    assert parse_instance({"station_id": "s", "started_at": "2025-11-02T03:30:00"}, SPEC, 0, NOW).time == datetime(
        2025, 11, 2, 9, 30, tzinfo=UTC)  # fmt: skip


@pytest.mark.parametrize("body", [{"instances": []}, {"instances": "x"}, {"instances": [1]}, {}])
def test_a_bad_envelope_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        OnlinePredictRequest.from_wire(body)


def test_a_predict_response_round_trips() -> None:
    sent = OnlinePredictResponse("trips", "3", [12.5, 7.0], [3600.0, None], ["global", "region=north"], "canary")
    assert OnlinePredictResponse.from_wire(_wire(sent.to_wire())) == sent
    with pytest.raises(InvalidPayload, match="predictions"):
        OnlinePredictResponse.from_wire({"model": "trips", "predictions": [None]})


def test_a_feature_read_round_trips_from_query_parameters() -> None:
    asked = FeatureReadRequest({"station_id": "s-1", "region_id": "north"}, ("@stations:docks_free_1h",), NOW)
    assert FeatureReadRequest.from_wire(_wire(asked.to_wire())) == asked
    only = FeatureReadRequest.from_wire({"entity": "r-1", "features": "@a:x, @a:y"})
    assert (only.entities, only.features, only.at) == ({"": "r-1"}, ("@a:x", "@a:y"), None)
    for bad in ({"features": "@a:x"}, {"entity": "r-1", "features": ""}, {"entity": "r-1", "features": "@a:x",
                                                                          "at": "soon"}):  # fmt: skip
        with pytest.raises(InvalidRequest):
            FeatureReadRequest.from_wire(bad)
    answer = FeatureRead({"station_id": "s-1"}, {"@stations:docks_free_1h": 4}, {"stations": NOW.isoformat()}, NOW)
    assert FeatureRead.from_wire(_wire(answer.to_wire())) == answer


def _declaration() -> dict[str, Any]:
    return {"name": "trips", "entities": ["station_id"], "label": "minutes", "features": ["@trip:hour_of_day"],
            "algorithm": "xgboost_regressor", "metric": "mae"}  # fmt: skip
