"""Request and response schemas of the business_logic API; APIFlask puts them in the OpenAPI document."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Float, Integer, List, Nested, String
from apiflask.validators import Length, Range, Regexp

from business_logic.domain.rules import MAX_BASKET_LINES, MAX_QUANTITY, MIN_QUANTITY
from business_logic.services import MAX_LIST_LIMIT

#: an end user's request body: a basket of at most 50 lines, a question of a few hundred characters
PUBLIC_BODY_LIMIT = 64 * 1024


class RestaurantQuery(Schema):
    city_id = String(load_default=None, metadata={"description": "Only restaurants of this city."})
    q = String(
        load_default=None,
        validate=Length(max=100),
        metadata={"description": "Case-insensitive text in the name, cuisine or city."},
    )
    limit = Integer(load_default=100, validate=Range(min=1, max=MAX_LIST_LIMIT))


class RestaurantSummaryOut(Schema):
    id = String()
    name = String()
    city_id = String()
    city = String()
    country_code = String()
    cuisine = String()


class RestaurantListOut(Schema):
    restaurants = List(Nested(RestaurantSummaryOut))


class MenuItemOut(Schema):
    item_id = String()
    name = String()
    price = Float()


class RestaurantOut(RestaurantSummaryOut):
    menu = List(Nested(MenuItemOut))


class BasketLineIn(Schema):
    item_id = String(required=True, validate=Length(min=1, max=64))
    quantity = Integer(required=True, strict=True, validate=Range(min=MIN_QUANTITY, max=MAX_QUANTITY))


class EtdIn(Schema):
    restaurant_id = String(required=True, validate=Length(min=1, max=64))
    basket = List(
        Nested(BasketLineIn),
        required=True,
        validate=Length(min=1, max=MAX_BASKET_LINES),
        metadata={"description": f"1..{MAX_BASKET_LINES} lines; each item must be on the restaurant's menu."},
    )
    customer_id = String(
        load_default=None,
        validate=[Length(min=1, max=64), Regexp(r"^[!-~]+$", error="must be printable ASCII without spaces")],
        metadata={"description": "Optional: keys the sticky split between model versions (canary)."},
    )


class EtdOut(Schema):
    restaurant_id = String()
    etd_minutes = Integer(metadata={"description": "Estimated minutes until delivery, rounded up."})
    subtotal = Float()
    n_items = Integer()
    quoted_at = String(metadata={"description": "ISO-8601 local wall-clock time, no zone."})
