"""A real browser on /lake and /lake/processed.orders: the ui app relaying to a data_lake app with real profiles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from playwright.sync_api import Browser, expect

from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import serve, service_credential_for
from ui.entrypoints.app import create_app as create_ui_app
from ui.settings import Settings as UiSettings

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def orders(days: int, minutes: str = "delivery_minutes", seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = days * 400
    return pa.table({
        "order_id": [f"o-{i}" for i in range(n)],
        "city_id": np.array(["c-0001", "c-0002", "c-0003", "c-0004"])[rng.integers(0, 4, n)],
        "n_items": rng.integers(1, 6, n),
        "subtotal": np.round(rng.gamma(4, 6, n), 2),
        minutes: rng.normal(32, 7, n),
        "placed_at": (np.datetime64("2026-11-01") + rng.integers(0, days * 86_400, n).astype("timedelta64[s]")).astype(
            "datetime64[us]"
        ),
        "nominal_date": [str(np.datetime64("2026-11-01") + i // 400) for i in range(n)],
    })  # fmt: skip


@pytest.fixture
def ui_url(tmp_path: Path) -> Iterator[str]:
    settings = LakeSettings(var_dir=tmp_path / "var", profile_on_commit="sync", log_json=False)
    lake_app = create_lake_app(settings)
    credential = service_credential_for(settings, "data_processing")
    catalog = ServiceClient(
        "data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=lake_app)
    )
    lake = LakeClient(settings.resolved_lake_root(), catalog)
    raw = orders(7)
    lake.write_arrow("raw.order_placed", raw, partition_column="nominal_date", job="collect", inputs=["topic:x"])
    # v2: delivery_minutes renamed (same values) and every subtotal 50% higher (a drift); the rest unchanged
    renamed = orders(7, minutes="minutes_to_door")
    dearer = renamed.set_column(3, "subtotal", pc.multiply(renamed.column("subtotal"), 1.5))
    for table, data in (("processed.orders", orders(7)), ("processed.orders", dearer)):
        lake.write_arrow(table, data, partition_column="nominal_date", job="process-orders",
                         inputs=["raw.order_placed@v1"], mode="overwrite")  # fmt: skip
    # one day of 30,000 orders: histogram bars of 5-digit counts, whose y-axis labels must fit
    busy = pa.table({"n_items": np.repeat([1, 2], 15_000), "nominal_date": ["2026-11-01"] * 30_000})
    lake.write_arrow("processed.busy_day", busy, partition_column="nominal_date", job="process-orders",
                     inputs=["raw.order_placed@v1"])  # fmt: skip
    lake_server, lake_url = serve(lake_app)
    ui_server, url = serve(create_ui_app(UiSettings(var_dir=tmp_path / "var", log_json=False, data_lake_url=lake_url)))
    try:
        yield url
    finally:
        ui_server.shutdown()
        lake_server.shutdown()


def _painted_pixels(page: object, selector: str) -> int:
    """Non-transparent pixels of the first canvas under ``selector``: a chart that drew something."""
    script = """(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted;
    }"""
    return int(page.evaluate(script, selector))  # type: ignore[attr-defined]


def test_lake_pages_show_tables_histograms_and_a_renamed_column(ui_url: str, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(ui_url + "/lake")
    expect(page.locator("#tables tbody tr[data-table]")).to_have_count(3)
    row = page.locator("tr[data-table='processed.orders']")
    expect(row.locator("td").nth(2)).to_have_text("v2")
    expect(row.locator(".sparkline")).to_have_attribute("data-points", "7")
    assert _painted_pixels(page, "tr[data-table='processed.orders'] .sparkline") > 50
    page.screenshot(path=str(SCREENSHOTS / "lake.png"), full_page=True)

    row.locator("a").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    minutes = page.locator("article[data-column='minutes_to_door'] .histogram")
    expect(minutes).to_have_attribute("data-total", "2800")
    assert int(minutes.get_attribute("data-bars") or 0) >= 10
    assert _painted_pixels(page, "article[data-column='minutes_to_door'] .histogram") > 500
    expect(page.locator("article[data-column='city_id'] .lake-top li")).to_have_count(4)
    expect(page.locator("#partitions-chart")).to_have_attribute("data-bars", "7")
    expect(page.locator("#upstream")).to_contain_text("raw.order_placed @v1")
    page.screenshot(path=str(SCREENSHOTS / "lake_table.png"), full_page=True)

    page.goto(ui_url + "/lake/processed.orders?compare=1..2")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    renamed = page.locator("#schema-changes li[data-change='renamed']")
    expect(renamed).to_have_text(
        re.compile(r"^renamed delivery_minutes → minutes_to_door \(double, same distribution: drift 0\.0[0-4]\d\)$")
    )
    expect(page.locator("#compare-rows")).to_have_text("Rows 2,800 → 2,800 (+0.0%)")
    columns = "#compare-columns tbody tr[data-column='{}']"
    expect(page.locator(columns.format("subtotal") + " .drifted")).to_have_count(1)
    expect(page.locator(columns.format("n_items") + " .drifted")).to_have_count(0)
    # each version's distribution drawn on one axis: the renamed column's old name against its new one
    old_to_new = page.locator(columns.format("minutes_to_door") + " td").first
    expect(old_to_new).to_have_text("delivery_minutes → minutes_to_door")
    for column in ("minutes_to_door", "subtotal", "placed_at"):
        expect(page.locator(columns.format(column) + " .compare-chart")).to_have_attribute("data-series", "2")
        assert _painted_pixels(page, columns.format(column) + " .compare-chart") > 300, column
    expect(page.locator(columns.format("city_id") + " .compare-shares li")).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "lake_compare.png"), full_page=True)
    assert errors == []


def test_a_histograms_axis_labels_fit_beside_it(ui_url: str, browser: Browser) -> None:
    """Bars of 15,000 need a y axis wide enough for "15,000": a fixed 46 px one showed "5,000" beside the top bar."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(ui_url + "/lake/processed.busy_day")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    chart = "article[data-column='n_items'] .histogram"
    expect(page.locator(chart)).to_have_attribute("data-total", "30000")
    fits = page.evaluate(
        """(selector) => {
            const plot = document.querySelector(selector + ' .u-over');  // the plotting area, right of the y axis
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = '11px system-ui';
            // uPlot draws a label right-aligned 15 px (tick + gap) left of the plotting area
            return [plot.offsetLeft, 15 + ctx.measureText('15,000').width];
        }""",
        chart,
    )
    assert fits[0] >= fits[1], fits
