"""The HTTP API over a real SQLite database in tmp_path, with a fake estimator at its port."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from flask.testing import FlaskClient

from business_logic.entrypoints.app import create_app
from business_logic.settings import Settings
from tests.support import json_of

BASKET = [{"item_id": "i-000001-01", "quantity": 2}, {"item_id": "i-000001-02", "quantity": 1}]


def _table_rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("countries", "cities", "restaurants", "menu_items")
        }


def test_lists_restaurants_by_city_then_name(client: FlaskClient) -> None:
    response = client.get("/v1/restaurants")
    assert response.status_code == 200
    assert [r["id"] for r in json_of(response)["restaurants"]] == ["r-000002", "r-000001", "r-000003"]
    assert json_of(response)["restaurants"][0] == {
        "id": "r-000002",
        "name": "Sushi Lx",
        "city_id": "c-0001",
        "city": "Lisbon",
        "country_code": "PT",
        "cuisine": "japanese",
    }


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("city_id=c-0002", ["r-000003"]),
        ("q=TASCA", ["r-000001"]),
        ("q=madrid", ["r-000003"]),
        ("q=japan", ["r-000002"]),
        ("q=%25", []),
        ("limit=1", ["r-000002"]),
    ],
)
def test_filters_restaurants(client: FlaskClient, query: str, ids: list[str]) -> None:
    assert [r["id"] for r in json_of(client.get(f"/v1/restaurants?{query}"))["restaurants"]] == ids


def test_rejects_a_bad_limit(client: FlaskClient) -> None:
    response = client.get("/v1/restaurants?limit=0")
    assert response.status_code == 400
    assert json_of(response)["error"]["field"] == "limit"


def test_restaurant_has_its_menu_and_unknown_is_404(client: FlaskClient) -> None:
    response = client.get("/v1/restaurants/r-000001")
    assert response.status_code == 200
    assert json_of(response)["menu"] == [
        {"item_id": "i-000001-01", "name": "Bacalhau", "price": 12.1},
        {"item_id": "i-000001-02", "name": "Bica", "price": 0.2},
    ]
    assert json_of(response)["city"] == "Lisbon"
    missing = client.get("/v1/restaurants/r-404")
    assert missing.status_code == 404
    assert "r-404" in json_of(missing)["error"]["message"]


def test_quote_etd(client: FlaskClient) -> None:
    response = client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET})
    assert response.status_code == 200
    assert response.json == {
        "restaurant_id": "r-000001",
        "etd_minutes": 34,
        "subtotal": 24.4,
        "n_items": 3,
        "quoted_at": "2026-03-14T12:30:00",
    }


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"restaurant_id": "r-000001", "basket": [{"item_id": "i-000003-01", "quantity": 1}]}, 400, "basket.0.item_id"),
        (
            {"restaurant_id": "r-000001", "basket": [{"item_id": "i-000001-01", "quantity": 0}]},
            400,
            "basket.0.quantity",
        ),
        (
            {"restaurant_id": "r-000001", "basket": [BASKET[0], {"item_id": "i-000001-02", "quantity": 100}]},
            400,
            "basket.1.quantity",
        ),
        (
            {"restaurant_id": "r-000001", "basket": [{"item_id": "i-000001-01", "quantity": "2"}]},
            400,
            "basket.0.quantity",
        ),
        ({"restaurant_id": "r-000001", "basket": []}, 400, "basket"),
        ({"restaurant_id": "r-000001", "basket": [BASKET[0]] * 51}, 400, "basket"),
        ({"basket": BASKET}, 400, "restaurant_id"),
        ({"restaurant_id": "r-999999", "basket": BASKET}, 404, "restaurant_id"),
    ],
)
def test_quote_errors_name_the_field(client: FlaskClient, body: dict[str, Any], status: int, field: str) -> None:
    response = client.post("/v1/etd", json=body)
    assert response.status_code == status
    assert json_of(response)["error"]["field"] == field


def test_invalid_json_is_400(client: FlaskClient) -> None:
    response = client.post("/v1/etd", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert "error" in json_of(response)


def test_estimator_down_is_503_then_recovers(client: FlaskClient, estimator: Any) -> None:
    estimator.down_reason = "inference engine unavailable"
    down = client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET})
    assert down.status_code == 503
    assert json_of(down)["error"]["message"] == "ETD temporarily unavailable: inference engine unavailable"
    assert "Traceback" not in down.get_data(as_text=True)

    estimator.down_reason = None
    assert client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET}).status_code == 200


def test_etd_requests_write_nothing(client: FlaskClient, loaded_settings: Settings) -> None:
    before = _table_rows(loaded_settings)
    client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET})
    client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": [{"item_id": "x", "quantity": 1}]})
    assert _table_rows(loaded_settings) == before


def test_quote_outcomes_are_counted(client: FlaskClient, estimator: Any) -> None:
    client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET})
    client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": []})
    estimator.down_reason = "inference engine unavailable"
    client.post("/v1/etd", json={"restaurant_id": "r-000001", "basket": BASKET})
    metrics = client.get("/metrics").get_data(as_text=True)
    for outcome in ("ok", "bad_request", "unavailable"):
        assert f'strata_business_logic_etd_quotes_total{{outcome="{outcome}"}} 1.0' in metrics


def test_openapi_describes_the_etd_body(client: FlaskClient) -> None:
    spec = json_of(client.get("/openapi.json"))
    body = spec["paths"]["/v1/etd"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/EtdIn")
    assert set(spec["components"]["schemas"]["EtdIn"]["required"]) == {"restaurant_id", "basket"}
    query = {p["name"] for p in spec["paths"]["/v1/restaurants"]["get"]["parameters"]}
    assert query == {"city_id", "q", "limit"}


def test_ready_only_with_restaurants(client: FlaskClient, settings: Settings, estimator: Any) -> None:
    assert client.get("/readyz").status_code == 200
    empty = create_app(
        settings.model_copy(update={"database_url": f"{settings.database_url}.empty"}), estimator=estimator
    )
    response = empty.test_client().get("/readyz")
    assert response.status_code == 503
    assert "load-catalog" in json_of(response)["reasons"][0]


def test_unreachable_database_is_not_ready(settings: Settings, estimator: Any) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    response = create_app(broken, estimator=estimator).test_client().get("/readyz")
    assert response.status_code == 503
    assert "database unavailable" in json_of(response)["reasons"][0]
