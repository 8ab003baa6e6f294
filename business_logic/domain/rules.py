"""Rules of an ETD quote: what a valid basket is, how it is priced, how minutes are shown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from business_logic.domain.restaurants import BasketLine, PricedBasket, Restaurant
from business_logic.errors import InvalidBasket

MAX_BASKET_LINES = 50
MIN_QUANTITY = 1
MAX_QUANTITY = 99
# an estimate of 34.0000001 min is float noise, not a 35th minute
_ROUNDING_TOLERANCE = 1e-6


def check_basket_shape(basket: Sequence[BasketLine]) -> None:
    """Reject a basket no restaurant could fulfil, naming the offending field."""
    if not basket:
        raise InvalidBasket("basket must hold at least one line", field="basket")
    if len(basket) > MAX_BASKET_LINES:
        raise InvalidBasket(f"basket holds {len(basket)} lines; at most {MAX_BASKET_LINES} allowed", field="basket")
    for index, line in enumerate(basket):
        if not line.item_id:
            raise InvalidBasket("item_id must not be empty", field=f"basket.{index}.item_id")
        if not MIN_QUANTITY <= line.quantity <= MAX_QUANTITY:
            raise InvalidBasket(
                f"quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}, got {line.quantity}",
                field=f"basket.{index}.quantity",
            )


def price_basket(restaurant: Restaurant, basket: Sequence[BasketLine]) -> PricedBasket:
    """Count items and add up menu prices; an item off this restaurant's menu is the caller's error."""
    subtotal = Decimal("0.00")
    for index, line in enumerate(basket):
        item = restaurant.menu_item(line.item_id)
        if item is None:
            raise InvalidBasket(
                f"item {line.item_id!r} is not on the menu of restaurant {restaurant.id!r}",
                field=f"basket.{index}.item_id",
            )
        subtotal += item.price * line.quantity
    return PricedBasket(n_items=sum(line.quantity for line in basket), subtotal=subtotal)


def whole_minutes(minutes: float) -> int:
    """Round an estimate up to whole minutes (promise late rather than early); at least one minute."""
    return max(1, math.ceil(minutes - _ROUNDING_TOLERANCE))
