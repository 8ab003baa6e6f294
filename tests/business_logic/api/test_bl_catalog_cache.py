"""Quotes read restaurants from memory, and a catalog load (by any process) reaches them within the check interval."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Any

from business_logic import services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.restaurants import BasketLine
from business_logic.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _load(settings: Settings, catalog: dict[str, Any]) -> None:
    """A load as `business_logic load-catalog` does it: its own process, its own engine."""
    database = SqlDatabase(settings.database_url)
    services.load_catalog(database.unit_of_work, parse_catalog(catalog))
    database.close()


def _subtotal(cache: services.RestaurantCache, estimator: Any) -> Decimal:
    basket = [BasketLine("i-000001-01", 1)]
    quote = services.quote_etd("r-000001", basket, restaurants=cache, estimator=estimator, clock=datetime.now)
    return quote.subtotal


def test_a_new_price_is_quoted_within_the_check_interval(
    settings: Settings, catalog_data: dict[str, Any], estimator: Any
) -> None:
    _load(settings, catalog_data)
    database = SqlDatabase(settings.database_url)
    clock = Clock()
    cache = services.RestaurantCache(database.unit_of_work, check_seconds=1.0, monotonic=clock)
    assert _subtotal(cache, estimator) == Decimal("12.10")

    cheaper = copy.deepcopy(catalog_data)
    cheaper["restaurants"][0]["menu"][0]["price"] = 9.99
    _load(settings, cheaper)
    clock.now += 0.5
    assert _subtotal(cache, estimator) == Decimal("12.10")  # the copy in memory, younger than the interval
    clock.now += 0.6
    assert _subtotal(cache, estimator) == Decimal("9.99")  # the revision moved: read again
    database.close()


def test_an_unknown_restaurant_is_not_remembered(
    settings: Settings, catalog_data: dict[str, Any], estimator: Any
) -> None:
    first_two = copy.deepcopy(catalog_data)
    first_two["restaurants"] = [r for r in first_two["restaurants"] if r["id"] != "r-000003"]
    _load(settings, first_two)
    database = SqlDatabase(settings.database_url)
    cache = services.RestaurantCache(database.unit_of_work, check_seconds=60.0, monotonic=Clock())
    assert cache.get("r-000003") is None
    _load(settings, catalog_data)
    found = cache.get("r-000003")  # found at once, though the revision is not due to be checked
    assert found is not None
    assert found.menu[0].name == "Tortilla"
    database.close()


def test_every_load_moves_the_revision(settings: Settings, catalog_data: dict[str, Any]) -> None:
    database = SqlDatabase(settings.database_url)
    with database.unit_of_work() as uow:
        assert uow.catalog.revision() == 0
    _load(settings, catalog_data)
    _load(settings, catalog_data)
    with database.unit_of_work() as uow:
        assert uow.catalog.revision() == 2
    database.close()
