"""business_logic -> data_processing ``POST /v1/etd/estimate``: the order to estimate, and the estimate.

Times are the city's local wall-clock time without a zone (the documented simplification of the ETD flow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from strata_kernel.contracts.headers import is_header_text
from strata_kernel.contracts.schema_check import Violation, field_violations
from strata_kernel.contracts.wire import InvalidPayload, is_finite_number, is_number
from strata_kernel.errors import BadRequest

MAX_ITEMS = 10_000
MAX_CUSTOMER_ID_CHARS = 64
ESTIMATE_PATH = "/v1/etd/estimate"


class InvalidOrder(BadRequest):
    """An estimate request whose order fields are missing or malformed (400 naming the field)."""

    code = "invalid_order"


@dataclass(frozen=True, slots=True)
class EstimateRequest:
    restaurant_id: str
    city_id: str
    country_code: str
    placed_at: datetime  # naive local wall-clock time
    n_items: int
    subtotal: float
    #: optional: keys the model runtime's sticky canary split (data_processing sends it as X-Routing-Key)
    customer_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "restaurant_id": self.restaurant_id,
            "city_id": self.city_id,
            "country_code": self.country_code,
            "placed_at": self.placed_at.isoformat(timespec="seconds"),
            "n_items": self.n_items,
            "subtotal": float(self.subtotal),
        }
        if self.customer_id is not None:
            body["customer_id"] = self.customer_id
        return body

    @classmethod
    def from_wire(cls, body: Any) -> EstimateRequest:
        """Validate field by field; raises InvalidOrder naming the first bad field."""
        if not isinstance(body, dict):
            raise InvalidOrder("body: must be a JSON object", field="body")
        return cls(**{field: parse(body, field) for field, parse in _FIELDS.items()})


def estimate_request_violations(body: Any) -> list[Violation]:
    """Every field of an estimate request that breaks the contract (``from_wire`` names only the first)."""
    return field_violations(body, _FIELDS, _FIELD_CHECKS)


@dataclass(frozen=True, slots=True)
class Estimate:
    etd_minutes: float
    model: str
    version: str
    #: age of the oldest feature row used, at placed_at (absent when no stored feature was found)
    features_age_seconds: float | None = None
    #: which node of a partitioned model answered
    node: str | None = None

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"etd_minutes": self.etd_minutes, "model": self.model, "version": self.version}
        if self.node is not None:
            body["node"] = self.node
        if self.features_age_seconds is not None:
            body["features_age_seconds"] = self.features_age_seconds
        return body

    @classmethod
    def from_wire(cls, body: Any) -> Estimate:
        minutes = body.get("etd_minutes") if isinstance(body, dict) else None
        if not is_finite_number(minutes):
            raise InvalidPayload(f"no usable etd_minutes: {minutes!r}", field="etd_minutes")
        assert isinstance(body, dict)
        age, node = body.get("features_age_seconds"), body.get("node")
        return cls(
            etd_minutes=float(minutes),
            model=str(body.get("model", "")),
            version=str(body.get("version", "")),
            features_age_seconds=float(age) if is_number(age) else None,
            node=node if isinstance(node, str) else None,
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


def _optional_header_text(body: dict[str, Any], field: str, max_length: int) -> str | None:
    """Text that travels on as an HTTP header (the customer id becomes ``X-Routing-Key``): printable ASCII."""
    value = _optional_text(body, field, max_length)
    if value is not None and not is_header_text(value):
        raise InvalidOrder(f"{field}: must be printable ASCII without spaces (it keys the model routing)", field=field)
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
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ITEMS:
        raise InvalidOrder(f"{field}: must be an integer between 1 and {MAX_ITEMS}", field=field)
    return value


def _amount(body: dict[str, Any], field: str) -> float:
    value = _present(body, field)
    if not is_number(value) or not 0 <= value < 1e9 or value != value:
        raise InvalidOrder(f"{field}: must be a non-negative number", field=field)
    return float(value)


def _customer_id(body: dict[str, Any], field: str) -> str | None:
    return _optional_header_text(body, field, MAX_CUSTOMER_ID_CHARS)


#: every field of the request and its parser, in the order from_wire checks them
_FIELDS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    "restaurant_id": _text, "city_id": _text, "country_code": _text, "placed_at": _timestamp, "n_items": _count,
    "subtotal": _amount, "customer_id": _customer_id,
}  # fmt: skip


def _parse_alone(parse: Callable[[dict[str, Any], str], object], field: str, raw: Any) -> object:
    return parse({field: raw}, field)


_FIELD_CHECKS = {field: partial(_parse_alone, parse, field) for field, parse in _FIELDS.items()}
