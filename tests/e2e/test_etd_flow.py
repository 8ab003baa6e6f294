"""ETD through every layer: development flow on a tiny data set, then requests through the running services."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.operations import estimate

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


def _basket(client: httpx.Client) -> tuple[str, list[dict[str, object]]]:
    restaurant_id = client.get("/v1/restaurants", params={"limit": 1}).json()["restaurants"][0]["id"]
    menu = client.get(f"/v1/restaurants/{restaurant_id}").json()["menu"]
    return restaurant_id, [{"item_id": menu[0]["item_id"], "quantity": 2}]


def _database_digest(stack: Stack) -> str:
    return hashlib.sha256((stack.var_dir / "business_logic" / "app.db").read_bytes()).hexdigest()


def test_etd_answer_through_business_logic(business_logic: httpx.Client) -> None:
    restaurant_id, basket = _basket(business_logic)
    response = business_logic.post("/v1/etd", json={"restaurant_id": restaurant_id, "basket": basket})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["restaurant_id"] == restaurant_id
    assert isinstance(body["etd_minutes"], int) and 5 <= body["etd_minutes"] <= 180


def test_served_etd_uses_todays_restaurant_features(stack: Stack, business_logic: httpx.Client) -> None:
    """The online snapshot the demo loads is usable now: not from the future, not past its TTL."""
    restaurant_id, _ = _basket(business_logic)
    body = estimate(stack, business_logic, restaurant_id)
    assert body.get("features_age_seconds") is not None, body
    assert 0 <= body["features_age_seconds"] <= 2 * 86400


def test_every_service_is_ready_and_described(stack: Stack) -> None:
    for name, url in stack.urls.items():
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200, name
        assert httpx.get(f"{url}/openapi.json", timeout=5).json()["openapi"].startswith("3"), name
        assert "strata_" in httpx.get(f"{url}/metrics", timeout=5).text, name


def test_bad_requests_are_refused_and_change_nothing(stack: Stack, business_logic: httpx.Client) -> None:
    restaurant_id, basket = _basket(business_logic)
    before = _database_digest(stack)

    unknown = business_logic.post("/v1/etd", json={"restaurant_id": "r-does-not-exist", "basket": basket})
    assert unknown.status_code == 404
    assert "r-does-not-exist" in unknown.json()["error"]["message"]

    malformed = business_logic.post("/v1/etd", json={"restaurant_id": restaurant_id, "basket": [{"item_id": "x"}]})
    assert malformed.status_code == 400
    assert "quantity" in malformed.json()["error"]["field"]

    assert _database_digest(stack) == before


def test_engine_down_gives_503_then_recovers_by_itself(stack: Stack, business_logic: httpx.Client) -> None:
    restaurant_id, basket = _basket(business_logic)
    order = {"restaurant_id": restaurant_id, "basket": basket}
    stopped = stack.cli("service", "stop", "inference_engine")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    try:
        down = business_logic.post("/v1/etd", json=order)
        assert down.status_code == 503
        message = down.json()["error"]["message"]
        assert "inference engine" in message.lower() and "\n" not in message and "Traceback" not in message
    finally:
        started = stack.cli("service", "start", "inference_engine")
        assert started.returncode == 0, started.stdout + started.stderr
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if business_logic.post("/v1/etd", json=order).status_code == 200:
            return
        time.sleep(0.5)
    pytest.fail("business logic did not recover after the inference engine came back")


def test_cli_refuses_unknown_process(stack: Stack) -> None:
    result = stack.cli("service", "stop", "nonsense")
    assert result.returncode == 1
    assert "unknown process" in result.stdout
