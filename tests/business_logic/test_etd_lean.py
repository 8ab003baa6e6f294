"""business_logic's ETD route answers alike lean (strata_kernel.lean) and through Flask: the same schemas in and out,
the same 400s, the same outcome counter."""

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


@pytest.mark.parametrize(
    "body",
    [
        {"restaurant_id": "r-000001", "basket": [LINE]},
        {"restaurant_id": "r-000001", "basket": [LINE], "customer_id": "cust-9"},
        {"restaurant_id": "r-000001", "basket": [{**LINE, "quantity": 0}]},
        {"restaurant_id": "r-000001", "basket": [{**LINE, "quantity": "2"}]},
        {"restaurant_id": "r-000001", "basket": []},
        {"restaurant_id": "r-000001", "basket": [LINE], "extra": 1},
        {"restaurant_id": "r-404", "basket": [LINE]},
        {"restaurant_id": "r-000001", "basket": [{"item_id": "not-on-menu", "quantity": 1}]},
        {"basket": [LINE]},
        [LINE],
        "quote",
        None,
        b'{"restaurant_id": "r-000001",',
    ],
    ids=[
        "valid",
        "customer",
        "zero quantity",
        "quantity as text",
        "empty basket",
        "unknown field",
        "no restaurant",
        "not on the menu",
        "missing restaurant",
        "a list",
        "a string",
        "null",
        "malformed JSON",
    ],
)
def test_the_etd_route_answers_lean_as_through_flask(
    loaded_settings: Settings, estimator: FakeEstimator, body: Any
) -> None:
    apps = []

    def make_client() -> FlaskClient:
        app = create_app(loaded_settings, estimator=estimator, clock=lambda: FIXED_NOW)
        apps.append(app)
        return app.test_client()

    def send(client: FlaskClient) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body)
        return client.post("/v1/etd", data=data, content_type="application/json")

    try:
        seen = answers_lean_and_through_flask(make_client, send)
    finally:
        for app in apps:
            app.extensions["business_logic.deps"].close()

    assert seen["lean"] == {**seen["flask"], "dispatched": False}
    assert seen["flask"]["dispatched"] and seen["flask"]["status"] != "500 INTERNAL SERVER ERROR"
    outcomes = {key: value for key, value in seen["lean"]["counters"].items() if "etd_quotes_total" in key[0]}
    assert len(outcomes) == 1, "each quote counts one outcome"
