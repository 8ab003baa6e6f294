"""The /features page and its relay to data_processing's directory API (fake at the port; HTTP adapter mocked)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient

from strata_kernel.errors import Unavailable
from tests.ui.test_ui_relay import FakeBusinessLogic
from ui.adapters.feature_directory_http import HttpFeatureDirectory
from ui.domain.reply import Reply
from ui.entrypoints.app import create_app
from ui.ports import FeatureDirectory
from ui.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "ui" / "static"


class FakeFeatureDirectory(FeatureDirectory):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def list_groups(self, text: str) -> Reply:
        self.calls.append(("list", text))
        return Reply(200, {"feature_groups": [{"name": "restaurant_stats"}]})

    def get_group(self, name: str) -> Reply:
        self.calls.append(("group", name))
        return Reply(404, {"error": {"code": "unknown_feature_group", "message": f"{name} is not registered"}})

    def get_feature(self, expression: str) -> Reply:
        self.calls.append(("feature", expression))
        return Reply(200, {"expression": expression, "users": []})


@pytest.fixture
def directory() -> FakeFeatureDirectory:
    return FakeFeatureDirectory()


@pytest.fixture
def client(tmp_path: Path, directory: FakeFeatureDirectory) -> FlaskClient:
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    return create_app(settings, business_logic=FakeBusinessLogic(), feature_directory=directory).test_client()


def test_the_page_loads_only_its_own_assets(client: FlaskClient) -> None:
    response = client.get("/features")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for stable_id in ('id="group-search"', 'id="groups"', 'id="schema"', 'id="group-facts"'):
        assert stable_id in html
    assert "/static/features.js" in html and "/static/features.css" in html
    assert "https://" not in html and 'src="//' not in html


def test_the_script_renders_server_strings_as_text_only() -> None:
    script = (STATIC / "features.js").read_text()

    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    assert "textContent" in script


def test_relays_pass_queries_names_and_errors_unchanged(client: FlaskClient, directory: FakeFeatureDirectory) -> None:
    listed = client.get("/api/feature-groups?q=prep")
    missing = client.get("/api/feature-groups/nope")
    feature = client.get("/api/features/%40restaurant_stats%3Aorder_count_7d")

    assert (listed.status_code, listed.get_json()) == (200, {"feature_groups": [{"name": "restaurant_stats"}]})
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "unknown_feature_group")
    assert feature.get_json()["expression"] == "@restaurant_stats:order_count_7d"
    assert directory.calls == [("list", "prep"), ("group", "nope"), ("feature", "@restaurant_stats:order_count_7d")]


def test_http_adapter_encodes_names_and_reports_data_processing_down() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ok": True})

    adapter = HttpFeatureDirectory("http://dp.test", transport=httpx.MockTransport(handler))
    adapter.get_feature("@g:f")
    adapter.list_groups("a b")
    adapter.get_group("x/y")
    assert seen == ["http://dp.test/v1/features/%40g%3Af", "http://dp.test/v1/feature-groups?q=a+b",
                    "http://dp.test/v1/feature-groups/x%2Fy"]  # fmt: skip

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    down = HttpFeatureDirectory("http://dp.test", retries=0, transport=httpx.MockTransport(refuse))
    with pytest.raises(Unavailable, match="data_processing unavailable: connection refused"):
        down.list_groups("")
