"""A real browser on /operations, fed by a real Prometheus: it scrapes the UI under test (live request rates) and
a monitor exporting a drift gauge, and evaluates a drift rule that fires; the page draws the panels with uPlot and
lists the firing alert with its component and feature."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, expect
from prometheus_client import CollectorRegistry, Gauge, make_wsgi_app

from tests.support import free_port, serve
from tests.ui.test_lake_browser import _painted_pixels
from tests.ui.test_ui_relay import FakeBusinessLogic
from ui.entrypoints.app import create_app as create_ui_app
from ui.settings import Settings as UiSettings

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
MONITOR_LABELS = {"component": "inference_engine", "layer": "inference_engine", "flow": "runtime", "model": "etd",
                  "version": "3", "window": "1h"}  # fmt: skip
#: a copy of a drift alert that fires at once (the deployable rules wait minutes; this test must not)
DRIFT_RULE = {"groups": [{"name": "operations-page-test", "rules": [{
    "alert": "StrataFeatureDrift",
    "expr": "max by (component, layer, flow, model, version, feature) (strata_monitor_feature_drift_detected) == 1",
    "labels": {"severity": "warning", "field": ""},
    "annotations": {
        "summary": "Input feature {{ $labels.feature }} of {{ $labels.model }} v{{ $labels.version }} drifted"
    },
}]}]}  # fmt: skip


@dataclass
class Stack:
    ui_url: str
    prometheus_url: str


def _monitor() -> tuple[object, str]:
    """A stand-in monitoring sidecar: one feature drifted (n_items), one not (subtotal)."""
    registry = CollectorRegistry()
    labels = [*MONITOR_LABELS, "feature"]
    detected = Gauge("strata_monitor_feature_drift_detected", "drift", labels, registry=registry)
    score = Gauge("strata_monitor_feature_drift_score", "distance", labels, registry=registry)
    for feature, distance in (("n_items", 0.42), ("subtotal", 0.03)):
        detected.labels(*MONITOR_LABELS.values(), feature).set(1 if distance > 0.1 else 0)
        score.labels(*MONITOR_LABELS.values(), feature).set(distance)
    return serve(make_wsgi_app(registry))


def _prometheus_config(ui_url: str, monitor_url: str, rules: Path) -> dict[str, object]:
    target = {"targets": [ui_url.removeprefix("http://")], "labels": {"component": "ui", "layer": "presentation"}}
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {"job_name": "strata-services", "static_configs": [target]},
            {"job_name": "strata-sidecars", "honor_labels": True,
             "static_configs": [{"targets": [monitor_url.removeprefix("http://")]}]},
        ],
    }  # fmt: skip


def _wait(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus; .ci/run does it)")
    prometheus_url = f"http://127.0.0.1:{free_port()}"
    settings = UiSettings(var_dir=tmp_path / "var", log_json=False, prometheus_url=prometheus_url)
    ui_server, ui_url = serve(create_ui_app(settings, business_logic=FakeBusinessLogic()))
    monitor_server, monitor_url = _monitor()
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(DRIFT_RULE))
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(_prometheus_config(ui_url, monitor_url, rules)))
    command = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
               f"--web.listen-address={prometheus_url.removeprefix('http://')}", "--log.level=warn"]  # fmt: skip
    prometheus = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(lambda: httpx.get(prometheus_url + "/-/ready", timeout=2).status_code == 200, "prometheus ready")
        for _ in range(5):  # some traffic on the UI before the page is opened
            httpx.get(ui_url + "/healthz", timeout=5)
        _wait(lambda: _firing(prometheus_url) and _points(prometheus_url, ui_url) >= 3, "a firing alert and data")
        yield Stack(ui_url, prometheus_url)
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)
        ui_server.shutdown()
        monitor_server.shutdown()  # type: ignore[attr-defined]


def _firing(prometheus_url: str) -> bool:
    alerts = httpx.get(prometheus_url + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return any(alert["state"] == "firing" for alert in alerts)


def _points(prometheus_url: str, ui_url: str) -> int:
    """Points of the requests panel as the page will ask for it (through the UI)."""
    result = httpx.get(ui_url + "/api/operations/panels/requests?range=15m", timeout=10).json()["data"]["result"]
    return max((len(series["values"]) for series in result), default=0)


def test_the_operations_page_draws_live_panels_and_the_firing_alert(stack: Stack, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1320, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(stack.ui_url + "/operations?range=15m")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)

    alert = page.locator("#alerts tbody tr[data-alert='StrataFeatureDrift']")
    expect(alert).to_have_count(1)
    expect(alert).to_have_attribute("data-component", "inference_engine")
    expect(alert).to_have_attribute("data-field", "n_items")
    expect(alert).to_contain_text("feature n_items")
    expect(alert).to_contain_text("etd · v3")
    expect(alert).to_contain_text("Input feature n_items of etd v3 drifted")
    expect(page.locator("#alerts-count")).to_have_text("1")

    requests = page.locator("article[data-panel='requests'] .ops-chart")
    expect(requests).to_have_attribute("data-series", "1")  # the UI: the only service scraped
    assert int(requests.get_attribute("data-points") or 0) >= 3
    assert _painted_pixels(page, "article[data-panel='requests'] .ops-chart") > 500
    expect(requests.locator(".u-legend")).to_contain_text("ui")
    # no 5xx at all: a 0% line for the UI, not an empty panel
    expect(page.locator("article[data-panel='errors'] .ops-chart")).to_have_attribute("data-series", "1")
    drift = page.locator("article[data-panel='feature_drift'] .ops-chart")
    expect(drift).to_have_attribute("data-series", "2")  # n_items and subtotal
    expect(drift.locator(".u-legend")).to_contain_text("n_items")
    expect(page.locator("article[data-panel='ready'] .ops-chart")).to_have_attribute("data-series", "1")
    expect(page.locator("#error")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "operations.png"), full_page=True)

    page.locator("#ranges button[data-range='1h']").click()  # another range: the panels are asked again
    expect(page.locator("#ranges button[data-range='1h']")).to_have_attribute("aria-pressed", "true")
    expect(requests).to_have_attribute("data-series", "1")
    assert errors == []
