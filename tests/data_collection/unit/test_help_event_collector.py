"""The collector also drains the chatbot's topics (help.questions, help.feedback) and takes the optional
``quote_request_id`` of etd.order_delivered: over a real LocalEventLog with fake lake/quarantine, then typed to
Arrow as the lake adapter writes it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dc_fakes import FakeQuarantine, FakeRawLake

from data_collection.adapters.lake import rows_to_arrow
from data_collection.bootstrap import bootstrap
from data_collection.domain.events import (
    HELP_FEEDBACK,
    HELP_FEEDBACK_TOPIC,
    HELP_QUESTION,
    HELP_QUESTIONS_TOPIC,
    ORDER_DELIVERED,
    ORDER_DELIVERED_TOPIC,
    TOPICS,
)
from data_collection.settings import Settings
from data_collection.status import CollectorStatus
from strata_kernel.eventlog.local import LocalEventLog


def question(n: int, **changes: Any) -> dict[str, Any]:
    event = {
        "event_id": f"hq-{n}", "event_type": "help_question", "event_time": "2025-03-01T23:30:00+00:00",
        "question_id": f"q-{n}", "session_id": "s-1", "kind": "free_text", "predefined_id": None,
        "text": "wheres my food", "answer_source": "model", "article_id": "where-is-my-order", "confidence": 0.91,
        "model": "helpbot", "model_version": "3", "request_id": f"req-{n}",
    }  # fmt: skip
    return {**event, **changes}


def feedback(n: int, **changes: Any) -> dict[str, Any]:
    event = {
        "event_id": f"hf-{n}", "event_type": "help_feedback", "event_time": "2025-03-02T08:00:00",
        "feedback_id": f"f-{n}", "question_id": f"q-{n}", "helpful": True, "answer_source": "model",
        "model": "helpbot", "model_version": "3", "request_id": f"req-{n}",
    }  # fmt: skip
    return {**event, **changes}


def delivered(order: str, **changes: Any) -> dict[str, Any]:
    event = {
        "event_id": f"{order}:delivered", "event_type": "order_delivered", "event_time": "2025-01-06T12:40:00",
        "order_id": order, "restaurant_id": "r-000001", "placed_at": "2025-01-06T12:00:00",
        "delivered_at": "2025-01-06T12:40:00", "prep_minutes": 12.0, "delivery_minutes": 40.0,
    }  # fmt: skip
    return {**event, **changes}


def _collect(settings: Settings, log: LocalEventLog, lake: FakeRawLake, quarantine: FakeQuarantine) -> CollectorStatus:
    status = CollectorStatus(TOPICS)
    deps = bootstrap(settings, event_log=log, lake=lake, quarantine=quarantine)
    deps.collector(observers=[status]).run_until_idle()
    return status


def test_help_questions_and_feedback_land_typed_in_their_raw_tables(
    settings: Settings, tmp_path: Path, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine
) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    predefined = question(2, kind="predefined", predefined_id="p-track", session_id=None, answer_source="predefined",
                          article_id=None, confidence=None, model=None, model_version=None)  # fmt: skip
    log.publish(HELP_QUESTIONS_TOPIC, [question(1), predefined], key_field="question_id")
    log.publish(HELP_FEEDBACK_TOPIC, [feedback(1), feedback(2, helpful=False, model=None)], key_field="question_id")

    status = _collect(settings, log, fake_lake, fake_quarantine)

    first, second = fake_lake.rows["raw.help_questions"]
    # a zoned event_time is stored as UTC wall-clock time; its date is the partition
    assert first["event_time"] == datetime(2025, 3, 1, 23, 30) and first["nominal_date"] == "2025-03-01"
    assert (first["confidence"], first["article_id"], first["text"]) == (0.91, "where-is-my-order", "wheres my food")
    assert (second["predefined_id"], second["session_id"], second["confidence"], second["model"]) == (
        "p-track", None, None, None)  # fmt: skip
    assert [(r["question_id"], r["helpful"], r["model"]) for r in fake_lake.rows["raw.help_feedback"]] == [
        ("q-1", True, "helpbot"), ("q-2", False, None)]  # fmt: skip
    assert fake_quarantine.events == []
    assert status.snapshot()[HELP_FEEDBACK_TOPIC]["collected"] == 2

    arrow = rows_to_arrow(HELP_QUESTION, fake_lake.rows["raw.help_questions"])
    assert arrow.schema.field("event_time").type == pa.timestamp("us") and arrow.column("confidence").null_count == 1
    assert rows_to_arrow(HELP_FEEDBACK, fake_lake.rows["raw.help_feedback"]).schema.field("helpful").type == pa.bool_()


def test_bad_help_events_are_quarantined_with_a_reason(
    settings: Settings, tmp_path: Path, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine
) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    log.publish(HELP_QUESTIONS_TOPIC, [question(1, kind="voice"), question(2, request_id=None), question(3)])
    log.publish(HELP_FEEDBACK_TOPIC, [feedback(1, helpful="yes"), feedback(2, event_time="yesterday")])

    _collect(settings, log, fake_lake, fake_quarantine)

    assert [row["question_id"] for row in fake_lake.rows["raw.help_questions"]] == ["q-3"]
    assert "raw.help_feedback" not in fake_lake.rows
    assert [(q.topic, q.reason) for q in fake_quarantine.events] == [
        (HELP_QUESTIONS_TOPIC, "kind: expected one of predefined, free_text, got 'voice'"),
        (HELP_QUESTIONS_TOPIC, "request_id: missing"),
        (HELP_FEEDBACK_TOPIC, "helpful: expected true or false, got 'yes'"),
        (HELP_FEEDBACK_TOPIC, "event_time: not an ISO-8601 timestamp: 'yesterday'"),
    ]


def test_order_delivered_lands_with_or_without_a_quote_request_id(
    settings: Settings, tmp_path: Path, fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine
) -> None:
    log = LocalEventLog(tmp_path / "eventlog")
    log.publish(ORDER_DELIVERED_TOPIC, [delivered("o-1", quote_request_id="req-abc"), delivered("o-2"),
                                        delivered("o-3", quote_request_id="")])  # fmt: skip

    _collect(settings, log, fake_lake, fake_quarantine)

    rows = fake_lake.rows["raw.order_delivered"]
    assert [(r["order_id"], r["quote_request_id"]) for r in rows] == [("o-1", "req-abc"), ("o-2", None)]
    assert [q.reason for q in fake_quarantine.events] == ["quote_request_id: expected a non-empty string, got ''"]
    arrow = rows_to_arrow(ORDER_DELIVERED, rows)
    assert arrow.column("quote_request_id").to_pylist() == ["req-abc", None]
    assert arrow.schema.field("quote_request_id").nullable and not arrow.schema.field("order_id").nullable
