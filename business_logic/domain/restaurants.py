"""Values of the ETD use case: a catalog of restaurants and menus, a basket, a quote.

Money is :class:`~decimal.Decimal` with cents precision so a subtotal never drifts by float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_money(value: Decimal | float | int | str) -> Decimal:
    """Round any price-like value to whole cents (half up, as a till would)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Country:
    code: str
    name: str


@dataclass(frozen=True)
class City:
    id: str
    name: str
    country_code: str


@dataclass(frozen=True)
class MenuItem:
    item_id: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class RestaurantSummary:
    """A restaurant as listed (no menu): what a picker needs."""

    id: str
    name: str
    city_id: str
    city: str
    country_code: str
    cuisine: str


@dataclass(frozen=True)
class Restaurant:
    id: str
    name: str
    city_id: str
    country_code: str
    cuisine: str
    menu: tuple[MenuItem, ...] = ()
    city: str = ""

    def menu_item(self, item_id: str) -> MenuItem | None:
        return next((item for item in self.menu if item.item_id == item_id), None)


@dataclass(frozen=True)
class Catalog:
    """Everything one catalog file holds; loaded as a whole so the database never sees half of it."""

    countries: tuple[Country, ...] = ()
    cities: tuple[City, ...] = ()
    restaurants: tuple[Restaurant, ...] = ()

    @property
    def menu_item_count(self) -> int:
        return sum(len(restaurant.menu) for restaurant in self.restaurants)


@dataclass(frozen=True)
class BasketLine:
    item_id: str
    quantity: int


@dataclass(frozen=True)
class PricedBasket:
    n_items: int
    subtotal: Decimal


@dataclass(frozen=True)
class EtdQuery:
    """What the ETD estimator needs about one prospective order (the data_processing request)."""

    restaurant_id: str
    city_id: str
    country_code: str
    placed_at: datetime
    n_items: int
    subtotal: Decimal
    #: who asks (optional): the model runtime keys its sticky canary split on it
    customer_id: str | None = None


@dataclass(frozen=True)
class EtdEstimate:
    minutes: float
    model: str = ""
    version: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class EtdQuote:
    restaurant_id: str
    etd_minutes: int
    subtotal: Decimal
    n_items: int
    quoted_at: datetime
