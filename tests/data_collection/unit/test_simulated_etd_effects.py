"""The documented effects of the ETD generative model are really in the data (small world, seed 7)."""

from __future__ import annotations

import numpy as np

from data_collection.simulator import Simulation


def _group_means(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    counts = np.bincount(keys)
    return np.bincount(keys, values)[counts > 0] / counts[counts > 0]


def _hours(simulation: Simulation) -> np.ndarray:
    return (simulation.orders.placed_at.astype("datetime64[h]").astype(np.int64)) % 24


def test_cities_and_countries_differ_in_mean_delivery_time(small_simulation: Simulation) -> None:
    world, orders = small_simulation.world, small_simulation.orders
    city = world.restaurant_city[orders.restaurant]
    city_means = _group_means(city, orders.delivery_minutes)
    country_means = _group_means(world.city_country[city], orders.delivery_minutes)
    assert city_means.max() - city_means.min() > 15
    assert country_means.max() - country_means.min() > 5


def test_rush_hours_are_slower(small_simulation: Simulation) -> None:
    hours, minutes = _hours(small_simulation), small_simulation.orders.delivery_minutes
    dinner = minutes[(hours == 19) | (hours == 20)].mean()
    afternoon = minutes[(hours == 15) | (hours == 16)].mean()
    assert dinner > afternoon * 1.15


def test_demand_peaks_at_lunch_and_dinner_and_on_weekends(small_simulation: Simulation) -> None:
    per_hour = np.bincount(_hours(small_simulation), minlength=24)
    assert per_hour[19] > per_hour[16] * 2 and per_hour[12] > per_hour[10] * 2 and per_hour[4] < per_hour[12] / 20
    days, orders_per_day = np.unique(small_simulation.orders.placed_at.astype("datetime64[D]"), return_counts=True)
    weekday = (days.astype(np.int64) + 3) % 7  # Monday = 0 (1970-01-01 was a Thursday)
    mean_per_weekday = _group_means(weekday, orders_per_day.astype(float))
    assert mean_per_weekday[5] > mean_per_weekday[1] * 1.2  # Saturday vs Tuesday


def test_bigger_baskets_take_longer_to_prepare(small_simulation: Simulation) -> None:
    orders = small_simulation.orders
    assert orders.prep_minutes[orders.n_items >= 4].mean() > orders.prep_minutes[orders.n_items == 1].mean() * 1.15


def test_restaurant_mean_is_a_decent_baseline_that_beats_the_global_mean(small_simulation: Simulation) -> None:
    orders = small_simulation.orders
    day = (orders.placed_at - orders.placed_at[0]).astype("timedelta64[D]").astype(np.int64)
    train, test = day < 23, day >= 23
    global_mean = orders.delivery_minutes[train].mean()
    n = len(small_simulation.world.restaurant_names)
    sums = np.bincount(orders.restaurant[train], orders.delivery_minutes[train], minlength=n)
    counts = np.bincount(orders.restaurant[train], minlength=n)
    restaurant_mean = np.where(counts > 0, sums / np.maximum(counts, 1), global_mean)
    global_mae = np.abs(orders.delivery_minutes[test] - global_mean).mean()
    restaurant_mae = np.abs(orders.delivery_minutes[test] - restaurant_mean[orders.restaurant[test]]).mean()
    assert restaurant_mae < global_mae * 0.7
