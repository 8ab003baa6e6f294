"""The /operations page's API: fixed panels drawn from Prometheus's query_range, and the alerts, relayed unchanged
(fake at the MetricsHistory port; the HTTP adapter against a closed port)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.support import free_port
from tests.ui.test_ui_relay import FakeBusinessLogic
from ui.adapters.prometheus_http import HttpMetricsHistory
from ui.domain import operations
from ui.domain.reply import Reply
from ui.entrypoints.app import create_app
from ui.ports import MetricsHistory
from ui.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "ui" / "static"
MATRIX = {"status": "success", "data": {"resultType": "matrix", "result": [
    {"metric": {"component": "ui"}, "values": [[1700000000, "1.5"], [1700000015, "2"]]}]}}  # fmt: skip
ALERTS = {"status": "success", "data": {"alerts": [
    {"labels": {"alertname": "StrataFeatureDrift", "component": "inference_engine", "feature": "n_items"},
     "annotations": {"summary": "drift"}, "state": "firing", "activeAt": "2026-12-03T10:00:00Z",
     "value": "1"}]}}  # fmt: skip


class FakeMetricsHistory(MetricsHistory):
    def __init__(self) -> None:
        self.queries: list[tuple[str, float, float, float]] = []

    def query_range(self, query: str, start: float, end: float, step: float) -> Reply:
        self.queries.append((query, start, end, step))
        if "bad" in query:
            return Reply(400, {"status": "error", "errorType": "bad_data", "error": "parse error"})
        return Reply(200, MATRIX)

    def alerts(self) -> Reply:
        return Reply(200, ALERTS)


@pytest.fixture
def history() -> FakeMetricsHistory:
    return FakeMetricsHistory()


@pytest.fixture
def client(tmp_path: Path, history: FakeMetricsHistory) -> FlaskClient:
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    return create_app(settings, business_logic=FakeBusinessLogic(), metrics_history=history).test_client()


def test_the_page_loads_uplot_and_its_script_from_its_own_files(client: FlaskClient) -> None:
    response = client.get("/operations")
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and "default-src 'self'" in response.headers["Content-Security-Policy"]
    for stable_id in ('id="alerts"', 'id="panels"', 'id="ranges"', 'id="error"'):
        assert stable_id in html
    assert "/static/vendor/uplot/uPlot.iife.min.js" in html and "/static/operations.js" in html
    assert 'src="https://' not in html and 'href="https://' not in html  # no CDN


def test_the_panel_list_names_every_panel_with_its_query(client: FlaskClient) -> None:
    body = client.get("/api/operations/panels").get_json()

    assert [p["id"] for p in body["panels"]] == [p.id for p in operations.PANELS]
    assert body["ranges"] == ["15m", "1h", "6h", "1d"]
    assert all(p["query"] and p["title"] and p["unit"] for p in body["panels"])


def test_a_panel_is_its_fixed_query_over_the_range_ending_now(client: FlaskClient, history: FakeMetricsHistory) -> None:
    answer = client.get("/api/operations/panels/requests?range=1h")

    assert (answer.status_code, answer.get_json()) == (200, MATRIX)
    query, start, end, step = history.queries[-1]
    assert query == operations.panel("requests").query  # type: ignore[union-attr]
    assert end - start == 3600 and step == 15  # 240 points at most
    client.get("/api/operations/panels/requests")
    assert history.queries[-1][2] - history.queries[-1][1] == 3600  # 1h when no range is given


def test_an_unknown_panel_or_range_is_a_clear_4xx_and_no_query(
    client: FlaskClient, history: FakeMetricsHistory
) -> None:
    unknown = client.get("/api/operations/panels/up%7Bjob%3D%22x%22%7D")
    bad_range = client.get("/api/operations/panels/requests?range=1y")

    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_panel"
    assert bad_range.status_code == 400 and bad_range.get_json()["error"]["field"] == "range"
    assert "15m, 1h, 6h, 1d" in bad_range.get_json()["error"]["message"]
    assert history.queries == []


def test_the_alerts_are_relayed_unchanged(client: FlaskClient) -> None:
    assert client.get("/api/operations/alerts").get_json() == ALERTS


def test_prometheus_away_is_a_503_that_names_it(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    away = HttpMetricsHistory(f"http://127.0.0.1:{free_port()}", timeout_seconds=2, retries=0)
    client = create_app(settings, business_logic=FakeBusinessLogic(), metrics_history=away).test_client()

    for path in ("/api/operations/panels/errors?range=15m", "/api/operations/alerts"):
        answer = client.get(path)
        assert answer.status_code == 503, path
        assert "prometheus" in answer.get_json()["error"]["message"], path


def test_windows_cap_the_points_per_line() -> None:
    for name, seconds in operations.RANGES.items():
        window = operations.window(name, 1_700_000_000.7)
        assert window is not None and window.end == 1_700_000_000 and window.end - window.start == seconds
        assert seconds / window.step <= operations.MAX_POINTS
    assert operations.window("1y", 0) is None


def test_the_script_renders_server_strings_as_text_only() -> None:
    script = (STATIC / "operations.js").read_text()
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    assert "textContent" in script
