"""A real browser on the help page: business_logic and ui served over HTTP, data_processing's answer API faked."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request
from playwright.sync_api import Browser, expect

from business_logic import help_services
from business_logic.adapters.help_file import read_help_file
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.entrypoints.app import create_app as create_business_logic_app
from business_logic.settings import Settings as BusinessLogicSettings
from tests.support import serve
from ui.entrypoints.app import create_app as create_ui_app
from ui.settings import Settings as UiSettings

pytestmark = pytest.mark.browser

DEMO_FILE = Path(__file__).resolve().parents[2] / "business_logic" / "demo" / "help_questions.yaml"
COLD_ANSWER = "Sorry! Report it from the order page and we refund you."


def _record_dialog(dialog: Any, seen: list[str]) -> None:
    """An alert() would mean markup from an answer ran: record it (the test fails) and close it."""
    seen.append(dialog.message)
    dialog.dismiss()


def _fake_data_processing() -> Flask:
    """``POST /v1/help/answer`` as data_processing answers it (docs/contracts.md)."""
    app = Flask("fake_data_processing")

    @app.post("/v1/help/answer")
    def answer() -> Any:
        text = request.get_json()["text"]
        body: dict[str, Any] = {
            "known": False,
            "article_id": None,
            "confidence": 0.1,
            "title": None,
            "url": None,
            "answer": None,
            "model": "helpbot",
            "version": "1",
        }
        if "cold" in text:
            body.update(
                known=True,
                article_id="cold-food",
                confidence=0.93,
                title="My food arrived cold",
                url="http://127.0.0.1:8007/orders/cold-food.html",
                answer=COLD_ANSWER,
            )
        elif "evil" in text:
            body.update(
                known=True,
                article_id="x",
                confidence=0.9,
                title="<img src=x onerror=alert(2)>",
                url="javascript:alert(3)",
                answer="<img src=x onerror=alert(4)>",
            )
        return jsonify(body)

    return app


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, BusinessLogicSettings]]:
    dp_server, dp_url = serve(_fake_data_processing())
    settings = BusinessLogicSettings(
        var_dir=tmp_path / "var",
        database_url="",
        log_json=False,
        data_processing_url=dp_url,
        help_centre_categories={"orders": "Orders", "payments": "Payments"},
    )
    database = SqlDatabase(settings.database_url)
    help_services.load_predefined(database.unit_of_work, read_help_file(DEMO_FILE))
    database.close()
    bl_app = create_business_logic_app(settings)
    bl_server, bl_url = serve(bl_app)
    ui_server, ui_url = serve(
        create_ui_app(UiSettings(var_dir=tmp_path / "var", log_json=False, business_logic_url=bl_url))
    )
    try:
        yield ui_url, settings
    finally:
        ui_server.shutdown()
        bl_server.shutdown()
        dp_server.shutdown()
        bl_app.extensions["business_logic.deps"].close()


def test_choose_ask_give_feedback_and_markup_stays_text(
    stack: tuple[str, BusinessLogicSettings], tmp_path: Path, browser: Browser
) -> None:
    ui_url, settings = stack
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.on("dialog", lambda dialog: _record_dialog(dialog, dialogs))
    page.goto(ui_url)
    page.click("a[href='/help']")  # the ETD page links to the help page
    expect(page.locator("#help-questions button")).to_have_count(len(read_help_file(DEMO_FILE)))
    answers = page.locator(".help-bot[data-source]")

    # a predefined question, answered from the database, with its article
    page.get_by_role("button", name="Where is my order?").click()
    expect(answers).to_have_count(1)
    expect(answers.last.locator(".help-answer")).to_contain_text("Open Orders and tap your current order")
    expect(answers.last.locator("a.help-article")).to_have_attribute(
        "href", "http://127.0.0.1:8007/articles/orders/where-is-my-order.html"
    )

    # free text the model knows, then feedback
    page.fill("#help-text", "my food arrived cold")
    page.click("#help-send")
    expect(answers).to_have_count(2)
    cold = answers.last
    expect(cold.locator(".help-answer")).to_have_text(COLD_ANSWER)
    expect(cold.locator("a.help-article")).to_have_text("My food arrived cold")
    expect(cold.locator(".help-prompt")).to_have_text("Did I answer your question?")
    cold.locator(".help-yes").click()
    expect(cold.locator(".help-thanks")).to_have_text("Thanks for your feedback!")
    expect(cold.locator(".help-yes")).to_have_count(0)

    # free text it does not know: a polite answer with the help centre's links
    page.fill("#help-text", "can I pay in seashells?")
    page.press("#help-text", "Enter")
    expect(answers).to_have_count(3)
    expect(answers.last).to_have_attribute("data-source", "unknown")
    expect(answers.last.locator(".help-links a")).to_have_count(3)
    expect(answers.last.locator(".help-links a").first).to_have_attribute("href", "http://127.0.0.1:8007/")

    # markup in answers is shown as text, never run; a javascript: link never becomes clickable
    page.get_by_role("button", name="How do I report a problem with the website?").click()
    expect(answers).to_have_count(4)
    expect(answers.last.locator(".help-answer")).to_contain_text("<script>alert(1)</script>")
    page.fill("#help-text", "evil")
    page.click("#help-send")
    expect(answers).to_have_count(5)
    expect(answers.last.locator(".help-answer")).to_have_text("<img src=x onerror=alert(4)>")
    expect(answers.last.locator("a")).to_have_count(0)
    assert page.locator("#help-conversation script, #help-conversation img").count() == 0
    script_text = answers.nth(3).locator(".help-answer").text_content()
    assert script_text is not None and "<script>" in script_text
    page.screenshot(path=str(tmp_path / "help.png"), full_page=True)

    assert dialogs == []
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT answer_source FROM help_questions ORDER BY asked_at, rowid").fetchall()
        feedback = connection.execute("SELECT helpful FROM help_feedback").fetchall()
    assert sorted(source for (source,) in stored) == ["model", "model", "predefined", "predefined", "unknown"]
    assert feedback == [(1,)]
