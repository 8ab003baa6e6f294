"""A real browser on /models/etd: the ui app relaying over HTTP to a served stand-in of the engine's tree route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.strata_cli.tree_sample import MARKUP, FakeInferenceEngine
from tests.support import free_port, serve
from ui.entrypoints.app import create_app as create_ui_app
from ui.settings import Settings as UiSettings

pytestmark = pytest.mark.browser


@pytest.fixture
def ui_url(tmp_path: Path) -> Iterator[str]:
    engine_server, engine_url = serve(FakeInferenceEngine())
    closed = f"http://127.0.0.1:{free_port()}"  # comparative_eval is away: the page says so, the rest shows
    settings = UiSettings(var_dir=tmp_path / "var", log_json=False, inference_engine_url=engine_url,
                          comparative_eval_url=closed, http_retries=0)  # fmt: skip
    ui_server, url = serve(create_ui_app(settings))
    try:
        yield url
    finally:
        ui_server.shutdown()
        engine_server.shutdown()


def test_the_tree_shows_nodes_fallbacks_counts_and_filters(ui_url: str, tmp_path: Path, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(ui_url + "/models/etd")
    rows = page.locator("#tree tbody tr")
    expect(rows).to_have_count(10)
    # cities follow their country
    expect(rows.nth(2)).to_have_attribute("data-node", "country_code=FR/city_id=c-lyo")
    expect(page.locator("#tree-meta")).to_contain_text("version 3 · partitioned by country_code → city_id")
    expect(page.locator("#model-meta")).to_contain_text("partitioned (one model per node) · serving version 3")
    expect(page.locator("#quality")).to_contain_text("3.15")
    run = page.locator("#versions a")
    expect(run).to_have_attribute("href", "http://127.0.0.1:5000/#/experiments/1/runs/0123456789abcdef")
    built = page.locator("#versions td.provenance")
    expect(built).to_contain_text("commit 4f2a9c1e00")
    expect(built).to_contain_text("dvc.lock ab12ab12ab12")
    expect(built).to_contain_text("processed.etd_training_set@v4")
    expect(built).to_contain_text("xgboost 3.1.2, tensorflow 2.21.0, numpy 2.3.5")
    expect(page.locator("#history-empty")).to_contain_text("No deployment history: comparative_eval")
    expect(page.locator("[data-count='trained'] .value")).to_have_text("5")
    expect(page.locator("[data-count='worse_than_parent'] .value")).to_have_text("1")
    expect(page.locator("[data-count='skipped_min_rows'] .value")).to_have_text("4")

    rotterdam = page.locator("tr[data-node='country_code=NL/city_id=c-rot']")
    expect(rotterdam).to_contain_text("worse than parent")
    expect(rotterdam).to_contain_text("↑ country_code=NL")
    expect(rotterdam).to_contain_text(MARKUP)  # the reason's markup shown as text, never run
    expect(page.locator("tr[data-node='country_code=FR/city_id=c-lyo']")).to_contain_text("↑ global")
    expect(page.locator("tr[data-node='country_code=NL/city_id=c-ams']")).to_contain_text("itself")

    page.locator("tr[data-node='country_code=NL'] .mt-toggle").click()  # collapse the Netherlands
    expect(rows).to_have_count(8)
    expect(page.locator("tr[data-node='country_code=NL/city_id=c-ams']")).to_have_count(0)
    page.fill("#node-filter", "c-ams")  # the filter finds a city inside a collapsed country
    expect(rows).to_have_count(1)
    page.fill("#node-filter", "nothing-like-this")
    expect(page.locator("#no-match")).to_be_visible()
    page.fill("#node-filter", "")
    expect(page.locator("#error")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "models.png"), full_page=True)

    page.goto(ui_url + "/models/churn")
    expect(page.locator("#model-error")).to_have_text("no registered model named churn")
    expect(page.locator("#tree-section")).to_be_hidden()
    assert (tmp_path / "models.png").stat().st_size > 0
