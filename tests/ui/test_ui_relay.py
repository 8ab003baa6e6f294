"""The UI's page and its /api relay, with a fake BusinessLogic at the port; and the HTTP adapter's relaying."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient

from strata_kernel.errors import Unavailable
from tests.support import json_of
from ui.adapters.business_logic_http import HttpBusinessLogic
from ui.domain.reply import Reply
from ui.entrypoints.app import create_app
from ui.ports import BusinessLogic
from ui.settings import Settings

NOT_ON_MENU = {
    "error": {"code": "invalid_basket", "message": "item 'x' is not on the menu", "field": "basket.0.item_id"}
}


class FakeBusinessLogic(BusinessLogic):
    """Answers canned replies and records what the UI asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.etd_reply = Reply(
            200,
            {
                "restaurant_id": "r-1",
                "etd_minutes": 34,
                "subtotal": 9.5,
                "n_items": 2,
                "quoted_at": "2026-03-14T12:30:00",
            },
        )
        self.down = False

    def list_restaurants(self, filters: Mapping[str, str]) -> Reply:
        self.calls.append(("list", dict(filters)))
        return Reply(200, {"restaurants": [{"id": "r-1", "name": "<b>Tasca</b>", "city": "Lisbon"}]})

    def get_restaurant(self, restaurant_id: str) -> Reply:
        self.calls.append(("get", restaurant_id))
        if restaurant_id != "r-1":
            return Reply(
                404, {"error": {"code": "restaurant_not_found", "message": "not found", "field": "restaurant_id"}}
            )
        return Reply(200, {"id": "r-1", "menu": []})

    def quote_etd(self, body: object) -> Reply:
        self.calls.append(("etd", body))
        if self.down:
            raise Unavailable("business_logic unavailable: connection refused", code="business_logic_unavailable")
        return self.etd_reply

    def problem(self) -> str | None:
        return "business_logic unavailable: connection refused" if self.down else None


@pytest.fixture
def fake() -> FakeBusinessLogic:
    return FakeBusinessLogic()


@pytest.fixture
def client(tmp_path: Path, fake: FakeBusinessLogic) -> FlaskClient:
    return create_app(Settings(var_dir=tmp_path, log_json=False), business_logic=fake).test_client()


def test_page_has_the_stable_ids_and_loads_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for element_id in ("restaurant", "menu", "estimate", "etd-minutes", "error"):
        assert f'id="{element_id}"' in page
    assert "http://" not in page and "https://" not in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_script_never_renders_server_strings_as_html(client: FlaskClient) -> None:
    script = client.get("/static/app.js").get_data(as_text=True)
    assert "innerHTML" not in script.replace("never innerHTML", "")
    assert "insertAdjacentHTML" not in script and "document.write" not in script


def test_restaurants_relay_passes_known_filters_only(client: FlaskClient, fake: FakeBusinessLogic) -> None:
    response = client.get("/api/restaurants?q=tas&city_id=c-1&limit=5&evil=1")
    assert response.status_code == 200
    assert response.json == {"restaurants": [{"id": "r-1", "name": "<b>Tasca</b>", "city": "Lisbon"}]}
    assert fake.calls == [("list", {"city_id": "c-1", "q": "tas", "limit": "5"})]


def test_restaurant_relay_passes_404_unchanged(client: FlaskClient) -> None:
    assert client.get("/api/restaurants/r-1").json == {"id": "r-1", "menu": []}
    missing = client.get("/api/restaurants/r-9")
    assert missing.status_code == 404
    assert json_of(missing)["error"]["field"] == "restaurant_id"


def test_etd_relay_passes_body_and_errors_unchanged(client: FlaskClient, fake: FakeBusinessLogic) -> None:
    basket = {"restaurant_id": "r-1", "basket": [{"item_id": "i-1", "quantity": 2}]}
    ok = client.post("/api/etd", json=basket)
    assert (ok.status_code, json_of(ok)["etd_minutes"]) == (200, 34)
    assert fake.calls[-1] == ("etd", basket)

    fake.etd_reply = Reply(400, NOT_ON_MENU)
    rejected = client.post("/api/etd", json=basket)
    assert (rejected.status_code, rejected.json) == (400, NOT_ON_MENU)

    unavailable = {
        "error": {"code": "etd_unavailable", "message": "ETD temporarily unavailable: inference engine unavailable"}
    }
    fake.etd_reply = Reply(503, unavailable)
    down = client.post("/api/etd", json=basket)
    assert (down.status_code, down.json) == (503, unavailable)


def test_business_logic_down_is_a_503_with_a_reason(client: FlaskClient, fake: FakeBusinessLogic) -> None:
    fake.down = True
    response = client.post("/api/etd", json={"restaurant_id": "r-1", "basket": []})
    assert response.status_code == 503
    assert json_of(response)["error"]["message"] == "business_logic unavailable: connection refused"
    assert client.get("/readyz").status_code == 503


def test_http_adapter_relays_status_and_body_and_encodes_ids() -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/etd":
            return httpx.Response(400, json=NOT_ON_MENU)
        return httpx.Response(404, json={"error": {"code": "restaurant_not_found", "message": "nope"}})

    adapter = HttpBusinessLogic("http://bl.test", transport=httpx.MockTransport(upstream))
    assert adapter.quote_etd({"restaurant_id": "r-1", "basket": []}) == Reply(400, NOT_ON_MENU)
    assert json.loads(seen[0].content) == {"restaurant_id": "r-1", "basket": []}
    assert adapter.get_restaurant("a/b?c").status == 404
    assert seen[1].url.raw_path == b"/v1/restaurants/a%2Fb%3Fc"


def test_http_adapter_reports_business_logic_down() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    adapter = HttpBusinessLogic("http://bl.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(Unavailable, match="business_logic unavailable"):
        adapter.list_restaurants({})
    assert adapter.problem() == "business_logic unavailable: connection refused"
