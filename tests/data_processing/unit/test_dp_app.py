from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from data_processing.adapters.inference_http import HttpInferenceEngine
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.entrypoints.app import create_app
from data_processing.settings import Settings
from strata_kernel.http import ServiceClient
from tests.data_processing.fakes import InMemoryOnlineStore, RecordingInferenceEngine
from tests.support import answers_lean_and_through_flask, as_caller

BODY: dict[str, Any] = {
    "restaurant_id": "r-1",
    "city_id": "c-1",
    "country_code": "ES",
    "placed_at": "2025-01-10T19:30:00",
    "n_items": 2,
    "subtotal": 18.0,
}


def _loaded_store() -> InMemoryOnlineStore:
    store = InMemoryOnlineStore()
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime(2025, 1, 10), values)])
    return store


def _client(settings: Settings, store: InMemoryOnlineStore, engine: Any) -> FlaskClient:
    client = create_app(settings, online_store=store, inference_engine=engine).test_client()
    return as_caller(client, settings, "business_logic")


def test_estimate_answers_the_contract_shape(settings: Settings) -> None:
    response = _client(settings, _loaded_store(), RecordingInferenceEngine(value=27.5)).post(
        "/v1/etd/estimate", json=BODY
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "etd_minutes": 27.5,
        "model": "etd",
        "version": "3",
        "features_age_seconds": 70200.0,
    }


@pytest.mark.parametrize(("field", "value"), [("n_items", 0), ("placed_at", "soon"), ("restaurant_id", None)])
def test_a_bad_order_is_a_400_naming_the_field(settings: Settings, field: str, value: Any) -> None:
    engine = RecordingInferenceEngine()
    response = _client(settings, _loaded_store(), engine).post("/v1/etd/estimate", json={**BODY, field: value})

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert engine.instances == []


def test_inference_engine_down_is_a_503_with_one_line(settings: Settings) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = ServiceClient(
        "inference_engine", "http://inference.test", retries=1, transport=httpx.MockTransport(refuse)
    )
    response = _client(settings, _loaded_store(), HttpInferenceEngine(client)).post("/v1/etd/estimate", json=BODY)

    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "inference_engine_unavailable"
    assert "\n" not in error["message"] and "connection refused" in error["message"]


def test_the_http_adapter_sends_the_contract_body() -> None:
    seen: list[Any] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.read()))
        return httpx.Response(200, json={"model": "etd", "version": "4", "predictions": [33.0]})

    client = ServiceClient("inference_engine", "http://inference.test", transport=httpx.MockTransport(answer))
    predictions = HttpInferenceEngine(client).predict("etd", [{"order__n_items": 2.0, "x__y": None}])

    assert seen == [("/v1/models/etd/predict", b'{"instances":[{"order__n_items":2.0,"x__y":null}]}')]
    assert [(p.model, p.version, p.value) for p in predictions] == [("etd", "4", 33.0)]


def test_ready_only_once_restaurant_stats_is_loaded(settings: Settings) -> None:
    store = InMemoryOnlineStore()
    client = _client(settings, store, RecordingInferenceEngine())

    not_ready = client.get("/readyz")
    store.load_version("restaurant_stats", [])
    ready = client.get("/readyz")

    assert not_ready.status_code == 503
    assert "restaurant_stats" in not_ready.get_json()["reasons"][0]
    assert ready.status_code == 200


def test_metrics_expose_lookup_latency_and_feature_age(settings: Settings) -> None:
    client = _client(settings, _loaded_store(), RecordingInferenceEngine())
    client.post("/v1/etd/estimate", json=BODY)

    text = client.get("/metrics").get_data(as_text=True)

    assert "strata_data_processing_online_lookup_seconds_count 1.0" in text
    assert 'strata_data_processing_feature_age_seconds{group="restaurant_stats"}' in text


@pytest.mark.parametrize(
    "body",
    [BODY, {**BODY, "n_items": 0}, {**BODY, "placed_at": None}, [BODY], "order", b'{"restaurant_id": "r-1",'],
    ids=["valid", "bad field", "null field", "a list", "a string", "malformed JSON"],
)
def test_the_estimate_route_answers_lean_as_through_flask(settings: Settings, body: Any) -> None:
    def send(client: FlaskClient) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body)
        return client.post("/v1/etd/estimate", data=data, content_type="application/json")

    seen = answers_lean_and_through_flask(
        lambda: _client(settings, _loaded_store(), RecordingInferenceEngine(value=27.5)), send
    )

    assert seen["lean"] == {**seen["flask"], "dispatched": False}
    assert seen["flask"]["dispatched"]


def test_the_help_answer_route_answers_lean_as_through_flask(settings: Settings) -> None:
    for body in ({"text": "where is my order"}, {"text": ""}, {"question": "x"}):
        seen = answers_lean_and_through_flask(
            lambda: _client(settings, _loaded_store(), RecordingInferenceEngine()),
            lambda client, body=body: client.post("/v1/help/answer", json=body),  # type: ignore[misc]
        )

        assert seen["lean"] == {**seen["flask"], "dispatched": False}
