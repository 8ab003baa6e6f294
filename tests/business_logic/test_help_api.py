"""The help API over a real SQLite database in tmp_path, with fakes at the answer-engine port."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from business_logic import help_services
from business_logic.adapters.help_file import read_help_file
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.help import EngineAnswer
from business_logic.entrypoints.app import create_app
from business_logic.help_errors import AnswerEngineUnavailable
from business_logic.ports import HelpAnswerEngine
from business_logic.settings import Settings
from strata_kernel import background
from strata_kernel.eventlog.local import LocalEventLog
from tests.support import json_of

DEMO_FILE = Path(__file__).resolve().parents[2] / "business_logic" / "demo" / "help_questions.yaml"


class NeverCalledEngine(HelpAnswerEngine):
    """Predefined questions must never reach a model: any call fails the request (and the test)."""

    def answer(self, text: str) -> EngineAnswer:
        raise AssertionError(f"the answer engine was asked {text!r}")


class SwitchableEngine(HelpAnswerEngine):
    """Knows about cold food; otherwise does not know; raises AnswerEngineUnavailable while ``down``."""

    def __init__(self) -> None:
        self.down = False

    def answer(self, text: str) -> EngineAnswer:
        if self.down:
            raise AnswerEngineUnavailable("inference engine unavailable")
        if "cold" in text:
            return EngineAnswer(
                True,
                0.91,
                "helpbot",
                "2",
                "cold-food",
                "My food arrived cold",
                "http://help.test/cold.html",
                "Sorry! Report it from the order page and we refund you.",
            )
        return EngineAnswer(False, 0.1, "helpbot", "2")


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "var_dir": tmp_path / "var",
        "database_url": "",
        "log_json": False,
        "data_processing_url": "http://127.0.0.1:9",
        "help_centre_url": "http://help.test",
        "help_centre_categories": {"orders": "Orders"},
        "outbox_relay_interval_seconds": 0,
    }
    values.update(changes)
    return Settings(**values)


def _load_demo(settings: Settings) -> None:
    database = SqlDatabase(settings.database_url)
    help_services.load_predefined(database.unit_of_work, read_help_file(DEMO_FILE))
    database.close()


@pytest.fixture
def engine() -> SwitchableEngine:
    return SwitchableEngine()


@pytest.fixture
def help_client(tmp_path: Path, engine: SwitchableEngine) -> Iterator[FlaskClient]:
    settings = _settings(tmp_path)
    _load_demo(settings)
    app = create_app(settings, help_engine=engine, event_log=LocalEventLog(tmp_path / "eventlog"))
    yield app.test_client()
    app.extensions["business_logic.deps"].close()


def test_lists_the_predefined_questions_in_file_order(help_client: FlaskClient) -> None:
    response = help_client.get("/v1/help/questions")
    assert response.status_code == 200
    questions = json_of(response)["questions"]
    assert questions[0] == {"id": "where-is-my-order", "question": "Where is my order?"}
    assert len(questions) == len(read_help_file(DEMO_FILE))


def test_predefined_question_is_answered_without_the_model(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _load_demo(settings)
    app = create_app(settings, help_engine=NeverCalledEngine(), event_log=LocalEventLog(tmp_path / "eventlog"))
    try:
        response = app.test_client().post("/v1/help/ask", json={"question_id": "report-website-problem"})
    finally:
        app.extensions["business_logic.deps"].close()
    assert response.status_code == 200
    body = json_of(response)
    assert body["source"] == "predefined"
    assert "<script>alert(1)</script>" in body["answer"]  # stored and returned as text; the UI shows it as text
    assert body.get("article_url") is None  # no help-centre article covers it: no dead link
    assert body["ask_feedback"] is True
    assert "confidence" not in body


def test_free_text_known_and_unknown(help_client: FlaskClient) -> None:
    known = help_client.post("/v1/help/ask", json={"text": "my food arrived cold", "session_id": "s-42"})
    assert known.status_code == 200
    assert {k: json_of(known)[k] for k in ("source", "article_url", "article_title", "confidence")} == {
        "source": "model",
        "article_url": "http://help.test/cold.html",
        "article_title": "My food arrived cold",
        "confidence": 0.91,
    }
    unknown = help_client.post("/v1/help/ask", json={"text": "can I pay in seashells?"})
    assert unknown.status_code == 200
    assert json_of(unknown)["source"] == "unknown"
    assert "don't know" in json_of(unknown)["answer"]
    assert json_of(unknown)["links"] == [
        {"title": "Help centre", "url": "http://help.test/"},
        {"title": "Orders", "url": "http://help.test/categories/orders.html"},
    ]


def test_engine_down_is_a_polite_200_not_a_5xx(help_client: FlaskClient, engine: SwitchableEngine) -> None:
    engine.down = True
    response = help_client.post("/v1/help/ask", json={"text": "my food arrived cold"})
    assert response.status_code == 200
    assert json_of(response)["source"] == "fallback"
    assert json_of(response)["links"][0]["url"] == "http://help.test/"


def test_engine_unreachable_over_http_is_a_fallback(tmp_path: Path) -> None:
    settings = _settings(tmp_path, http_retries=0)  # data_processing_url points at a closed port
    _load_demo(settings)
    app = create_app(settings, event_log=LocalEventLog(tmp_path / "eventlog"))
    try:
        response = app.test_client().post("/v1/help/ask", json={"text": "where is my food"})
    finally:
        app.extensions["business_logic.deps"].close()
    assert (response.status_code, json_of(response)["source"]) == (200, "fallback")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"question_id": "cancel-order", "text": "and this"}, "body"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 501}, "text"),
        ({"text": 42}, "text"),
        ({"text": "hi", "session_id": "s" * 65}, "session_id"),
    ],
)
def test_bad_questions_are_400_naming_the_field(help_client: FlaskClient, body: dict[str, Any], field: str) -> None:
    response = help_client.post("/v1/help/ask", json=body)
    assert response.status_code == 400
    assert json_of(response)["error"]["field"] == field


def test_unknown_predefined_id_is_404(help_client: FlaskClient) -> None:
    response = help_client.post("/v1/help/ask", json={"question_id": "nope"})
    assert response.status_code == 404
    assert json_of(response)["error"]["code"] == "predefined_question_not_found"


def test_feedback_201_then_409_and_404_400(help_client: FlaskClient) -> None:
    question_id = json_of(help_client.post("/v1/help/ask", json={"question_id": "cancel-order"}))["question_id"]
    path = f"/v1/help/questions/{question_id}/feedback"

    for bad in ({"helpful": "yes"}, {"helpful": 1}, {"helpful": None}, {}):
        rejected = help_client.post(path, json=bad)
        assert rejected.status_code == 400, bad
        assert json_of(rejected)["error"]["field"] == "helpful"

    given = help_client.post(path, json={"helpful": True})
    assert given.status_code == 201
    assert len(json_of(given)["feedback_id"]) == 36
    again = help_client.post(path, json={"helpful": False})
    assert (again.status_code, json_of(again)["error"]["code"]) == (409, "feedback_already_given")
    metrics = help_client.get("/metrics").get_data(as_text=True)  # the helpful rate counts accepted feedback only
    assert 'strata_business_logic_help_feedback_total{helpful="true"} 1.0' in metrics
    assert 'strata_business_logic_help_feedback_total{helpful="false"} 0.0' in metrics

    missing = help_client.post(
        "/v1/help/questions/0b5bd1c3-6f1c-4c29-9a2e-6d6a5e1f2a11/feedback", json={"helpful": True}
    )
    assert missing.status_code == 404
    assert help_client.post("/v1/help/questions/garbage/feedback", json={"helpful": True}).status_code == 404


def test_answers_are_counted_by_source(help_client: FlaskClient, engine: SwitchableEngine) -> None:
    help_client.post("/v1/help/ask", json={"question_id": "cancel-order"})
    help_client.post("/v1/help/ask", json={"text": "my food arrived cold"})
    engine.down = True
    help_client.post("/v1/help/ask", json={"text": "my food arrived cold"})
    metrics = help_client.get("/metrics").get_data(as_text=True)
    for source, count in (("predefined", 1), ("model", 1), ("fallback", 1), ("unknown", 0), ("blocked", 0)):
        assert f'strata_business_logic_help_answers_total{{source="{source}"}} {count}.0' in metrics


def test_readiness_ignores_the_help_feature(tmp_path: Path, loaded_settings: Settings) -> None:
    # a catalog but no predefined questions and an unreachable answer engine: still ready for ETD quotes
    app = create_app(loaded_settings, event_log=LocalEventLog(tmp_path / "eventlog"))
    try:
        response = app.test_client().get("/readyz")
    finally:
        app.extensions["business_logic.deps"].close()
    assert (response.status_code, json_of(response)["status"]) == (200, "ready")


def test_openapi_documents_the_help_routes(help_client: FlaskClient) -> None:
    spec = json_of(help_client.get("/openapi.json"))
    assert {"/v1/help/questions", "/v1/help/ask", "/v1/help/questions/{question_id}/feedback"} <= set(spec["paths"])
    feedback = spec["paths"]["/v1/help/questions/{question_id}/feedback"]["post"]
    assert {"201", "404", "409"} <= set(feedback["responses"])
    assert "helpful" in spec["components"]["schemas"]["FeedbackIn"]["properties"]


def test_the_relay_thread_publishes_questions_and_feedback(tmp_path: Path, engine: SwitchableEngine) -> None:
    settings = _settings(tmp_path, outbox_relay_interval_seconds=0.05)
    _load_demo(settings)
    event_log = LocalEventLog(tmp_path / "eventlog")
    app = create_app(settings, help_engine=engine, event_log=event_log)
    background.start(app)  # what the server does in each worker after the fork
    try:
        client = app.test_client()
        question_id = json_of(client.post("/v1/help/ask", json={"text": "my food arrived cold"}))["question_id"]
        client.post(f"/v1/help/questions/{question_id}/feedback", json={"helpful": False})
        questions = _wait_for_events(event_log, "help.questions", 1)
        feedback = _wait_for_events(event_log, "help.feedback", 1)
    finally:
        app.extensions["business_logic.deps"].close()
    assert questions[0]["question_id"] == question_id and questions[0]["answer_source"] == "model"
    assert (feedback[0]["question_id"], feedback[0]["helpful"], feedback[0]["model_version"]) == (
        question_id,
        False,
        "2",
    )


def _wait_for_events(event_log: LocalEventLog, topic: str, count: int) -> list[dict[str, Any]]:
    consumer = event_log.consumer(topic, "test")
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    try:
        while len(events) < count and time.monotonic() < deadline:
            events.extend(event.value for event in consumer.poll(timeout_seconds=0.2))
    finally:
        consumer.close()
    return events
