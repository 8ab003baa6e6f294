"""A real browser on the real page: business_logic and ui served over HTTP, only the ETD estimator faked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from business_logic import services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.restaurants import EtdEstimate, EtdQuery
from business_logic.entrypoints.app import create_app as create_business_logic_app
from business_logic.errors import EstimatorUnavailable
from business_logic.ports import EtdEstimator
from business_logic.settings import Settings as BusinessLogicSettings
from tests.support import serve
from ui.entrypoints.app import create_app as create_ui_app
from ui.settings import Settings as UiSettings

pytestmark = pytest.mark.browser

CATALOG = {
    "countries": [{"code": "PT", "name": "Portugal"}, {"code": "ES", "name": "Spain"}],
    "cities": [
        {"id": "c-0001", "name": "Lisbon", "country_code": "PT"},
        {"id": "c-0002", "name": "Madrid", "country_code": "ES"},
    ],
    "restaurants": [
        {
            "id": "r-000001",
            "name": "Tasca do Zé",
            "city_id": "c-0001",
            "country_code": "PT",
            "cuisine": "portuguese",
            "menu": [
                {"item_id": "i-000001-01", "name": "Bacalhau à Brás", "price": 12.5},
                {"item_id": "i-000001-02", "name": "Caldo verde", "price": 4.2},
                {"item_id": "i-000001-03", "name": "<script>alert(1)</script>", "price": 1},
            ],
        },
        {
            "id": "r-000002",
            "name": "Casa Paco",
            "city_id": "c-0002",
            "country_code": "ES",
            "cuisine": "spanish",
            "menu": [{"item_id": "i-000002-01", "name": "Tortilla", "price": 7.5}],
        },
    ],
}


class SwitchableEstimator(EtdEstimator):
    def __init__(self) -> None:
        self.down = False

    def estimate(self, query: EtdQuery) -> EtdEstimate:
        if self.down:
            raise EstimatorUnavailable("inference engine unavailable")
        return EtdEstimate(minutes=33.2 + query.n_items)


@pytest.fixture
def estimator() -> SwitchableEstimator:
    return SwitchableEstimator()


@pytest.fixture
def ui_url(tmp_path: Path, estimator: SwitchableEstimator) -> Iterator[str]:
    bl_settings = BusinessLogicSettings(var_dir=tmp_path / "var", database_url="", log_json=False)
    database = SqlDatabase(bl_settings.database_url)
    services.load_catalog(database.unit_of_work, parse_catalog(CATALOG))
    database.close()
    bl_server, bl_url = serve(create_business_logic_app(bl_settings, estimator=estimator))
    ui_server, url = serve(
        create_ui_app(UiSettings(var_dir=tmp_path / "var", log_json=False, business_logic_url=bl_url))
    )
    try:
        yield url
    finally:
        ui_server.shutdown()
        bl_server.shutdown()


def test_pick_restaurant_set_quantity_and_see_minutes(
    ui_url: str, estimator: SwitchableEstimator, tmp_path: Path, browser: Browser
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    page.goto(ui_url)
    expect(page.locator("#restaurant optgroup")).to_have_count(2)
    expect(page.locator("#restaurant optgroup").first).to_have_attribute("label", "Lisbon (PT)")

    page.fill("#restaurant-search", "tasca")
    expect(page.locator("#restaurant option[value='r-000002']")).to_have_count(0)
    page.select_option("#restaurant", "r-000001")
    expect(page.locator("#menu input")).to_have_count(3)
    # a menu name with markup is shown as text, not run
    expect(page.locator("#menu")).to_contain_text("<script>alert(1)</script>")

    page.fill("#menu input[data-item-id='i-000001-01']", "2")
    page.click("#estimate")
    expect(page.locator("#etd-minutes")).to_have_text("36")  # ceil(33.2 + 2 items)
    expect(page.locator("#error")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "etd.png"), full_page=True)

    estimator.down = True
    page.click("#estimate")
    expect(page.locator("#error")).to_have_text("ETD temporarily unavailable: inference engine unavailable")
    expect(page.locator("#result")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "etd-unavailable.png"), full_page=True)

    estimator.down = False
    page.click("#estimate")
    expect(page.locator("#etd-minutes")).to_have_text("36")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column
    page.screenshot(path=str(tmp_path / "etd-phone.png"), full_page=True)
    assert (tmp_path / "etd.png").stat().st_size > 0
