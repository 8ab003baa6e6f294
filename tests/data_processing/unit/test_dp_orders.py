from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from data_processing.domain.orders import parse_order
from data_processing.errors import InvalidOrder

VALID: dict[str, Any] = {
    "restaurant_id": "r-000001",
    "city_id": "c-0001",
    "country_code": "ES",
    "placed_at": "2025-01-06T12:30:00",
    "n_items": 3,
    "subtotal": 24.5,
}


def test_a_valid_order_is_parsed() -> None:
    order = parse_order(VALID)

    assert order.placed_at == datetime(2025, 1, 6, 12, 30)
    assert (order.n_items, order.subtotal) == (3, 24.5)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("restaurant_id", None),
        ("restaurant_id", ""),
        ("placed_at", "yesterday"),
        ("placed_at", 1736166600),
        ("n_items", 0),
        ("n_items", True),
        ("n_items", 2.5),
        ("subtotal", -1),
        ("subtotal", "12"),
    ],
)
def test_a_bad_field_is_named_in_the_error(field: str, value: Any) -> None:
    body = {**VALID, field: value}

    with pytest.raises(InvalidOrder) as raised:
        parse_order(body)

    assert raised.value.field == field
    assert raised.value.status == 400
    assert raised.value.message.startswith(field)


def test_a_non_object_body_is_rejected() -> None:
    with pytest.raises(InvalidOrder) as raised:
        parse_order(["not", "an", "object"])
    assert raised.value.field == "body"
