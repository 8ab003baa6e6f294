"""The HTTP estimator adapter against a mock transport: contract body, error mapping, recovery."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import httpx
import pytest

from business_logic.adapters.etd_http import HttpEtdEstimator
from business_logic.domain.restaurants import EtdQuery
from business_logic.errors import EstimatorUnavailable
from strata_kernel.errors import UpstreamError
from strata_kernel.http import ServiceClient

QUERY = EtdQuery("r-000001", "c-0001", "PT", datetime(2026, 3, 14, 12, 30), 3, Decimal("24.40"))


class SwitchableUpstream:
    """A transport whose behaviour the test flips: refuse connections, answer an error, or answer fine."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.bodies: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        self.bodies.append(json.loads(request.content))
        if self.mode == "engine_down":
            error = {"code": "inference_engine_unavailable", "message": "inference_engine unavailable: timed out"}
            return httpx.Response(503, json={"error": error})
        if self.mode == "bad_request":
            return httpx.Response(400, json={"error": {"code": "bad_request", "message": "n_items: missing"}})
        return httpx.Response(200, json={"etd_minutes": 31.4, "model": "etd", "version": "3"})


@pytest.fixture
def upstream() -> SwitchableUpstream:
    return SwitchableUpstream()


@pytest.fixture
def estimator(upstream: SwitchableUpstream) -> HttpEtdEstimator:
    client = ServiceClient("data_processing", "http://dp.test", retries=2, transport=httpx.MockTransport(upstream))
    return HttpEtdEstimator(client)


def test_sends_the_contract_body_and_reads_minutes(estimator: HttpEtdEstimator, upstream: SwitchableUpstream) -> None:
    estimate = estimator.estimate(QUERY)
    assert (estimate.minutes, estimate.model, estimate.version) == (31.4, "etd", "3")
    assert upstream.bodies == [
        {
            "restaurant_id": "r-000001",
            "city_id": "c-0001",
            "country_code": "PT",
            "placed_at": "2026-03-14T12:30:00",
            "n_items": 3,
            "subtotal": 24.4,
        }
    ]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("down", "data processing unavailable"), ("engine_down", "inference engine unavailable")],
)
def test_outages_become_a_short_reason_and_recover(
    estimator: HttpEtdEstimator, upstream: SwitchableUpstream, mode: str, reason: str
) -> None:
    upstream.mode = mode
    with pytest.raises(EstimatorUnavailable) as caught:
        estimator.estimate(QUERY)
    assert caught.value.message == reason

    upstream.mode = "ok"
    assert estimator.estimate(QUERY).minutes == 31.4


def test_a_rejected_request_is_a_bug_not_an_outage(estimator: HttpEtdEstimator, upstream: SwitchableUpstream) -> None:
    upstream.mode = "bad_request"
    with pytest.raises(UpstreamError, match="n_items: missing"):
        estimator.estimate(QUERY)
