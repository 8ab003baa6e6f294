"""The SQL adapter on a real PostgreSQL, in a fresh schema dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from business_logic import services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.restaurants import BasketLine
from tests.support import postgres_schema_url

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> Iterator[SqlDatabase]:
    with postgres_schema_url("bl_test") as url:
        database = SqlDatabase(url)
        try:
            yield database
        finally:
            database.close()


def test_catalog_round_trip_and_idempotent_reload(database: SqlDatabase, catalog_data: dict[str, Any]) -> None:
    catalog = parse_catalog(catalog_data)
    services.load_catalog(database.unit_of_work, catalog)
    services.load_catalog(database.unit_of_work, catalog)

    assert services.count_restaurants(database.unit_of_work) == 3
    listed = services.list_restaurants(database.unit_of_work, text="lisbon")
    assert [r.id for r in listed] == ["r-000002", "r-000001"]
    restaurant = services.get_restaurant(database.unit_of_work, "r-000001")
    assert [(i.item_id, str(i.price)) for i in restaurant.menu] == [("i-000001-01", "12.10"), ("i-000001-02", "0.20")]


def test_uncommitted_work_is_rolled_back(database: SqlDatabase, catalog_data: dict[str, Any]) -> None:
    with database.unit_of_work() as uow:
        uow.catalog.upsert(parse_catalog(catalog_data))  # no commit
    assert services.count_restaurants(database.unit_of_work) == 0


def test_quote_reads_menu_prices_from_postgres(
    database: SqlDatabase, catalog_data: dict[str, Any], estimator: Any, fixed_now: Any
) -> None:
    services.load_catalog(database.unit_of_work, parse_catalog(catalog_data))
    quote = services.quote_etd(
        "r-000001",
        [BasketLine("i-000001-01", 2), BasketLine("i-000001-02", 1)],
        restaurants=services.RestaurantCache(database.unit_of_work),
        estimator=estimator,
        clock=lambda: fixed_now,
    )
    assert (quote.n_items, str(quote.subtotal), quote.etd_minutes) == (3, "24.40", 34)
    with database.unit_of_work() as uow:
        assert uow.catalog.revision() == 1  # the load moved the catalog's revision (PostgreSQL's ON CONFLICT)
