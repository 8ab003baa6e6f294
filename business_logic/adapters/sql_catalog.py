"""SQLAlchemy implementation of the catalog repository (works on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from business_logic.adapters.sql_tables import catalog_revision, cities, countries, menu_items, restaurants
from business_logic.domain.restaurants import Catalog, MenuItem, Restaurant, RestaurantSummary
from business_logic.errors import DatabaseUnavailable
from business_logic.ports import CatalogRepository

T = TypeVar("T")

# bound parameters per statement stay well below SQLite's and PostgreSQL's limits
_CHUNK = 500

#: dialect name -> its INSERT construct that supports ON CONFLICT DO UPDATE
_UPSERT_INSERTS: dict[str, Callable[[Table], Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class SqlCatalogRepository(CatalogRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, restaurant_id: str) -> Restaurant | None:
        rows = self._session.execute(_RESTAURANT_WITH_MENU, {"restaurant_id": restaurant_id}).all()
        if not rows:
            return None
        first = rows[0]
        menu = tuple(
            MenuItem(item_id=r.item_id, name=r.item_name, price=_from_cents(r.price_cents))
            for r in rows
            if r.item_id is not None
        )
        return Restaurant(
            id=first.id,
            name=first.name,
            city_id=first.city_id,
            city=first.city,
            country_code=first.country_code,
            cuisine=first.cuisine,
            menu=menu,
        )

    def search(self, *, city_id: str | None, text: str | None, limit: int) -> list[RestaurantSummary]:
        query = _summary_query()
        if city_id:
            query = query.where(restaurants.c.city_id == city_id)
        if text:
            needle = text.lower()
            query = query.where(
                or_(
                    *(
                        func.lower(column).contains(needle, autoescape=True)
                        for column in (restaurants.c.name, restaurants.c.cuisine, cities.c.name)
                    )
                )
            )
        rows = self._session.execute(query.order_by(cities.c.name, restaurants.c.name).limit(limit)).all()
        return [RestaurantSummary(**row._mapping) for row in rows]

    def count(self) -> int:
        return int(self._session.execute(select(func.count()).select_from(restaurants)).scalar_one())

    def upsert(self, catalog: Catalog) -> None:
        self._upsert(countries, ["code"], [{"code": c.code, "name": c.name} for c in catalog.countries])
        self._upsert(
            cities, ["id"], [{"id": c.id, "name": c.name, "country_code": c.country_code} for c in catalog.cities]
        )
        self._upsert(restaurants, ["id"], [_restaurant_row(r) for r in catalog.restaurants])
        # a listed restaurant's menu is replaced as a whole, so items dropped from the file disappear
        restaurant_ids = [r.id for r in catalog.restaurants]
        for id_chunk in _chunks(restaurant_ids):
            self._session.execute(delete(menu_items).where(menu_items.c.restaurant_id.in_(id_chunk)))
        rows = [_menu_row(r.id, item) for r in catalog.restaurants for item in r.menu]
        for row_chunk in _chunks(rows):
            self._session.execute(menu_items.insert(), list(row_chunk))
        self._bump_revision()
        self._session.flush()

    def revision(self) -> int:
        found = self._session.execute(select(catalog_revision.c.revision).where(catalog_revision.c.id == 1))
        return int(found.scalar_one_or_none() or 0)

    def _bump_revision(self) -> None:
        insert = self._insert_for_dialect()
        statement = insert(catalog_revision).values(id=1, revision=1)
        bump = {"revision": catalog_revision.c.revision + 1}
        self._session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=bump))

    def _insert_for_dialect(self) -> Callable[[Table], Any]:
        dialect = self._session.get_bind().dialect.name
        insert = _UPSERT_INSERTS.get(dialect)
        if insert is None:
            raise DatabaseUnavailable(f"catalog upsert does not support the {dialect} database")
        return insert

    def _upsert(self, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        insert = self._insert_for_dialect()
        for chunk in _chunks(rows):
            statement = insert(table)
            updates = {name: statement.excluded[name] for name in chunk[0] if name not in keys}
            self._session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), list(chunk))


def _summary_query() -> Any:
    return select(
        restaurants.c.id,
        restaurants.c.name,
        restaurants.c.city_id,
        cities.c.name.label("city"),
        restaurants.c.country_code,
        restaurants.c.cuisine,
    ).join(cities, cities.c.id == restaurants.c.city_id)


# Built once: ETD quotes look a restaurant up on every request, and building the statement cost more than running it.
_RESTAURANT_WITH_MENU = (
    _summary_query()
    .add_columns(menu_items.c.item_id, menu_items.c.name.label("item_name"), menu_items.c.price_cents)
    .outerjoin(menu_items, menu_items.c.restaurant_id == restaurants.c.id)
    .where(restaurants.c.id == bindparam("restaurant_id"))
    .order_by(menu_items.c.item_id)
)


def _restaurant_row(restaurant: Restaurant) -> dict[str, Any]:
    return {
        "id": restaurant.id,
        "name": restaurant.name,
        "city_id": restaurant.city_id,
        "country_code": restaurant.country_code,
        "cuisine": restaurant.cuisine,
    }


def _menu_row(restaurant_id: str, item: MenuItem) -> dict[str, Any]:
    return {
        "restaurant_id": restaurant_id,
        "item_id": item.item_id,
        "name": item.name,
        "price_cents": int(item.price * 100),
    }


def _from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
