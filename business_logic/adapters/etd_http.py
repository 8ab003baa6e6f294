"""ETD estimator backed by data_processing's ``POST /v1/etd/estimate`` (strata_kernel.contracts.etd)."""

from __future__ import annotations

import logging

from business_logic.domain.restaurants import EtdEstimate, EtdQuery
from business_logic.errors import EstimatorUnavailable
from business_logic.ports import EtdEstimator
from strata_kernel.contracts.etd import ESTIMATE_PATH, Estimate, EstimateRequest
from strata_kernel.errors import BadRequest, StrataError, UpstreamError
from strata_kernel.http import ServiceClient

log = logging.getLogger(__name__)


class HttpEtdEstimator(EtdEstimator):
    """Asks data_processing on every call; holds no failure state, so it recovers as soon as the upstream does."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def estimate(self, query: EtdQuery) -> EtdEstimate:
        try:
            payload = self._client.post(ESTIMATE_PATH, _request(query).to_wire())
        except BadRequest as exc:
            # our request broke the contract: a bug to fix, not an outage to wait out
            raise UpstreamError(f"data_processing rejected the ETD request: {exc.message}") from exc
        except StrataError as exc:
            log.warning("ETD estimate failed: %s (%s)", exc.message, exc.code)
            raise EstimatorUnavailable(_reason(exc)) from exc
        return _estimate_from(payload)

    def close(self) -> None:
        self._client.close()


def _request(query: EtdQuery) -> EstimateRequest:
    # customer_id: data_processing forwards it to the model runtime as X-Routing-Key
    return EstimateRequest(query.restaurant_id, query.city_id, query.country_code, query.placed_at, query.n_items,
                           float(query.subtotal), query.customer_id)  # fmt: skip


def _estimate_from(payload: object) -> EtdEstimate:
    try:
        estimate = Estimate.from_wire(payload)
    except BadRequest as exc:
        raise UpstreamError(f"data_processing returned {exc.message}") from exc
    extra = {key: value for key, value in estimate.to_wire().items() if key not in {"etd_minutes", "model", "version"}}
    return EtdEstimate(minutes=estimate.etd_minutes, model=estimate.model, version=estimate.version, extra=extra)


def _reason(error: StrataError) -> str:
    """A short reason a customer may read: "inference engine unavailable", not a stack of hosts and ports."""
    if error.code.endswith("_unavailable") and error.code != "unavailable":
        return error.code.removesuffix("_unavailable").replace("_", " ") + " unavailable"
    first_line = (error.message.strip().splitlines() or [""])[0]
    return first_line or "estimator unavailable"
