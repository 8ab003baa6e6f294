"""Event validation: good events become typed rows, bad ones are rejected with a reason naming the field."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from data_collection.adapters.lake import rows_to_arrow
from data_collection.domain.events import ORDER_DELIVERED, ORDER_PLACED, InvalidEvent, validate_event


def placed(**changes: Any) -> dict[str, Any]:
    event = {
        "event_id": "o-00000001:placed", "event_type": "order_placed", "event_time": "2025-01-06T23:50:00",
        "order_id": "o-00000001", "restaurant_id": "r-000001", "city_id": "c-0001", "country_code": "ES",
        "placed_at": "2025-01-06T23:50:00", "n_items": 2, "subtotal": 21.5,
    }  # fmt: skip
    return {**event, **changes}


def delivered(**changes: Any) -> dict[str, Any]:
    event = {
        "event_id": "o-00000001:delivered", "event_type": "order_delivered", "event_time": "2025-01-07T00:20:30",
        "order_id": "o-00000001", "restaurant_id": "r-000001", "placed_at": "2025-01-06T23:50:00",
        "delivered_at": "2025-01-07T00:20:30", "prep_minutes": 12.25, "delivery_minutes": 30.5,
    }  # fmt: skip
    return {**event, **changes}


def test_a_valid_placement_becomes_a_typed_row_partitioned_by_the_placement_date() -> None:
    row = validate_event(ORDER_PLACED, {**placed(), "extra": "ignored"})
    assert row["placed_at"] == datetime(2025, 1, 6, 23, 50) and row["n_items"] == 2 and row["subtotal"] == 21.5
    assert row["nominal_date"] == "2025-01-06" and "extra" not in row


def test_a_delivery_after_midnight_keeps_the_nominal_date_of_its_placement() -> None:
    assert validate_event(ORDER_DELIVERED, delivered())["nominal_date"] == "2025-01-06"


@pytest.mark.parametrize(
    ("schema", "event", "reason"),
    [
        (ORDER_PLACED, "not an object", "event is a str"),
        (ORDER_PLACED, placed(order_id=None), "order_id: missing"),
        (ORDER_PLACED, {k: v for k, v in placed().items() if k != "city_id"}, "city_id: missing"),
        (ORDER_PLACED, placed(restaurant_id=""), "restaurant_id: expected a non-empty string"),
        (ORDER_PLACED, placed(event_type="order_delivered"), "event_type: expected 'order_placed'"),
        (ORDER_PLACED, placed(placed_at="yesterday", event_time="yesterday"), "event_time: not an ISO-8601"),
        (ORDER_PLACED, placed(event_time="2025-01-06T23:51:00"), "event_time: must equal placed_at"),
        (ORDER_PLACED, placed(placed_at="2025-01-06T23:50:00+01:00"), "placed_at: must be local wall-clock time"),
        (ORDER_PLACED, placed(event_time="2025-01-06T23:50:00Z", placed_at="2025-01-06T23:50:00Z"), "without a zone"),
        (ORDER_PLACED, placed(n_items=0), "n_items: expected an integer >= 1"),
        (ORDER_PLACED, placed(n_items=1.5), "n_items: expected an integer >= 1"),
        (ORDER_PLACED, placed(n_items=True), "n_items: expected a number"),
        (ORDER_PLACED, placed(subtotal="12"), "subtotal: expected a number"),
        (ORDER_PLACED, placed(subtotal=-1), "subtotal: expected a finite number >= 0"),
        (ORDER_PLACED, placed(subtotal=float("nan")), "subtotal: expected a number"),
        (ORDER_DELIVERED, delivered(delivered_at="2025-01-06T23:00:00", event_time="2025-01-06T23:00:00"),
         "delivered_at: earlier than placed_at"),
        (ORDER_DELIVERED, delivered(prep_minutes=31.0), "prep_minutes: longer than delivery_minutes"),
        (ORDER_DELIVERED, delivered(delivery_minutes=25.0), "delivery_minutes: 25.0 but"),
    ],
)  # fmt: skip
def test_bad_events_are_rejected_with_a_reason_naming_the_field(schema: Any, event: Any, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=re.escape(reason)):
        validate_event(schema, event)


def test_rows_become_arrow_with_microsecond_timestamps_and_a_string_partition() -> None:
    table = rows_to_arrow(ORDER_DELIVERED, [validate_event(ORDER_DELIVERED, delivered())])
    assert table.schema.field("delivered_at").type == pa.timestamp("us")
    assert table.schema.field("prep_minutes").type == pa.float64()
    assert table.schema.field("nominal_date").type == pa.string()
    assert table.column("placed_at").to_pylist() == [datetime(2025, 1, 6, 23, 50)]
    placed_table = rows_to_arrow(ORDER_PLACED, [validate_event(ORDER_PLACED, placed())])
    assert placed_table.schema.field("n_items").type == pa.int64()
    assert placed_table.column_names[-1] == "nominal_date"
