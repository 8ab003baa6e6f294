"""The help-centre chatbot on the running stack, in a real browser: predefined question, free text answered by the
TensorFlow engine trained from the crawled help centre, feedback that reaches the lake's raw zone."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Dialog, expect

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PREDEFINED = Path(__file__).resolve().parents[2] / "business_logic" / "demo" / "help_questions.yaml"


def test_chat_predefined_free_text_feedback_reaches_the_lake(stack: Stack, tmp_path: Path, browser: Browser) -> None:
    predefined = yaml.safe_load(PREDEFINED.read_text())["questions"]
    dialogs: list[str] = []
    page = browser.new_page()

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{stack.urls['ui']}/help")
    expect(page.locator("#help-questions button")).to_have_count(len(predefined))
    answers = page.locator(".help-bot[data-source]")

    page.get_by_role("button", name="How do I report a problem with the website?").click()
    expect(answers).to_have_count(1)
    expect(answers.last).to_have_attribute("data-source", "predefined")
    expect(answers.last.locator(".help-answer")).to_contain_text("<script>alert(1)</script>")

    # free text in the user's own casing and punctuation: the engine maps it to the cold-food article
    page.fill("#help-text", "my FOOD arrived cold!!")
    page.click("#help-send")
    expect(answers).to_have_count(2)
    expect(answers.last).to_have_attribute("data-source", "model")
    article = answers.last.locator("a.help-article")
    cold_food = f"{stack.urls['help_centre']}/articles/delivery/food-arrived-cold.html"
    expect(article).to_have_attribute("href", cold_food)
    answers.last.locator(".help-yes").click()
    expect(answers.last.locator(".help-thanks")).to_be_visible()
    assert page.locator("#help-conversation script").count() == 0
    page.screenshot(path=str(tmp_path / "chat-e2e.png"), full_page=True)
    assert dialogs == []
    _wait_for_raw_feedback(stack, helpful=True)


def _wait_for_raw_feedback(stack: Stack, *, helpful: bool) -> None:
    """business logic's outbox -> help.feedback -> data_collection's collector -> raw.help_feedback."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        table = httpx.get(f"{stack.urls['data_lake']}/v1/tables/raw.help_feedback", timeout=5)
        if table.status_code == 200 and table.json()["rows"] >= 1:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the feedback never reached raw.help_feedback")
    import pyarrow.dataset as ds

    location = stack.var_dir / "lake" / table.json()["location"]
    rows = ds.dataset(location, format="parquet", partitioning="hive").to_table().to_pylist()
    assert [row["helpful"] for row in rows] == [helpful]
    assert rows[0]["answer_source"] == "model" and rows[0]["model"] == "helpbot"
