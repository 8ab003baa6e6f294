"""The simulated world: countries -> cities -> restaurants with cuisines and menus, plus their ETD effects.

Everything is drawn from one ``numpy.random.Generator`` in a fixed order, so a seed gives the same world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from data_collection.simulator import etd_model
from data_collection.simulator.names import (
    CITY_MIDDLES,
    CITY_PREFIXES,
    CITY_SUFFIXES,
    COUNTRIES,
    CUISINES,
    RESTAURANT_OPENERS,
)
from data_collection.simulator.sizes import WorldSize

MIN_MENU_ITEMS, MAX_MENU_ITEMS = 5, 15
CITY_BASE_TRAVEL_MINUTES = 16.0


@dataclass(frozen=True)
class Menu:
    """All menu items of all restaurants, flattened: restaurant r owns items offsets[r]:offsets[r+1]."""

    offsets: np.ndarray
    prices: np.ndarray
    names: list[str]

    def item_count(self) -> np.ndarray:
        return np.diff(self.offsets)


@dataclass(frozen=True)
class World:
    countries: list[tuple[str, str]]  # (code, name)
    country_effect: np.ndarray  # travel multiplier per country
    city_names: list[str]
    city_country: np.ndarray  # index into countries
    city_base_travel: np.ndarray  # minutes
    city_sensitivity: np.ndarray  # how much rush hours slow traffic
    restaurant_names: list[str]
    restaurant_city: np.ndarray  # index into cities
    restaurant_cuisine: np.ndarray  # index into names.CUISINES
    restaurant_base_prep: np.ndarray  # minutes
    restaurant_drift_slope: np.ndarray  # relative change of kitchen speed per day
    restaurant_popularity: np.ndarray  # probability that an order goes to the restaurant
    menu: Menu

    @property
    def city_ids(self) -> list[str]:
        return [f"c-{i + 1:04d}" for i in range(len(self.city_names))]

    @property
    def restaurant_ids(self) -> list[str]:
        return [f"r-{i + 1:06d}" for i in range(len(self.restaurant_names))]

    def catalog(self) -> dict[str, Any]:
        """The demo catalog file of docs/contracts.md."""
        city_ids = self.city_ids
        codes = [code for code, _ in self.countries]
        restaurants = []
        for r, restaurant_id in enumerate(self.restaurant_ids):
            city = int(self.restaurant_city[r])
            start, end = int(self.menu.offsets[r]), int(self.menu.offsets[r + 1])
            menu = [
                {"item_id": f"i-{r + 1:06d}-{j - start + 1:02d}", "name": self.menu.names[j],
                 "price": float(self.menu.prices[j])}
                for j in range(start, end)
            ]  # fmt: skip
            restaurants.append(
                {
                    "id": restaurant_id,
                    "name": self.restaurant_names[r],
                    "city_id": city_ids[city],
                    "country_code": codes[int(self.city_country[city])],
                    "cuisine": CUISINES[int(self.restaurant_cuisine[r])].name,
                    "menu": menu,
                }
            )
        return {
            "countries": [{"code": code, "name": name} for code, name in self.countries],
            "cities": [
                {"id": city_id, "name": name, "country_code": codes[int(country)]}
                for city_id, name, country in zip(city_ids, self.city_names, self.city_country, strict=True)
            ],
            "restaurants": restaurants,
        }


def generate_world(rng: np.random.Generator, size: WorldSize) -> World:
    if size.countries > len(COUNTRIES) or size.cities < size.countries or size.restaurants < size.cities:
        raise ValueError(
            f"size {size.name}: needs countries <= {len(COUNTRIES)} and countries <= cities <= restaurants"
        )
    countries = list(COUNTRIES[: size.countries])
    country_effect = rng.lognormal(0.0, 0.15, size=size.countries)
    city_country = _spread(rng, size.cities, size.countries, sigma=0.6)
    city_population = rng.lognormal(0.0, 0.8, size=size.cities)
    restaurant_city = _spread(rng, size.restaurants, size.cities, weights=city_population)
    cuisine = rng.integers(0, len(CUISINES), size=size.restaurants)
    cuisine_prep = np.array([c.base_prep_minutes for c in CUISINES])[cuisine]
    popularity = city_population[restaurant_city] * rng.lognormal(0.0, 0.6, size=size.restaurants)
    popularity /= np.bincount(restaurant_city, minlength=size.cities)[restaurant_city]  # big cities, not more orders
    return World(
        countries=countries,
        country_effect=country_effect,
        city_names=_city_names(rng, size.cities),
        city_country=city_country,
        city_base_travel=CITY_BASE_TRAVEL_MINUTES * rng.lognormal(0.0, 0.3, size=size.cities),
        city_sensitivity=rng.uniform(0.5, 1.5, size=size.cities),
        restaurant_names=_restaurant_names(rng, cuisine),
        restaurant_city=restaurant_city,
        restaurant_cuisine=cuisine,
        restaurant_base_prep=cuisine_prep * rng.lognormal(0.0, 0.35, size=size.restaurants),
        restaurant_drift_slope=rng.normal(0.0, etd_model.DRIFT_SLOPE_SIGMA, size=size.restaurants),
        restaurant_popularity=popularity / popularity.sum(),
        menu=_menus(rng, cuisine),
    )


def _spread(
    rng: np.random.Generator, n_children: int, n_parents: int, sigma: float = 0.0, weights: np.ndarray | None = None
) -> np.ndarray:
    """Assign children to parents: one each first (no empty parent), the rest in proportion to weights."""
    if weights is None:
        weights = rng.lognormal(0.0, sigma, size=n_parents)
    extra = rng.choice(n_parents, size=n_children - n_parents, p=weights / weights.sum())
    return np.sort(np.concatenate([np.arange(n_parents), extra]))


def _city_names(rng: np.random.Generator, n: int) -> list[str]:
    combos = len(CITY_PREFIXES) * len(CITY_MIDDLES) * len(CITY_SUFFIXES)
    names = []
    for code in rng.choice(combos, size=n, replace=False):
        prefix, rest = divmod(int(code), len(CITY_MIDDLES) * len(CITY_SUFFIXES))
        middle, suffix = divmod(rest, len(CITY_SUFFIXES))
        names.append(CITY_PREFIXES[prefix] + CITY_MIDDLES[middle] + CITY_SUFFIXES[suffix])
    return names


def _restaurant_names(rng: np.random.Generator, cuisine: np.ndarray) -> list[str]:
    openers = rng.integers(0, len(RESTAURANT_OPENERS), size=len(cuisine))
    nouns = rng.integers(0, 3, size=len(cuisine))
    return [
        f"{RESTAURANT_OPENERS[o]} {CUISINES[c].nouns[n % len(CUISINES[c].nouns)]}"
        for o, c, n in zip(openers, cuisine, nouns, strict=True)
    ]


def _menus(rng: np.random.Generator, cuisine: np.ndarray) -> Menu:
    counts = rng.integers(MIN_MENU_ITEMS, MAX_MENU_ITEMS + 1, size=len(cuisine))
    names: list[str] = []
    prices: list[np.ndarray] = []
    for c, count in zip(cuisine, counts, strict=True):
        kind = CUISINES[int(c)]
        picked = rng.choice(len(kind.dishes), size=int(count), replace=False)
        names.extend(kind.dishes[int(i)] for i in picked)
        # menu prices are whole 10-cent amounts
        prices.append(np.round(kind.price_level * rng.lognormal(0.0, 0.3, size=int(count)), 1))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return Menu(offsets=offsets, prices=np.maximum(np.concatenate(prices), 0.5), names=names)
