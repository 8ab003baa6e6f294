"""POST /v1/etd takes an optional customer_id: it goes to data_processing's estimate as ``customer_id``, and
data_processing sends it to the model runtime as ``X-Routing-Key`` (the sticky canary split's key)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from business_logic.adapters.etd_http import HttpEtdEstimator
from business_logic.entrypoints.app import create_app
from business_logic.settings import Settings
from strata_kernel.contracts.auth import Credential
from strata_kernel.http import ServiceClient
from tests.support import json_of, service_credential_for

FIXED_NOW = datetime(2026, 3, 14, 12, 30)
BASKET = [{"item_id": "i-000001-01", "quantity": 2}]


class EngineStub:
    """The model runtime's predict endpoint (a mock transport): remembers the headers of each call."""

    def __init__(self) -> None:
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        return httpx.Response(200, json={"model": "etd", "version": "2", "predictions": [26.0], "route": "canary"})


class DataProcessingStub:
    """data_processing's estimate endpoint (a mock transport): remembers each body it was sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"etd_minutes": 26.0, "model": "etd", "version": "2"})


def bl_client(
    settings: Settings, transport: httpx.BaseTransport, credential: Credential | None = None
) -> Iterator[FlaskClient]:
    client = ServiceClient("data_processing", "http://dp.test", credential=credential, transport=transport)
    estimator = HttpEtdEstimator(client)
    app = create_app(settings, estimator=estimator, clock=lambda: FIXED_NOW)
    yield app.test_client()
    app.extensions["business_logic.deps"].close()


@pytest.fixture
def data_processing() -> DataProcessingStub:
    return DataProcessingStub()


@pytest.fixture
def quoting(loaded_settings: Settings, data_processing: DataProcessingStub) -> Iterator[FlaskClient]:
    yield from bl_client(loaded_settings, httpx.MockTransport(data_processing))


def test_the_customer_id_is_passed_to_the_estimator(quoting: FlaskClient, data_processing: DataProcessingStub) -> None:
    response = quoting.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET, "customer_id": "cust-9"})

    assert response.status_code == 200
    assert json_of(response)["etd_minutes"] == 26
    assert data_processing.bodies[0]["customer_id"] == "cust-9"


def test_without_a_customer_id_the_estimate_body_is_unchanged(
    quoting: FlaskClient, data_processing: DataProcessingStub
) -> None:
    assert quoting.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET}).status_code == 200

    assert "customer_id" not in data_processing.bodies[0]


@pytest.mark.parametrize("value", ["", "c" * 65, 7, "kundé-ü", "a b"])  # it travels on as a header: ASCII only
def test_a_bad_customer_id_is_a_400_naming_it(loaded_settings: Settings, estimator: Any, value: Any) -> None:
    """``estimator`` is the conftest's fake: it records every query it is asked."""
    app = create_app(loaded_settings, estimator=estimator, clock=lambda: FIXED_NOW)
    response = app.test_client().post(
        "/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET, "customer_id": value}
    )
    app.extensions["business_logic.deps"].close()

    assert response.status_code == 400
    assert json_of(response)["error"]["field"] == "customer_id"
    assert estimator.queries == []


def test_the_customer_id_reaches_the_model_runtime_as_the_routing_key(loaded_settings: Settings, tmp_path: Any) -> None:
    """Business logic -> data_processing (its real app, in process) -> a stub of the model runtime."""
    from data_processing.adapters.inference_http import HttpInferenceEngine
    from data_processing.domain.online import FeatureValue, OnlineRow
    from data_processing.entrypoints.app import create_app as create_dp_app
    from data_processing.settings import Settings as DpSettings
    from tests.data_processing.fakes import InMemoryOnlineStore

    engine = EngineStub()
    store = InMemoryOnlineStore()
    stats: dict[str, FeatureValue] = {"order_count_7d": 5, "avg_prep_minutes_7d": 10.0, "avg_delivery_minutes_7d": 30.0}
    store.load_version("restaurant_stats", [OnlineRow("r-000001", datetime(2026, 3, 14), stats)])
    engine_client = ServiceClient("inference_engine", "http://engine.test", transport=httpx.MockTransport(engine))
    dp_settings = DpSettings(var_dir=tmp_path / "dp")
    dp_app = create_dp_app(dp_settings, online_store=store, inference_engine=HttpInferenceEngine(engine_client))
    as_business_logic = service_credential_for(dp_settings, "business_logic")

    for client in bl_client(loaded_settings, httpx.WSGITransport(app=dp_app), as_business_logic):
        keyed = client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET, "customer_id": "c-77"})
        unkeyed = client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET})

        assert (keyed.status_code, unkeyed.status_code) == (200, 200)
    assert engine.headers[0]["X-Routing-Key"] == "c-77"
    assert "X-Routing-Key" not in engine.headers[1]
