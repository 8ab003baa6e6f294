"""Reads a demo catalog JSON file (format in docs/contracts.md) into a domain :class:`Catalog`.

Types and required fields are checked here; cross-record rules live in ``domain.catalog``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from business_logic.domain.restaurants import Catalog, City, Country, MenuItem, Restaurant, to_money
from business_logic.errors import InvalidCatalog

_Id = Field(min_length=1, max_length=64)
_Name = Field(min_length=1, max_length=200)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class _CountryRecord(_Strict):
    code: str = Field(min_length=1, max_length=8)
    name: str = _Name


class _CityRecord(_Strict):
    id: str = _Id
    name: str = _Name
    country_code: str = Field(min_length=1, max_length=8)


class _MenuRecord(_Strict):
    item_id: str = _Id
    name: str = _Name
    price: float = Field(ge=0, le=100_000)


class _RestaurantRecord(_Strict):
    id: str = _Id
    name: str = _Name
    city_id: str = _Id
    country_code: str = Field(min_length=1, max_length=8)
    cuisine: str = Field(default="", max_length=100)
    menu: list[_MenuRecord]


class _CatalogRecord(_Strict):
    countries: list[_CountryRecord]
    cities: list[_CityRecord]
    restaurants: list[_RestaurantRecord]


def read_catalog_file(path: Path) -> Catalog:
    """Parse ``path``; any problem raises :class:`InvalidCatalog` with the field that caused it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidCatalog(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidCatalog(f"{path} is not valid JSON: {exc}") from exc
    return parse_catalog(raw)


def parse_catalog(raw: object) -> Catalog:
    try:
        record = _CatalogRecord.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "catalog"
        raise InvalidCatalog(problem["msg"], field=field) from exc
    return Catalog(
        countries=tuple(Country(code=c.code, name=c.name) for c in record.countries),
        cities=tuple(City(id=c.id, name=c.name, country_code=c.country_code) for c in record.cities),
        restaurants=tuple(_restaurant(r) for r in record.restaurants),
    )


def _restaurant(record: _RestaurantRecord) -> Restaurant:
    menu = tuple(MenuItem(item_id=m.item_id, name=m.name, price=to_money(Decimal(str(m.price)))) for m in record.menu)
    return Restaurant(
        id=record.id,
        name=record.name,
        city_id=record.city_id,
        country_code=record.country_code,
        cuisine=record.cuisine,
        menu=menu,
    )
