"""A real browser on /features: the ui app relaying to a data_processing app with an SQLite feature directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.directory.services import deprecate_feature
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.entrypoints.app import create_app as create_dp_app
from data_processing.settings import Settings as DpSettings
from strata_kernel.contracts.auth import OPERATOR
from tests.data_processing.fakes import InMemoryOnlineStore, RecordingInferenceEngine
from tests.support import as_caller, serve
from ui.entrypoints.app import create_app as create_ui_app
from ui.settings import Settings as UiSettings

pytestmark = pytest.mark.browser
ORDER = {"restaurant_id": "r-1", "city_id": "c-1", "country_code": "ES", "placed_at": "2025-01-10T19:30:00",
         "n_items": 2, "subtotal": 18.0}  # fmt: skip
REASON = "<script>alert(1)</script> use @restaurant_realtime:orders_last_1h"


def _data_processing(var_dir: Path) -> object:
    """Both packaged groups registered; restaurant_stats fresh and read once by model etd; one feature deprecated."""
    settings = DpSettings(var_dir=var_dir, usage_flush_seconds=3600, log_json=False)
    store = InMemoryOnlineStore()
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    # freshness is what serving can read: the online version's newest feature_time, 3 h ago
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime.now() - timedelta(hours=3), values)])
    app = create_dp_app(settings, online_store=store, inference_engine=RecordingInferenceEngine())
    client = as_caller(app.test_client(), settings, OPERATOR)
    for name in ("restaurant_stats", "restaurant_realtime"):
        assert client.post("/v1/feature-groups", json={"path": f"{name}.yaml"}).status_code == 201
    assert client.post("/v1/etd/estimate", json=ORDER).status_code == 200
    app.extensions["strata.feature_usage"].flush()
    directory = SqlFeatureDirectory(settings.resolved_directory_url())
    directory.record_availability("restaurant_stats", datetime.now() - timedelta(hours=3), datetime.now())
    deprecate_feature(directory, "@restaurant_stats:avg_prep_minutes_7d", REASON, now=datetime.now())
    directory.close()
    return app


@pytest.fixture
def ui_url(tmp_path: Path) -> Iterator[str]:
    dp_server, dp_url = serve(_data_processing(tmp_path / "var"))
    ui_settings = UiSettings(var_dir=tmp_path / "var", log_json=False, data_processing_url=dp_url)
    ui_server, url = serve(create_ui_app(ui_settings))
    try:
        yield url
    finally:
        ui_server.shutdown()
        dp_server.shutdown()


def test_search_groups_see_freshness_schema_and_users(ui_url: str, tmp_path: Path, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(ui_url + "/features")
    groups = page.locator("#groups button[data-group]")
    expect(groups).to_have_count(2)
    expect(page.locator("button[data-group='restaurant_stats'] .badge")).to_have_attribute("data-status", "fresh")
    expect(page.locator("button[data-group='restaurant_realtime'] .badge")).to_have_text("no data yet")

    page.fill("#group-search", "prep")
    expect(groups).to_have_count(1)
    groups.first.click()
    expect(page.locator("#group-title")).to_have_text("restaurant_stats")
    rows = page.locator("#schema tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("@restaurant_stats:order_count_7d")
    expect(rows.nth(0)).to_contain_text("model:etd · 1\u00d7")  # read once
    deprecated = page.locator("#schema tr[data-feature='avg_prep_minutes_7d']")
    expect(deprecated).to_contain_text("deprecated")
    expect(deprecated).to_contain_text(REASON)  # markup shown as text, never run
    expect(page.locator("#group-facts")).to_contain_text("model:etd")
    expect(page.locator("#error")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "features.png"), full_page=True)
    assert (tmp_path / "features.png").stat().st_size > 0
