"""`POST /v1/help/answer` on the data_processing service: validation, the engine call, and failures."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from data_processing.adapters.help_http import HttpHelpEngine
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.entrypoints.app import create_app
from data_processing.ports import HelpEngine
from data_processing.settings import Settings
from data_processing.text import VECTORISER_ID, vectorise
from tests.data_processing.fakes import InMemoryOnlineStore, RecordingInferenceEngine
from tests.data_processing.help_fakes import KNOWN, FakeHelpEngine, HttpFakeEngine
from tests.support import as_caller, serve

QUESTION = "How do I cancel my order?"
ORDER = {"restaurant_id": "r-1", "city_id": "c-1", "country_code": "ES", "placed_at": "2025-01-10T19:30:00",
         "n_items": 2, "subtotal": 18.0}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", log_json=False, http_retries=0)


def _loaded_store() -> InMemoryOnlineStore:
    store = InMemoryOnlineStore()
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime(2025, 1, 10), values)])
    return store


def _client(settings: Settings, engine: HelpEngine) -> FlaskClient:
    app = create_app(
        settings, online_store=_loaded_store(), inference_engine=RecordingInferenceEngine(), help_engine=engine
    )
    return as_caller(app.test_client(), settings, "business_logic")


def test_answer_sends_the_vectorised_question_and_answers_the_contract_shape(settings: Settings) -> None:
    engine = FakeHelpEngine()

    response = _client(settings, engine).post("/v1/help/answer", json={"text": f"  {QUESTION}\n"})

    assert response.status_code == 200
    assert response.get_json() == {**KNOWN, "model": "helpbot", "version": "2"}
    assert engine.calls == [("helpbot", vectorise(QUESTION))]


def test_the_model_comes_from_the_help_model_setting(settings: Settings) -> None:
    engine = FakeHelpEngine()
    settings = settings.model_copy(update={"help_model": "helpbot_v2"})

    _client(settings, engine).post("/v1/help/answer", json={"text": QUESTION})

    assert [model for model, _ in engine.calls] == ["helpbot_v2"]


@pytest.mark.parametrize(
    "body",
    [{}, {"text": None}, {"text": 42}, {"text": ""}, {"text": "   \n"}, {"text": "x" * 501}, {"text": "?!…"}, ["x"]],
)
def test_a_bad_question_is_a_400_naming_text_and_asks_no_model(settings: Settings, body: Any) -> None:
    engine = FakeHelpEngine()

    response = _client(settings, engine).post("/v1/help/answer", json=body)

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "text"
    assert engine.calls == []


def test_five_hundred_characters_after_stripping_are_accepted(settings: Settings) -> None:
    engine = FakeHelpEngine()

    response = _client(settings, engine).post("/v1/help/answer", json={"text": "  " + "where " * 83 + "ab  "})

    assert response.status_code == 200


def test_an_unknown_question_has_no_answer_to_show(settings: Settings) -> None:
    unknown = {**KNOWN, "known": False, "confidence": 0.12}
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"model": "helpbot", "version": "7", "predictions": [unknown]})
    )
    engine = HttpHelpEngine.connect("http://inference.test", transport=transport)

    body = _client(settings, engine).post("/v1/help/answer", json={"text": "meaning of life"}).get_json()

    # the engine's best guess is kept for the record; nothing of it is shown
    assert body == {"known": False, "article_id": "cancel-order", "confidence": 0.12, "title": None, "url": None,
                    "answer": None, "model": "helpbot", "version": "7"}  # fmt: skip


def test_an_answer_without_predictions_is_a_502(settings: Settings) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"model": "helpbot", "version": "7"}))
    engine = HttpHelpEngine.connect("http://inference.test", transport=transport)

    response = _client(settings, engine).post("/v1/help/answer", json={"text": QUESTION})

    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "upstream_error"


def test_through_a_real_engine_server_the_vectoriser_and_request_id_travel_and_failures_are_503(
    settings: Settings,
) -> None:
    fake = HttpFakeEngine(vectoriser=VECTORISER_ID)
    server, url = serve(fake)
    client = _client(settings, HttpHelpEngine.connect(url, retries=0))

    answered = client.post("/v1/help/answer", json={"text": QUESTION}, headers={"X-Request-ID": "req-help-1"})
    fake.vectoriser = "hash-ngram-v0:1024:crc32:00000000"  # the engine now serves a model trained on other ids
    refused = client.post("/v1/help/answer", json={"text": QUESTION})
    server.shutdown()
    server.server_close()
    down = client.post("/v1/help/answer", json={"text": QUESTION})

    assert answered.status_code == 200
    assert answered.get_json() == {**KNOWN, "model": "helpbot", "version": "7"}
    path, headers, body = fake.requests[0]
    assert path == "/v1/models/helpbot/predict"
    assert json.loads(body) == {"instances": [{"token_ids": vectorise(QUESTION)}]}
    assert (headers["X-Vectoriser"], headers["X-Request-Id"]) == (VECTORISER_ID, "req-help-1")
    for response, reason in ((refused, "trained on vectoriser"), (down, "connection refused")):
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "inference_engine_unavailable"
        assert reason in error["message"] and "\n" not in error["message"]


def test_etd_estimates_and_readiness_do_not_depend_on_the_help_model(settings: Settings) -> None:
    client = _client(settings, FakeHelpEngine(down=True))

    assert client.get("/readyz").status_code == 200
    assert client.post("/v1/etd/estimate", json=ORDER).status_code == 200
    assert client.post("/v1/help/answer", json={"text": QUESTION}).status_code == 503


def test_vectorise_shows_what_the_model_is_sent(settings: Settings) -> None:
    body = (
        _client(settings, FakeHelpEngine())
        .post("/v1/help/vectorise", json={"text": "Where\u2019s my order?"})
        .get_json()
    )

    assert body == {"normalised": "where is my order", "token_ids": vectorise("where is my order"),
                    "vectoriser": VECTORISER_ID}  # fmt: skip


def test_metrics_count_known_and_unknown_answers(settings: Settings) -> None:
    client = _client(settings, FakeHelpEngine())
    client.post("/v1/help/answer", json={"text": QUESTION})

    assert 'strata_data_processing_help_answers_total{known="true"} 1.0' in client.get("/metrics").get_data(
        as_text=True
    )
