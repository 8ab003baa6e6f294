"""Consistency rules of a catalog file: unique ids and references that resolve.

Field types are checked where the file is parsed; these are the rules that span records.
"""

from __future__ import annotations

from collections.abc import Iterable

from business_logic.domain.restaurants import Catalog
from business_logic.errors import InvalidCatalog


def check_catalog(catalog: Catalog) -> None:
    """Raise :class:`InvalidCatalog` naming the first inconsistent field; return quietly when loadable."""
    _check_unique((c.code for c in catalog.countries), "countries", "code")
    _check_unique((c.id for c in catalog.cities), "cities", "id")
    _check_unique((r.id for r in catalog.restaurants), "restaurants", "id")
    country_codes = {country.code for country in catalog.countries}
    city_country = {city.id: city.country_code for city in catalog.cities}
    for index, city in enumerate(catalog.cities):
        if city.country_code not in country_codes:
            raise InvalidCatalog(f"unknown country {city.country_code!r}", field=f"cities.{index}.country_code")
    for index, restaurant in enumerate(catalog.restaurants):
        if restaurant.city_id not in city_country:
            raise InvalidCatalog(f"unknown city {restaurant.city_id!r}", field=f"restaurants.{index}.city_id")
        if city_country[restaurant.city_id] != restaurant.country_code:
            raise InvalidCatalog(
                f"country {restaurant.country_code!r} differs from its city's {city_country[restaurant.city_id]!r}",
                field=f"restaurants.{index}.country_code",
            )
        _check_unique((item.item_id for item in restaurant.menu), f"restaurants.{index}.menu", "item_id")


def _check_unique(ids: Iterable[str], collection: str, key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise InvalidCatalog(f"duplicate {key} {value!r}", field=f"{collection}.{index}.{key}")
        seen.add(value)
