"""ETD estimator backed by data_processing's ``POST /v1/etd/estimate`` (see docs/contracts.md)."""

from __future__ import annotations

import logging
import math
from typing import Any

from business_logic.domain.model import EtdEstimate, EtdQuery
from business_logic.errors import EstimatorUnavailable
from business_logic.ports import EtdEstimator
from strata_kernel.errors import BadRequest, StrataError, UpstreamError
from strata_kernel.http import ServiceClient

log = logging.getLogger(__name__)

ESTIMATE_PATH = "/v1/etd/estimate"


class HttpEtdEstimator(EtdEstimator):
    """Asks data_processing on every call; holds no failure state, so it recovers as soon as the upstream does."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def estimate(self, query: EtdQuery) -> EtdEstimate:
        try:
            payload = self._client.post(ESTIMATE_PATH, _request_body(query))
        except BadRequest as exc:
            # our request broke the contract: a bug to fix, not an outage to wait out
            raise UpstreamError(f"data_processing rejected the ETD request: {exc.message}") from exc
        except StrataError as exc:
            log.warning("ETD estimate failed: %s (%s)", exc.message, exc.code)
            raise EstimatorUnavailable(_reason(exc)) from exc
        return _estimate_from(payload)

    def close(self) -> None:
        self._client.close()


def _request_body(query: EtdQuery) -> dict[str, Any]:
    body: dict[str, Any] = {
        "restaurant_id": query.restaurant_id,
        "city_id": query.city_id,
        "country_code": query.country_code,
        "placed_at": query.placed_at.isoformat(timespec="seconds"),
        "n_items": query.n_items,
        "subtotal": float(query.subtotal),
    }
    if query.customer_id is not None:  # data_processing forwards it to the model runtime as X-Routing-Key
        body["customer_id"] = query.customer_id
    return body


def _estimate_from(payload: Any) -> EtdEstimate:
    minutes = payload.get("etd_minutes") if isinstance(payload, dict) else None
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
        raise UpstreamError(f"data_processing returned no usable etd_minutes: {minutes!r}")
    extra = {key: value for key, value in payload.items() if key not in {"etd_minutes", "model", "version"}}
    return EtdEstimate(
        minutes=float(minutes),
        model=str(payload.get("model", "")),
        version=str(payload.get("version", "")),
        extra=extra,
    )


def _reason(error: StrataError) -> str:
    """A short reason a customer may read: "inference engine unavailable", not a stack of hosts and ports."""
    if error.code.endswith("_unavailable") and error.code != "unavailable":
        return error.code.removesuffix("_unavailable").replace("_", " ") + " unavailable"
    first_line = (error.message.strip().splitlines() or [""])[0]
    return first_line or "estimator unavailable"
