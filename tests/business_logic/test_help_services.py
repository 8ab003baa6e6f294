"""Help use cases over a real SQLite database in tmp_path, with fakes at the answer-engine and event-log ports."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from business_logic import help_services
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.help import (
    BLOCKED_ANSWER,
    FALLBACK_ANSWER,
    UNKNOWN_ANSWER,
    EngineAnswer,
    HelpCentre,
    HelpPolicy,
    PredefinedQuestion,
    ProhibitedWords,
)
from business_logic.errors import DatabaseUnavailable
from business_logic.help_errors import (
    AnswerEngineUnavailable,
    FeedbackAlreadyGiven,
    InvalidQuestion,
    PredefinedQuestionNotFound,
    QuestionNotFound,
)
from business_logic.ports import HelpAnswerEngine
from strata_kernel.errors import Unavailable
from strata_kernel.eventlog import EventConsumer, EventLog
from strata_kernel.eventlog.local import LocalEventLog

NOW = datetime(2026, 3, 14, 12, 30, 0)
POLICY = HelpPolicy(HelpCentre("http://help.test", {"orders": "Orders"}), ProhibitedWords(["idiot", "crap"]))
CENTRE_URLS = ["http://help.test/", "http://help.test/categories/orders.html"]
PREDEFINED = [
    PredefinedQuestion("refunds", "How long does a refund take?", "3 to 5 working days.", "http://help.test/r.html"),
    PredefinedQuestion("rude", "Why was my rider late?", "Because the rider is an IDIÓT.", None),
]
KNOWN = EngineAnswer(True, 0.87, "helpbot", "4", "cold-food", "Cold food", "http://help.test/cold.html", "We refund.")


class ScriptedEngine(HelpAnswerEngine):
    """Answers ``reply``; raises AnswerEngineUnavailable while ``down``."""

    def __init__(self, reply: EngineAnswer = KNOWN) -> None:
        self.reply = reply
        self.down = False
        self.asked: list[str] = []

    def answer(self, text: str) -> EngineAnswer:
        self.asked.append(text)
        if self.down:
            raise AnswerEngineUnavailable("inference engine unavailable")
        return self.reply


class BrokenEventLog(EventLog):
    def __init__(self) -> None:
        self.attempts = 0

    def publish(self, topic: str, events: Sequence[Mapping[str, Any]], key_field: str | None = None) -> None:
        self.attempts += 1
        raise Unavailable("kafka publish failed: broker down", code="event_log_unavailable")

    def consumer(self, topic: str, group: str) -> EventConsumer:
        raise NotImplementedError


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SqlDatabase]:
    database = SqlDatabase(f"sqlite:///{tmp_path / 'help.db'}")
    help_services.load_predefined(database.unit_of_work, PREDEFINED)
    yield database
    database.close()


def _rows(tmp_path: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "help.db") as connection:
        return connection.execute(query).fetchall()


def _outbox(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(payload) for (payload,) in _rows(tmp_path, "SELECT payload FROM outbox ORDER BY id")]


def _ask(database: SqlDatabase, text: str, engine: HelpAnswerEngine, session_id: str | None = "s-1") -> Any:
    return help_services.ask_free_text(
        text,
        session_id=session_id,
        request_id="req-1",
        uow_factory=database.unit_of_work,
        engine=engine,
        policy=POLICY,
        clock=lambda: NOW,
    )


def _ask_predefined(database: SqlDatabase, predefined_id: str) -> Any:
    return help_services.ask_predefined(
        predefined_id,
        session_id="s-1",
        request_id="req-0",
        uow_factory=database.unit_of_work,
        policy=POLICY,
        clock=lambda: NOW,
    )


def test_predefined_question_is_answered_from_the_database_and_stored_with_its_event(
    database: SqlDatabase, tmp_path: Path
) -> None:
    reply = _ask_predefined(database, "refunds")

    assert (reply.source, reply.answer, reply.article_url, reply.ask_feedback) == (
        "predefined",
        "3 to 5 working days.",
        "http://help.test/r.html",
        True,
    )
    stored = _rows(tmp_path, "SELECT kind, predefined_id, text, answer_source, session_id FROM help_questions")
    assert stored == [("predefined", "refunds", "How long does a refund take?", "predefined", "s-1")]
    [event] = _outbox(tmp_path)
    assert event["question_id"] == reply.question_id
    assert {k: event[k] for k in ("event_type", "kind", "predefined_id", "answer_source", "model", "request_id")} == {
        "event_type": "help_question",
        "kind": "predefined",
        "predefined_id": "refunds",
        "answer_source": "predefined",
        "model": None,
        "request_id": "req-0",
    }


def test_unknown_predefined_id_is_404_and_stores_nothing(database: SqlDatabase, tmp_path: Path) -> None:
    with pytest.raises(PredefinedQuestionNotFound):
        _ask_predefined(database, "nope")
    assert _rows(tmp_path, "SELECT count(*) FROM help_questions") == [(0,)]


def test_prohibited_word_in_a_predefined_answer_is_blocked(database: SqlDatabase, tmp_path: Path) -> None:
    reply = _ask_predefined(database, "rude")
    assert (reply.source, reply.answer) == ("blocked", BLOCKED_ANSWER)
    assert [link.url for link in reply.links] == CENTRE_URLS
    assert _rows(tmp_path, "SELECT answer_source, answer FROM help_questions") == [("blocked", BLOCKED_ANSWER)]


def test_known_free_text_is_answered_by_the_model(database: SqlDatabase, tmp_path: Path) -> None:
    engine = ScriptedEngine()
    reply = _ask(database, "  my food arrived cold  ", engine)

    assert engine.asked == ["my food arrived cold"]
    assert (reply.source, reply.answer, reply.article_url, reply.article_title, reply.confidence) == (
        "model",
        "We refund.",
        "http://help.test/cold.html",
        "Cold food",
        0.87,
    )
    stored = _rows(
        tmp_path, "SELECT kind, answer_source, article_id, confidence, model, model_version FROM help_questions"
    )
    assert stored == [("free_text", "model", "cold-food", 0.87, "helpbot", "4")]
    [event] = _outbox(tmp_path)
    assert (event["text"], event["article_id"], event["model_version"]) == ("my food arrived cold", "cold-food", "4")


def test_unknown_free_text_gets_a_polite_i_dont_know(database: SqlDatabase, tmp_path: Path) -> None:
    reply = _ask(database, "can I pay in seashells?", ScriptedEngine(EngineAnswer(False, 0.12, "helpbot", "4")))
    assert (reply.source, reply.answer, reply.article_url) == ("unknown", UNKNOWN_ANSWER, None)
    assert [link.url for link in reply.links] == CENTRE_URLS
    assert _rows(tmp_path, "SELECT answer_source, confidence, model FROM help_questions") == [
        ("unknown", 0.12, "helpbot")
    ]


def test_engine_down_gets_the_fallback_and_is_still_stored(database: SqlDatabase, tmp_path: Path) -> None:
    engine = ScriptedEngine()
    engine.down = True
    reply = _ask(database, "where is my order", engine, session_id=None)
    assert (reply.source, reply.answer) == ("fallback", FALLBACK_ANSWER)
    assert [link.url for link in reply.links] == CENTRE_URLS
    [(source, model, session)] = _rows(tmp_path, "SELECT answer_source, model, session_id FROM help_questions")
    assert (source, model) == ("fallback", None)
    assert len(session) == 36  # a session id is made up when the client sent none


def test_prohibited_word_in_a_model_answer_is_blocked(database: SqlDatabase, tmp_path: Path) -> None:
    rude = EngineAnswer(
        True, 0.9, "helpbot", "4", "cold-food", "Cold food", "http://help.test/cold.html", "Total CRAP."
    )
    reply = _ask(database, "my food arrived cold", ScriptedEngine(rude))
    assert (reply.source, reply.answer, reply.article_url) == ("blocked", BLOCKED_ANSWER, None)
    [event] = _outbox(tmp_path)
    assert (event["answer_source"], event["model"]) == ("blocked", "helpbot")


@pytest.mark.parametrize("text", ["", "   ", "x" * 501])
def test_empty_or_too_long_text_is_refused_before_the_engine(database: SqlDatabase, text: str) -> None:
    engine = ScriptedEngine()
    with pytest.raises(InvalidQuestion):
        _ask(database, text, engine)
    assert engine.asked == []


def test_feedback_is_stored_once_with_its_event(database: SqlDatabase, tmp_path: Path) -> None:
    reply = _ask(database, "my food arrived cold", ScriptedEngine())
    feedback_id = help_services.give_feedback(
        reply.question_id, False, uow_factory=database.unit_of_work, clock=lambda: NOW
    )

    assert _rows(tmp_path, "SELECT helpful FROM help_feedback") == [(0,)]
    event = _outbox(tmp_path)[-1]
    assert {k: event[k] for k in ("event_type", "feedback_id", "question_id", "helpful", "answer_source")} == {
        "event_type": "help_feedback",
        "feedback_id": feedback_id,
        "question_id": reply.question_id,
        "helpful": False,
        "answer_source": "model",
    }
    assert (event["model"], event["model_version"], event["request_id"]) == ("helpbot", "4", "req-1")

    with pytest.raises(FeedbackAlreadyGiven):
        help_services.give_feedback(reply.question_id, True, uow_factory=database.unit_of_work, clock=lambda: NOW)
    assert _rows(tmp_path, "SELECT count(*) FROM help_feedback") == [(1,)]
    assert len(_outbox(tmp_path)) == 2  # no event for the refused second feedback


@pytest.mark.parametrize("question_id", ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "not-a-uuid"])
def test_feedback_on_an_unknown_question_is_404(database: SqlDatabase, question_id: str) -> None:
    with pytest.raises(QuestionNotFound):
        help_services.give_feedback(question_id, True, uow_factory=database.unit_of_work, clock=lambda: NOW)


def test_feedback_must_be_a_boolean(database: SqlDatabase) -> None:
    reply = _ask(database, "my food arrived cold", ScriptedEngine())
    with pytest.raises(InvalidQuestion):
        help_services.give_feedback(reply.question_id, 1, uow_factory=database.unit_of_work, clock=lambda: NOW)  # type: ignore[arg-type]


def test_question_and_event_commit_together_or_not_at_all(database: SqlDatabase, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "help.db") as connection:
        connection.execute("DROP TABLE outbox")  # the event cannot be written: the question must not be either
    with pytest.raises(DatabaseUnavailable):
        _ask(database, "my food arrived cold", ScriptedEngine())
    assert _rows(tmp_path, "SELECT count(*) FROM help_questions") == [(0,)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 14, 11, 0, 0)

    def __call__(self) -> datetime:
        return self.now


def _consume(event_log: LocalEventLog, topic: str) -> list[Any]:
    consumer = event_log.consumer(topic, "test")
    try:
        return consumer.poll(timeout_seconds=0.1)
    finally:
        consumer.close()


def test_relay_retries_after_a_failing_event_log_and_publishes_each_event_once(
    database: SqlDatabase, tmp_path: Path
) -> None:
    reply = _ask(database, "my food arrived cold", ScriptedEngine())
    _ask_predefined(database, "refunds")
    help_services.give_feedback(reply.question_id, True, uow_factory=database.unit_of_work, clock=lambda: NOW)
    clock = Clock()

    broken = BrokenEventLog()
    failed = help_services.publish_outbox(database.unit_of_work, broken, now=clock, retry_seconds=30)
    assert (failed.published, failed.failed) == (0, 3)
    assert failed.error is not None and "broker down" in failed.error
    assert _rows(tmp_path, "SELECT attempts, published_at FROM outbox") == [(1, None)] * 3

    event_log = LocalEventLog(tmp_path / "eventlog")
    early = help_services.publish_outbox(database.unit_of_work, event_log, now=clock, retry_seconds=30)
    assert (early.published, early.failed) == (0, 0)  # still waiting out the retry delay

    clock.now += timedelta(seconds=31)
    done = help_services.publish_outbox(database.unit_of_work, event_log, now=clock, retry_seconds=30)
    assert (done.published, done.failed, done.error) == (3, 0, None)
    assert help_services.publish_outbox(database.unit_of_work, event_log, now=clock).published == 0

    questions = _consume(event_log, "help.questions")
    assert [event.key for event in questions] == [event.value["question_id"] for event in questions]
    assert [event.value["answer_source"] for event in questions] == ["model", "predefined"]
    assert questions[0].value["question_id"] == reply.question_id
    [feedback] = _consume(event_log, "help.feedback")
    assert (feedback.key, feedback.value["helpful"]) == (reply.question_id, True)
    assert help_services.pending_events(database.unit_of_work) == 0


def test_an_operators_drain_retries_at_once(database: SqlDatabase, tmp_path: Path) -> None:
    _ask_predefined(database, "refunds")
    clock = Clock()
    help_services.publish_outbox(database.unit_of_work, BrokenEventLog(), now=clock, retry_seconds=600)
    event_log = LocalEventLog(tmp_path / "eventlog")
    result = help_services.publish_outbox(database.unit_of_work, event_log, now=clock, retry_now=True)
    assert result.published == 1
    assert len(_consume(event_log, "help.questions")) == 1


def test_relay_publishes_in_batches(database: SqlDatabase, tmp_path: Path) -> None:
    for index in range(5):
        _ask(database, f"question {index}", ScriptedEngine())
    event_log = LocalEventLog(tmp_path / "eventlog")
    result = help_services.publish_outbox(database.unit_of_work, event_log, now=Clock(), batch_size=2)
    assert result.published == 5
    assert [e.value["text"] for e in _consume(event_log, "help.questions")] == [f"question {i}" for i in range(5)]


def test_the_relay_survives_a_database_outage_and_recovers() -> None:
    from business_logic.domain.outbox import RelayResult
    from business_logic.outbox_relay import OutboxRelay

    outcomes: list[Any] = [DatabaseUnavailable("database unavailable: connection refused"), RelayResult(published=2)]

    def drain() -> RelayResult:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    relay = OutboxRelay(drain, interval_seconds=60)
    assert relay.run_once().error == "database unavailable: connection refused"
    assert relay.run_once() == RelayResult(published=2)
