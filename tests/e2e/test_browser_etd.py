"""A real browser on the running stack: the ETD page shows a number computed by every layer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_etd_page_shows_minutes_from_the_model(stack: Stack, tmp_path: Path, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(stack.urls["ui"])
    first = page.locator("#restaurant optgroup option").first  # the first real restaurant, not the prompt
    expect(first).to_be_attached()
    page.select_option("#restaurant", first.get_attribute("value"))
    page.locator("#menu input").first.fill("2")
    page.click("#estimate")
    expect(page.locator("#etd-minutes")).to_have_text(_whole_minutes())
    expect(page.locator("#error")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "etd-e2e.png"), full_page=True)


def _whole_minutes() -> re.Pattern[str]:
    return re.compile(r"^\d{1,3}$")
