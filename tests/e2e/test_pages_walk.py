"""A real browser walks every page of the navigation on the running stack, with the network unplugged (every request
to a host other than this machine is blocked): no error box, no panel left empty where the services hold data, and
every service's /docs renders Swagger UI from its own files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
LOCAL = {"127.0.0.1", "localhost"}


def _unplugged(context: Any, blocked: list[str]) -> None:
    """Block every request that would leave this machine, and remember it."""

    def route(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", route)


def _no_error_shown(page: Any, path: str) -> None:
    for box in page.locator(".error, [role=alert]").all():
        assert not box.is_visible() or not box.inner_text().strip(), f"{path}: {box.inner_text()}"
    assert "Loading" not in page.locator("main").inner_text(), f"{path}: still loading"


def _check_page(page: Any, path: str, stack: Stack) -> None:
    """What each page must show when the services hold data."""
    if path == "/":
        expect(page.locator("#restaurant optgroup option").first).to_be_attached()
    elif path == "/help":
        expect(page.locator("#help-questions button").first).to_be_visible()
    elif path == "/features":
        expect(page.locator("#groups button[data-group]")).to_have_count(2)
        api = httpx.get(f"{stack.urls['data_processing']}/v1/feature-groups", timeout=10).json()["feature_groups"]
        for group in api:
            badge = page.locator(f"button[data-group='{group['name']}'] .badge")
            if group["freshness"]["age_seconds"] is not None:  # data exists: the page says how old, as the API does
                expect(badge).not_to_have_text("no data yet")
                expect(badge).to_have_attribute("data-status", group["freshness"]["status"])
        stats = next(g for g in api if g["name"] == "restaurant_stats")
        assert stats["freshness"]["age_seconds"] is not None  # the build loaded it online
    elif path == "/models":
        expect(page.locator("#models tbody tr")).to_have_count(2)
        expect(page.locator("#models tbody")).not_to_contain_text("…")
    elif path == "/operations":  # the run's own Prometheus scrapes every service: a request-rate line for each
        expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
        expect(page.locator("#alerts-count")).not_to_be_empty()
        expect(page.locator("article[data-panel='ready'] .ops-chart canvas")).to_have_count(1, timeout=60_000)
    elif path == "/lake":
        expect(page.locator("#tables tbody tr").first).not_to_contain_text("Loading")
        assert page.locator("#tables tbody tr").count() >= 5


def _check_model(page: Any, name: str) -> None:
    expect(page.locator("#versions tbody tr").first).to_be_visible()
    expect(page.locator("#history tbody tr").first).to_be_visible()  # the build's first deployment at least
    expect(page.locator("#versions a").first).to_have_attribute("href", re.compile(r"/#/experiments/\w+/runs/\w+$"))
    if name == "helpbot":
        for words in ("held-out top-1 accuracy", "coverage", "out-of-scope questions rejected"):
            expect(page.locator("#quality")).to_contain_text(words)
        expect(page.locator("#tree-section")).to_be_hidden()
    else:
        expect(page.locator("#quality")).to_contain_text("MAE")
        expect(page.locator("#tree tbody tr").first).to_be_visible()


def test_every_page_from_the_navigation_and_every_docs_page_offline(
    stack: Stack, tmp_path: Path, browser: Browser
) -> None:
    blocked: list[str] = []
    ui = stack.urls["ui"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    _unplugged(context, blocked)
    page = context.new_page()
    page.goto(ui + "/")
    paths = page.locator("nav.nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"/", "/help", "/features", "/models"} <= set(paths)
    for path in paths:
        page.goto(ui + path)
        page.wait_for_load_state("networkidle")
        _check_page(page, path, stack)
        _no_error_shown(page, path)
        page.screenshot(path=str(tmp_path / f"page{path.replace('/', '_')}.png"), full_page=True)
    for name in ("etd", "helpbot"):
        page.goto(f"{ui}/models/{name}")
        page.wait_for_load_state("networkidle")
        _check_model(page, name)
        _no_error_shown(page, f"/models/{name}")
        page.screenshot(path=str(tmp_path / f"model_{name}.png"), full_page=True)
    for service, url in stack.urls.items():
        if service == "help_centre":
            continue  # a static site, not an API
        page.goto(url + "/docs")
        expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=20_000)
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert blocked == [], blocked
