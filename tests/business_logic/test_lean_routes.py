"""business_logic's ETD and chatbot routes answer alike lean (strata_kernel.lean) and through Flask: the same schemas
in and out, the same 400s, the same counters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from business_logic.entrypoints.app import create_app
from business_logic.settings import Settings
from tests.business_logic.conftest import FIXED_NOW, FakeEstimator
from tests.support import answers_lean_and_through_flask

LINE = {"item_id": "i-000001-01", "quantity": 2}


#: case -> body of POST /v1/etd
QUOTES: dict[str, Any] = {
    "valid": {"restaurant_id": "r-000001", "basket": [LINE]},
    "customer": {"restaurant_id": "r-000001", "basket": [LINE], "customer_id": "cust-9"},
    "zero quantity": {"restaurant_id": "r-000001", "basket": [{**LINE, "quantity": 0}]},
    "quantity as text": {"restaurant_id": "r-000001", "basket": [{**LINE, "quantity": "2"}]},
    "empty basket": {"restaurant_id": "r-000001", "basket": []},
    "unknown field": {"restaurant_id": "r-000001", "basket": [LINE], "extra": 1},
    "no restaurant": {"restaurant_id": "r-404", "basket": [LINE]},
    "not on the menu": {"restaurant_id": "r-000001", "basket": [{"item_id": "not-on-menu", "quantity": 1}]},
    "missing restaurant": {"basket": [LINE]},
    "a list": [LINE],
    "a string": "quote",
    "null": None,
    "malformed JSON": b'{"restaurant_id": "r-000001",',
}
#: case -> body of POST /v1/help/ask
QUESTIONS: dict[str, Any] = {
    "free text": {"text": "where is my order?"},
    "with a session": {"text": "where is my order?", "session_id": "s-1"},
    "unknown predefined": {"question_id": "no-such-question"},
    "empty text": {"text": ""},
    "empty": {},
    "both": {"text": "x", "question_id": "q"},
    "text a number": {"text": 7},
    "malformed JSON": b'{"text": ',
}


@pytest.mark.parametrize("body", list(QUOTES.values()), ids=list(QUOTES))
def test_the_etd_route_answers_lean_as_through_flask(
    loaded_settings: Settings, estimator: FakeEstimator, body: Any
) -> None:
    seen = _both_paths(loaded_settings, estimator, "/v1/etd", body)

    assert seen["lean"] == {**seen["flask"], "dispatched": False}
    assert seen["flask"]["dispatched"] and seen["flask"]["status"] != "500 INTERNAL SERVER ERROR"
    outcomes = {key: value for key, value in seen["lean"]["counters"].items() if "etd_quotes_total" in key[0]}
    assert len(outcomes) == 1, "each quote counts one outcome"


@pytest.mark.parametrize("body", list(QUESTIONS.values()), ids=list(QUESTIONS))
def test_the_ask_route_answers_lean_as_through_flask(
    loaded_settings: Settings, estimator: FakeEstimator, body: Any
) -> None:
    seen = _both_paths(loaded_settings, estimator, "/v1/help/ask", body)

    for path in ("flask", "lean"):  # a new question id and session each time
        answer = seen[path]["body"]
        if isinstance(answer, dict) and "question_id" in answer:
            answer["question_id"] = "<new>"
            answer["session_id"] = answer.get("session_id") and "<session>"
    assert seen["lean"] == {**seen["flask"], "dispatched": False}
    assert seen["flask"]["dispatched"] and seen["flask"]["status"] != "500 INTERNAL SERVER ERROR"


def _both_paths(settings: Settings, estimator: FakeEstimator, path: str, body: Any) -> dict[str, dict[str, Any]]:
    apps = []

    def make_client() -> FlaskClient:
        app = create_app(settings, estimator=estimator, clock=lambda: FIXED_NOW)
        apps.append(app)
        return app.test_client()

    def send(client: FlaskClient) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body)
        return client.post(path, data=data, content_type="application/json")

    try:
        return answers_lean_and_through_flask(make_client, send)
    finally:
        for app in apps:
            app.extensions["business_logic.deps"].close()
