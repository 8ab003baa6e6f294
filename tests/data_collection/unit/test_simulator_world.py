"""The simulator: deterministic, right-sized, and its catalog agrees with its events."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest

from data_collection.domain.events import ORDER_DELIVERED_TOPIC, ORDER_PLACED_TOPIC
from data_collection.errors import UnknownSize
from data_collection.simulator import Simulation, simulate, size_named
from data_collection.simulator.events import event_batches
from data_collection.simulator.names import COUNTRIES
from data_collection.simulator.world import generate_world


def _events_by_topic(simulation: Simulation) -> dict[str, list[dict]]:
    by_topic: dict[str, list[dict]] = {ORDER_PLACED_TOPIC: [], ORDER_DELIVERED_TOPIC: []}
    for topic, events in event_batches(simulation.world, simulation.orders, chunk_size=1_000):
        by_topic[topic].extend(events)
    return by_topic


def _serialised(simulation: Simulation) -> bytes:
    lines = [json.dumps(e) for _, events in event_batches(simulation.world, simulation.orders) for e in events]
    return "\n".join(lines).encode() + json.dumps(simulation.world.catalog()).encode()


def test_same_seed_gives_byte_identical_events_and_catalog() -> None:
    first = simulate(size_named("tiny"), seed=11)
    again = simulate(size_named("tiny"), seed=11)
    other = simulate(size_named("tiny"), seed=12)
    assert _serialised(first) == _serialised(again)
    assert _serialised(first) != _serialised(other)


def test_tiny_world_has_the_documented_size(tiny_simulation: Simulation) -> None:
    catalog = tiny_simulation.world.catalog()
    assert (len(catalog["countries"]), len(catalog["cities"]), len(catalog["restaurants"])) == (3, 6, 30)
    events = _events_by_topic(tiny_simulation)
    assert len(events[ORDER_PLACED_TOPIC]) == len(events[ORDER_DELIVERED_TOPIC]) == 3_000
    days = {e["placed_at"][:10] for e in events[ORDER_PLACED_TOPIC]}
    assert len(days) == 21 and min(days) == "2025-01-06"


def test_full_world_is_large_with_real_country_names() -> None:
    full = size_named("full")
    assert full.countries >= 60 and full.cities >= 400 and full.orders >= 1_000_000 and full.days >= 30
    world = generate_world(np.random.default_rng(7), full)
    assert len(set(world.city_names)) == 400  # generated names are unique
    assert world.countries == list(COUNTRIES[:60]) and ("FR", "France") in world.countries


def test_unknown_size_names_the_choices() -> None:
    with pytest.raises(UnknownSize, match="expected one of tiny, small, full"):
        size_named("huge")


def test_menus_have_5_to_15_priced_items(tiny_simulation: Simulation) -> None:
    for restaurant in tiny_simulation.world.catalog()["restaurants"]:
        assert 5 <= len(restaurant["menu"]) <= 15
        assert all(item["price"] > 0 for item in restaurant["menu"])
        assert len({item["item_id"] for item in restaurant["menu"]}) == len(restaurant["menu"])
        assert restaurant["menu"][0]["item_id"] == f"i-{restaurant['id'][2:]}-01"


def test_events_refer_to_the_catalog_consistently(tiny_simulation: Simulation) -> None:
    catalog = tiny_simulation.world.catalog()
    countries = {c["code"] for c in catalog["countries"]}
    city_country = {c["id"]: c["country_code"] for c in catalog["cities"]}
    restaurants = {r["id"]: r for r in catalog["restaurants"]}
    assert set(city_country.values()) <= countries
    for event in _events_by_topic(tiny_simulation)[ORDER_PLACED_TOPIC]:
        restaurant = restaurants[event["restaurant_id"]]
        assert (event["city_id"], event["country_code"]) == (restaurant["city_id"], restaurant["country_code"])
        assert city_country[event["city_id"]] == event["country_code"]
        prices = [item["price"] for item in restaurant["menu"]]
        n = event["n_items"]
        assert n * min(prices) - 1e-6 <= event["subtotal"] <= n * max(prices) + 1e-6


def test_each_order_is_placed_once_then_delivered_once(tiny_simulation: Simulation) -> None:
    events = _events_by_topic(tiny_simulation)
    placed = {e["order_id"]: e for e in events[ORDER_PLACED_TOPIC]}
    delivered = {e["order_id"]: e for e in events[ORDER_DELIVERED_TOPIC]}
    assert placed.keys() == delivered.keys()
    for order_id, done in delivered.items():
        assert done["placed_at"] == placed[order_id]["placed_at"] and done["event_time"] == done["delivered_at"]
        assert done["restaurant_id"] == placed[order_id]["restaurant_id"]
    event_ids = [e["event_id"] for topic in events.values() for e in topic]
    assert len(set(event_ids)) == len(event_ids)


def test_each_topic_is_in_event_time_order(tiny_simulation: Simulation) -> None:
    for events in _events_by_topic(tiny_simulation).values():
        times = [e["event_time"] for e in events]
        assert times == sorted(times)


def test_label_is_minutes_from_placed_to_delivered(tiny_simulation: Simulation) -> None:
    for event in _events_by_topic(tiny_simulation)[ORDER_DELIVERED_TOPIC]:
        elapsed = datetime.fromisoformat(event["delivered_at"]) - datetime.fromisoformat(event["placed_at"])
        assert event["delivery_minutes"] == pytest.approx(elapsed.total_seconds() / 60, abs=1e-3)
        assert 8 <= event["delivery_minutes"] <= 150
        assert 2 <= event["prep_minutes"] <= event["delivery_minutes"]


def test_start_date_moves_the_whole_period() -> None:
    simulation = simulate(size_named("tiny"), seed=7, start=date(2024, 3, 1))
    first = next(events for topic, events in event_batches(simulation.world, simulation.orders))[0]
    assert first["placed_at"].startswith("2024-03-01")
    assert str(simulation.orders.placed_at.max())[:10] == "2024-03-21"  # 21 days
