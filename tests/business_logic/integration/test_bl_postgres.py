"""The SQL adapter on a real PostgreSQL, in a fresh schema dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from business_logic import services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.model import BasketLine

pytestmark = pytest.mark.integration

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def database() -> Iterator[SqlDatabase]:
    admin = create_engine(SERVER_URL)
    schema = f"bl_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {SERVER_URL}: {str(exc.orig).splitlines()[0]}")
    database = SqlDatabase(f"{SERVER_URL}?options=-csearch_path%3D{schema}")
    try:
        yield database
    finally:
        database.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
        uow_factory=database.unit_of_work,
        estimator=estimator,
        clock=lambda: fixed_now,
    )
    assert (quote.n_items, str(quote.subtotal), quote.etd_minutes) == (3, "24.40", 34)
