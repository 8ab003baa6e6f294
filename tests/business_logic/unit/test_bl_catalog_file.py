"""Parsing and checking a catalog file: every problem names its field."""

from __future__ import annotations

from typing import Any

import pytest

from business_logic.adapters.catalog_file import parse_catalog
from business_logic.domain.catalog import check_catalog
from business_logic.errors import InvalidCatalog


def test_good_catalog_parses_prices_to_cents(catalog_data: dict[str, Any]) -> None:
    catalog = parse_catalog(catalog_data)
    check_catalog(catalog)
    assert [str(item.price) for item in catalog.restaurants[0].menu] == ["12.10", "0.20"]
    assert catalog.menu_item_count == 4


def _broken(catalog: dict[str, Any], how: str) -> dict[str, Any]:
    if how == "negative price":
        catalog["restaurants"][0]["menu"][1]["price"] = -1
    elif how == "price as text":
        catalog["restaurants"][0]["menu"][1]["price"] = "3"
    elif how == "missing name":
        del catalog["restaurants"][2]["name"]
    elif how == "unknown city":
        catalog["restaurants"][1]["city_id"] = "c-9999"
    elif how == "city in another country":
        catalog["restaurants"][2]["country_code"] = "PT"
    elif how == "duplicate restaurant":
        catalog["restaurants"][2]["id"] = "r-000001"
    elif how == "duplicate item":
        catalog["restaurants"][0]["menu"][1]["item_id"] = "i-000001-01"
    return catalog


@pytest.mark.parametrize(
    ("how", "field"),
    [
        ("negative price", "restaurants.0.menu.1.price"),
        ("price as text", "restaurants.0.menu.1.price"),
        ("missing name", "restaurants.2.name"),
        ("unknown city", "restaurants.1.city_id"),
        ("city in another country", "restaurants.2.country_code"),
        ("duplicate restaurant", "restaurants.2.id"),
        ("duplicate item", "restaurants.0.menu.1.item_id"),
    ],
)
def test_bad_catalog_names_the_field(catalog_data: dict[str, Any], how: str, field: str) -> None:
    with pytest.raises(InvalidCatalog) as caught:
        check_catalog(parse_catalog(_broken(catalog_data, how)))
    assert caught.value.field == field


def test_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidCatalog):
        parse_catalog([1, 2])
