"""The routing record and its decisions: validation naming the field, the sticky canary split, node pins."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from inference_engine.domain.routing import RoutingRecord, pinned_version
from inference_engine.routing.errors import InvalidRoutingRecord

KEYS = [f"customer-{i}" for i in range(10_000)]
VALID: dict[str, Any] = {
    "model": "etd",
    "revision": 3,
    "stable_version": 1,
    "candidate_version": 2,
    "mode": "canary",
    "weight": 10,
    "node_pins": {},
}


def canary(weight: float) -> RoutingRecord:
    return RoutingRecord("etd", 1, 1, 2, "canary", weight)


def test_the_same_key_always_gets_the_same_route_at_the_same_weight() -> None:
    record = canary(30)
    first = [record.route(key) for key in KEYS[:500]]

    assert [canary(30).route(key) for key in KEYS[:500]] == first
    assert set(first) == {"stable", "canary"}


def test_raising_the_weight_only_moves_keys_from_stable_to_canary() -> None:
    weights = [0, 1, 5, 10, 25, 50, 75, 99, 100]
    routes = {weight: {key: canary(weight).route(key) for key in KEYS} for weight in weights}

    for lower, higher in itertools.pairwise(weights):
        moved_back = [key for key in KEYS if routes[lower][key] == "canary" and routes[higher][key] == "stable"]
        assert moved_back == [], f"{len(moved_back)} keys left the canary when the weight rose {lower}->{higher}"
    assert set(routes[0].values()) == {"stable"}
    assert set(routes[100].values()) == {"canary"}


@pytest.mark.parametrize("weight", [1, 5, 10, 50, 90])
def test_the_canary_share_over_10k_keys_is_close_to_the_weight(weight: int) -> None:
    share = sum(canary(weight).route(key) == "canary" for key in KEYS) / len(KEYS) * 100

    assert abs(share - weight) < 1.5


@pytest.mark.parametrize("mode", ["shadow", "full"])
def test_only_a_canary_sends_traffic_to_the_candidate(mode: str) -> None:
    record = RoutingRecord("etd", 1, 1, 2, mode, 100)

    assert {record.route(key) for key in KEYS[:1000]} == {"stable"}


def test_a_valid_record_parses_and_ignores_the_fields_routing_does_not_use() -> None:
    record = RoutingRecord.from_wire(
        {**VALID, "step": 1, "actor": "ops", "stable_version": "1", "candidate_version": "2"}
    )

    assert record == RoutingRecord("etd", 3, 1, 2, "canary", 10, {})
    assert record.versions() == {1, 2}
    assert RoutingRecord.from_wire({**VALID, "mode": "full", "candidate_version": None}).versions() == {1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": "chatbot"}, "model"),
        ({"revision": 0}, "revision"),
        ({"revision": True}, "revision"),
        ({"stable_version": "latest"}, "stable_version"),
        ({"candidate_version": -2}, "candidate_version"),
        ({"candidate_version": None}, "candidate_version"),  # a canary needs a candidate
        ({"candidate_version": 1}, "candidate_version"),  # ... other than the stable one
        ({"mode": "blue-green"}, "mode"),
        ({"weight": 101}, "weight"),
        ({"weight": "10"}, "weight"),
        ({"node_pins": ["country_code=NL"]}, "node_pins"),
        ({"node_pins": {"country_code=NL": "x"}}, "node_pins.country_code=NL"),
    ],
)
def test_a_bad_record_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRoutingRecord) as error:
        RoutingRecord.from_wire({**VALID, **change}, "etd")

    assert error.value.field == field
    assert error.value.status == 400


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRoutingRecord) as error:
        RoutingRecord.from_wire([VALID], "etd")

    assert error.value.field == "body"


def test_a_pin_holds_its_node_and_every_node_below_it() -> None:
    pins = {"country_code=NL": 1, "country_code=PT/city_id=c-opo": 3}

    assert pinned_version(pins, "country_code=NL") == 1
    assert pinned_version(pins, "country_code=NL/city_id=c-ams") == 1
    assert pinned_version(pins, "country_code=PT/city_id=c-opo") == 3
    assert pinned_version(pins, "country_code=PT") is None
    assert pinned_version(pins, "global") is None
    assert pinned_version({"global": 4}, "country_code=FR/city_id=c-par") == 4
    # a prefix of a value is not an ancestor
    assert pinned_version({"country_code=N": 1}, "country_code=NL") is None
