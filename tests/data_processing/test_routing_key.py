"""An ETD estimate's optional ``customer_id`` reaches the model runtime as ``X-Routing-Key`` (no key: no header)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from data_processing.adapters.inference_http import HttpInferenceEngine
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.domain.orders import parse_order
from data_processing.entrypoints.app import create_app
from data_processing.errors import InvalidOrder
from data_processing.settings import Settings
from strata_kernel.http import ServiceClient
from tests.data_processing.fakes import InMemoryOnlineStore
from tests.support import as_caller

BODY: dict[str, Any] = {
    "restaurant_id": "r-1",
    "city_id": "c-1",
    "country_code": "ES",
    "placed_at": "2025-01-10T19:30:00",
    "n_items": 2,
    "subtotal": 18.0,
}


class FakeEngineServer:
    """The inference engine's predict endpoint behind an httpx mock transport; remembers each request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"model": "etd", "version": "2", "predictions": [24.0], "route": "canary"})


@pytest.fixture
def engine_server() -> FakeEngineServer:
    return FakeEngineServer()


def estimate(settings: Settings, engine_server: FakeEngineServer, body: dict[str, Any]) -> Any:
    store = InMemoryOnlineStore()
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime(2025, 1, 10), values)])
    client = ServiceClient("inference_engine", "http://engine.test", transport=httpx.MockTransport(engine_server))
    app = create_app(settings, online_store=store, inference_engine=HttpInferenceEngine(client))
    return as_caller(app.test_client(), settings, "business_logic").post("/v1/etd/estimate", json=body)


def test_the_customer_id_is_sent_to_the_engine_as_the_routing_key(
    settings: Settings, engine_server: FakeEngineServer
) -> None:
    response = estimate(settings, engine_server, {**BODY, "customer_id": "cust-42"})

    assert response.status_code == 200
    assert response.get_json()["etd_minutes"] == 24.0
    (sent,) = engine_server.requests
    assert sent.headers["X-Routing-Key"] == "cust-42"
    assert "customer_id" not in sent.content.decode()  # a routing key, not a feature of the model


@pytest.mark.parametrize("body", [BODY, {**BODY, "customer_id": None}])
def test_without_a_customer_id_no_routing_key_is_sent(
    settings: Settings, engine_server: FakeEngineServer, body: dict[str, Any]
) -> None:
    assert estimate(settings, engine_server, body).status_code == 200

    (sent,) = engine_server.requests
    assert "X-Routing-Key" not in sent.headers
    assert sent.headers["X-Request-ID"]  # the engine then keys on the request id


@pytest.mark.parametrize("value", ["", "x" * 65, 42])
def test_a_bad_customer_id_is_a_400_naming_it(settings: Settings, engine_server: FakeEngineServer, value: Any) -> None:
    response = estimate(settings, engine_server, {**BODY, "customer_id": value})

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "customer_id"
    assert engine_server.requests == []


def test_parse_order_keeps_the_customer_id_optional() -> None:
    assert parse_order(BODY).customer_id is None
    assert parse_order({**BODY, "customer_id": "c" * 64}).customer_id == "c" * 64
    with pytest.raises(InvalidOrder):
        parse_order({**BODY, "customer_id": ["c-1"]})
