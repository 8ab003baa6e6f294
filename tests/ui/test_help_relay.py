"""The /help page and its /api/help relay, with a fake HelpCentre at the port; and the HTTP adapter's relaying."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient

from strata_kernel.errors import Unavailable
from tests.support import json_of
from ui.adapters.help_http import HttpHelpCentre
from ui.domain.reply import Reply
from ui.entrypoints.app import create_app
from ui.ports import HelpCentre
from ui.settings import Settings

CONFLICT = {"error": {"code": "feedback_already_given", "message": "already given", "field": "question_id"}}


class FakeHelpCentre(HelpCentre):
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.down = False

    def list_questions(self) -> Reply:
        self.calls.append(("list", None))
        return Reply(200, {"questions": [{"id": "q1", "question": "<b>Where</b> is my order?"}]})

    def ask(self, body: object) -> Reply:
        self.calls.append(("ask", body))
        if self.down:
            raise Unavailable("business_logic unavailable: connection refused", code="business_logic_unavailable")
        return Reply(
            200, {"question_id": "u-1", "answer": "<i>text</i>", "source": "model", "links": [], "ask_feedback": True}
        )

    def give_feedback(self, question_id: str, body: object) -> Reply:
        self.calls.append(("feedback", (question_id, body)))
        return Reply(409, CONFLICT) if question_id == "done" else Reply(201, {"feedback_id": "f-1"})


@pytest.fixture
def fake() -> FakeHelpCentre:
    return FakeHelpCentre()


@pytest.fixture
def client(tmp_path: Path, fake: FakeHelpCentre) -> FlaskClient:
    return create_app(Settings(var_dir=tmp_path, log_json=False), help_centre=fake).test_client()


def test_help_page_has_its_elements_and_loads_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/help")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for element_id in ("help-questions", "help-form", "help-text", "help-send", "help-conversation", "help-error"):
        assert f'id="{element_id}"' in page
    assert "http://" not in page and "https://" not in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert client.get("/static/help.js").status_code == 200
    assert client.get("/static/help.css").status_code == 200


def test_the_etd_page_links_to_help(client: FlaskClient) -> None:
    assert 'href="/help"' in client.get("/").get_data(as_text=True)


def test_help_script_renders_text_only(client: FlaskClient) -> None:
    script = client.get("/static/help.js").get_data(as_text=True)
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert unsafe not in script
    assert 'protocol === "http:" || parsed.protocol === "https:"' in script


def test_relays_status_and_body_unchanged(client: FlaskClient, fake: FakeHelpCentre) -> None:
    listed = client.get("/api/help/questions")
    assert (listed.status_code, json_of(listed)["questions"][0]["question"]) == (200, "<b>Where</b> is my order?")

    asked = client.post("/api/help/ask", json={"text": "hi", "session_id": "s"})
    assert (asked.status_code, json_of(asked)["answer"]) == (200, "<i>text</i>")
    assert fake.calls[-1] == ("ask", {"text": "hi", "session_id": "s"})

    given = client.post("/api/help/questions/u-1/feedback", json={"helpful": True})
    assert (given.status_code, given.json) == (201, {"feedback_id": "f-1"})
    refused = client.post("/api/help/questions/done/feedback", json={"helpful": True})
    assert (refused.status_code, refused.json) == (409, CONFLICT)


def test_business_logic_down_is_a_503_json_error(client: FlaskClient, fake: FakeHelpCentre) -> None:
    fake.down = True
    response = client.post("/api/help/ask", json={"text": "hi"})
    assert response.status_code == 503
    assert json_of(response)["error"]["code"] == "business_logic_unavailable"


def test_http_adapter_relays_errors_and_quotes_the_question_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/feedback"):
            return httpx.Response(400, json={"error": {"code": "invalid_request", "message": "helpful: bad"}})
        return httpx.Response(200, json={"questions": []})

    adapter = HttpHelpCentre("http://bl.test", retries=0, transport=httpx.MockTransport(handler))
    assert adapter.list_questions() == Reply(200, {"questions": []})
    reply = adapter.give_feedback("a/b", {"helpful": "x"})
    assert reply.status == 400 and reply.body == {"error": {"code": "invalid_request", "message": "helpful: bad"}}
    assert seen[-1].url.raw_path == b"/v1/help/questions/a%2Fb/feedback"
    assert json.loads(seen[-1].content) == {"helpful": "x"}
