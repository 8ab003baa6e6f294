"""The /lake pages and their relay to the data lake's API (HTTP adapter against a mock transport)."""

from __future__ import annotations

from pathlib import Path

import httpx
from flask.testing import FlaskClient

from tests.support import json_of
from tests.ui.test_ui_relay import FakeBusinessLogic
from ui.adapters.data_lake_http import HttpLakeCatalog
from ui.entrypoints.app import create_app
from ui.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "ui" / "static"


def _client(tmp_path: Path, seen: list[httpx.Request]) -> FlaskClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/diff") and "from" not in request.url.params:
            return httpx.Response(400, json={"error": {"code": "invalid_version", "message": "from: required"}})
        return httpx.Response(200, json={"path": request.url.path, "query": str(request.url.query, "ascii")})

    lake = HttpLakeCatalog("http://lake", transport=httpx.MockTransport(answer))
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    return create_app(settings, business_logic=FakeBusinessLogic(), lake_catalog=lake).test_client()


def test_the_relay_passes_paths_queries_and_errors_unchanged(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    client = _client(tmp_path, seen)
    assert client.get("/api/lake/overview").json == {"path": "/v1/overview", "query": ""}
    profile = client.get("/api/lake/tables/processed.orders/profile?version=3&other=x").json
    assert profile == {"path": "/v1/tables/processed.orders/profile", "query": "version=3"}
    diff = json_of(client.get("/api/lake/tables/processed.orders/diff?from=1&to=2"))
    assert diff["query"] == "from=1&to=2"
    refused = client.get("/api/lake/tables/processed.orders/diff")
    assert refused.status_code == 400 and json_of(refused)["error"]["code"] == "invalid_version"
    assert json_of(client.get("/api/lake/tables/processed.orders/lineage"))["path"].endswith("/lineage")


def test_the_pages_load_only_their_own_files(tmp_path: Path) -> None:
    client = _client(tmp_path, [])
    for path in ("/lake", "/lake/processed.orders"):
        page = client.get(path)
        assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert b"vendor/uplot/uPlot.iife.min.js" in page.data and b"http" not in page.data.split(b"<body>")[0]
    for name in ("lake.js", "lake_table.js", "lake_charts.js", "vendor/uplot/uPlot.iife.min.js"):
        assert (STATIC / name).is_file()
    scripts = (STATIC / "lake_table.js").read_text() + (STATIC / "lake.js").read_text()
    assert "innerHTML" not in scripts  # server strings go in as text only
