"""Every topic, producer -> consumer: what the producing deployable publishes is what each consuming deployable
reads (through JSON, as the event log carries it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from bench.rollout_load import outcome_event
from business_logic.domain.help import AskedQuestion, Feedback, feedback_event, question_event
from comparative_eval.domain.events import read_delivered, read_feedback, read_prediction
from data_collection.domain.events import HELP_FEEDBACK, HELP_QUESTION, ORDER_DELIVERED, ORDER_PLACED, validate_event
from data_collection.simulator import simulate, size_named
from data_collection.simulator.events import event_batches
from data_processing.feature_groups.restaurant_realtime import compute
from inference_engine.adapters.prediction_log import to_event
from inference_engine.routing.ports import PredictionEntry
from strata_kernel.contracts import topics


def through_the_log(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(event, default=str))


@pytest.fixture(scope="module")
def simulated() -> dict[str, list[dict[str, Any]]]:
    simulation = simulate(size_named("tiny"), seed=7)
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for topic, events in event_batches(simulation.world, simulation.orders):
        by_topic.setdefault(topic, []).extend(through_the_log(e) for e in events[:200])
    return by_topic


def test_simulated_orders_land_in_the_lake_and_feed_the_streaming_group(simulated: dict[str, list[Any]]) -> None:
    placed, delivered = simulated[topics.ORDER_PLACED.name], simulated[topics.ORDER_DELIVERED.name]
    assert placed and delivered
    for event in placed:
        assert validate_event(ORDER_PLACED, event)["order_id"] == event["order_id"]
    for event in delivered:
        assert validate_event(ORDER_DELIVERED, event)["delivery_minutes"] == event["delivery_minutes"]
        assert read_delivered(event) is None  # the simulator's orders had no ETD quote: nothing to join
    windows = compute()
    assert all(windows.apply(event) is not None for event in [*placed, *delivered])
    assert windows.features()["avg_delivery_minutes_last_20"] is not None


def test_a_delivery_after_a_quote_joins_its_prediction_in_comparative_eval() -> None:
    class Truth:
        def delivery(self, *_args: Any) -> tuple[float, float]:
            return 12.0, 31.5

    event = through_the_log(outcome_event(Truth(), {"quoted_at": "2026-03-01T12:00:00", "restaurant_id": "r-1",
                                                    "n_items": 2}, "req-1"))  # fmt: skip
    assert validate_event(ORDER_DELIVERED, event)["quote_request_id"] == "req-1"
    outcome = read_delivered(event)
    assert outcome is not None and (outcome.request_id, outcome.truth) == ("req-1", 31.5)


ASKED = AskedQuestion(
    question_id="q-1", session_id="s-1", kind="free_text", text="where is my order?", answer="On its way.",
    answer_source="model", request_id="req-7", asked_at=datetime(2026, 3, 1, 12, 0, 5), article_id="where-order",
    confidence=0.91, model="helpbot", model_version="4",
)  # fmt: skip


def test_business_logic_questions_land_in_the_lake() -> None:
    row = validate_event(HELP_QUESTION, through_the_log(question_event(ASKED, "e-1")))
    assert (row["question_id"], row["answer_source"], row["confidence"]) == ("q-1", "model", 0.91)
    assert row["event_time"] == datetime(2026, 3, 1, 12, 0, 5)


def test_business_logic_feedback_lands_in_the_lake_and_judges_the_answer_in_comparative_eval() -> None:
    feedback = Feedback("f-1", "q-1", helpful=False, given_at=datetime(2026, 3, 1, 12, 1))
    event = through_the_log(feedback_event(feedback, ASKED, "e-2"))
    assert validate_event(HELP_FEEDBACK, event)["helpful"] is False
    outcome = read_feedback(event)
    assert outcome is not None and (outcome.request_id, outcome.helpful, outcome.kind) == ("req-7", False, "feedback")


@pytest.mark.parametrize(
    ("prediction", "error", "value", "label"),
    [(27.25, None, 27.25, None), ({"known": True, "article_id": "refunds"}, None, None, "refunds"),
     (None, "model raised ValueError: boom", None, None)],
)  # fmt: skip
def test_every_logged_prediction_reaches_comparative_eval(
    prediction: Any, error: str | None, value: Any, label: Any
) -> None:
    entry = PredictionEntry(1_772_366_400.123, "req-1", "etd", 3, "canary", "cust-9", "country_code=NL",
                            {"order__n_items": 2}, prediction, 4.56789, error)  # fmt: skip
    read = read_prediction(through_the_log(to_event(entry, "ev-1")))
    assert (read.event_id, read.request_id, read.model, read.version, read.route) == (
        "ev-1",
        "req-1",
        "etd",
        "3",
        "canary",
    )
    assert (read.value, read.label, read.ok, read.error, read.node) == (
        value,
        label,
        error is None,
        error,
        "country_code=NL",
    )
    assert read.latency_ms == 4.568 and read.instance == {"order__n_items": 2}
    assert read.event_time == datetime(2026, 3, 1, 12, 0, 0, 123000)
