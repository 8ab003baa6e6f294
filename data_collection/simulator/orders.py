"""Food orders over N days: when they are placed, what is in them, and how long they take (the ETD label)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from data_collection.simulator import etd_model
from data_collection.simulator.world import World

SECONDS_PER_DAY = 86_400
MAX_ITEMS = 10


@dataclass(frozen=True)
class Orders:
    """One entry per order, sorted by placed_at; order i has id ``o-{i+1:08d}``."""

    restaurant: np.ndarray
    placed_at: np.ndarray  # datetime64[s], the city's local wall-clock time
    delivered_at: np.ndarray  # datetime64[s]
    n_items: np.ndarray
    subtotal: np.ndarray
    prep_minutes: np.ndarray
    delivery_minutes: np.ndarray  # exactly (delivered_at - placed_at) / 60, rounded to 1/1000 min

    def __len__(self) -> int:
        return len(self.restaurant)


def generate_orders(rng: np.random.Generator, world: World, n_orders: int, days: int, start: date) -> Orders:
    placed_at = np.sort(_placement_times(rng, n_orders, days, start))
    restaurant = rng.choice(len(world.restaurant_names), size=n_orders, p=world.restaurant_popularity)
    n_items = np.minimum(1 + rng.poisson(1.6, size=n_orders), MAX_ITEMS)
    subtotal = _subtotals(rng, world, restaurant, n_items)
    prep, delivery = durations(rng, world, restaurant, n_items, placed_at, start, days)
    delivery_seconds = np.round(delivery * 60).astype(np.int64)
    return Orders(
        restaurant=restaurant,
        placed_at=placed_at,
        delivered_at=placed_at + delivery_seconds.astype("timedelta64[s]"),
        n_items=n_items,
        subtotal=subtotal,
        prep_minutes=np.minimum(np.round(prep, 2), np.round(delivery_seconds / 60, 3)),
        delivery_minutes=np.round(delivery_seconds / 60, 3),
    )


def _placement_times(rng: np.random.Generator, n_orders: int, days: int, start: date) -> np.ndarray:
    """Daily (lunch/dinner) and weekly seasonality: pick a day by weekday weight, an hour by hourly weight."""
    first = np.datetime64(start.isoformat(), "D")
    weekdays = (np.arange(days) + start.weekday()) % 7
    day_weights = etd_model.WEEKDAY_DEMAND[weekdays]
    day = rng.choice(days, size=n_orders, p=day_weights / day_weights.sum())
    hourly = etd_model.HOURLY_DEMAND
    hour = rng.choice(24, size=n_orders, p=hourly / hourly.sum())
    second = rng.integers(0, 3600, size=n_orders)
    offsets = day.astype(np.int64) * SECONDS_PER_DAY + hour * 3600 + second
    return first.astype("datetime64[s]") + offsets.astype("timedelta64[s]")


def _subtotals(rng: np.random.Generator, world: World, restaurant: np.ndarray, n_items: np.ndarray) -> np.ndarray:
    """Sum of n_items menu prices, each item drawn uniformly (with repetition) from the restaurant's menu."""
    owner = np.repeat(restaurant, n_items)
    pick = np.floor(rng.random(len(owner)) * world.menu.item_count()[owner]).astype(np.int64)
    prices = world.menu.prices[world.menu.offsets[owner] + pick]
    starts = np.concatenate([[0], np.cumsum(n_items)[:-1]])
    return np.round(np.add.reduceat(prices, starts), 2)


def durations(
    rng: np.random.Generator,
    world: World,
    restaurant: np.ndarray,
    n_items: np.ndarray,
    placed_at: np.ndarray,
    start: date,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    seconds = (placed_at - np.datetime64(start.isoformat(), "s")).astype(np.int64)
    day = seconds // SECONDS_PER_DAY
    hour = (seconds % SECONDS_PER_DAY) / 3600.0
    city = world.restaurant_city[restaurant]
    drift = etd_model.drift_factor(world.restaurant_drift_slope[restaurant], day, days)
    prep = etd_model.prep_minutes(rng, world.restaurant_base_prep[restaurant], drift, n_items, hour)
    travel = etd_model.travel_minutes(
        rng,
        world.city_base_travel[city],
        world.country_effect[world.city_country[city]],
        world.city_sensitivity[city],
        hour,
    )
    return prep, etd_model.delivery_minutes(rng, prep, travel)
