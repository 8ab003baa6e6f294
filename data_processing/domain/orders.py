"""The order an ETD estimate is asked for, validated field by field (errors name the field)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data_processing.errors import InvalidOrder

_MAX_ITEMS = 10_000
_MAX_CUSTOMER_ID = 64


@dataclass(frozen=True, slots=True)
class OrderContext:
    restaurant_id: str
    city_id: str
    country_code: str
    placed_at: datetime  # naive local wall-clock time
    n_items: int
    subtotal: float
    #: optional: keys the model runtime's sticky canary split (sent as X-Routing-Key)
    customer_id: str | None = None


def parse_order(body: Any) -> OrderContext:
    """Validate a JSON body of ``POST /v1/etd/estimate``; raises InvalidOrder naming the first bad field."""
    if not isinstance(body, dict):
        raise InvalidOrder("body: must be a JSON object", field="body")
    return OrderContext(
        restaurant_id=_text(body, "restaurant_id"),
        city_id=_text(body, "city_id"),
        country_code=_text(body, "country_code"),
        placed_at=_timestamp(body, "placed_at"),
        n_items=_count(body, "n_items"),
        subtotal=_amount(body, "subtotal"),
        customer_id=_optional_text(body, "customer_id", _MAX_CUSTOMER_ID),
    )


def _present(body: dict[str, Any], field: str) -> Any:
    if body.get(field) is None:
        raise InvalidOrder(f"{field}: missing", field=field)
    return body[field]


def _text(body: dict[str, Any], field: str) -> str:
    value = _present(body, field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidOrder(f"{field}: must be a non-empty string", field=field)
    return value


def _optional_text(body: dict[str, Any], field: str, max_length: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise InvalidOrder(f"{field}: must be a string of 1..{max_length} characters", field=field)
    return value


def _timestamp(body: dict[str, Any], field: str) -> datetime:
    value = _present(body, field)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidOrder(f"{field}: must be an ISO-8601 timestamp", field=field)
    # local wall-clock time by contract: an explicit offset is dropped, not converted
    return parsed.replace(tzinfo=None)


def _count(body: dict[str, Any], field: str) -> int:
    value = _present(body, field)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_ITEMS:
        raise InvalidOrder(f"{field}: must be an integer between 1 and {_MAX_ITEMS}", field=field)
    return value


def _amount(body: dict[str, Any], field: str) -> float:
    value = _present(body, field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9 or value != value:
        raise InvalidOrder(f"{field}: must be a non-negative number", field=field)
    return float(value)
