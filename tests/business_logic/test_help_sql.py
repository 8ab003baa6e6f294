"""The help and outbox SQL adapters on SQLite and on a real PostgreSQL (a fresh schema, dropped afterwards)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from business_logic import help_services
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.domain.help import AskedQuestion, Feedback, PredefinedQuestion
from business_logic.help_errors import FeedbackAlreadyGiven
from tests.support import postgres_schema_url

T0 = datetime(2026, 3, 14, 12, 0, 0)
QUESTIONS = [
    PredefinedQuestion("a", "Question A?", "Answer A.", "https://help.test/a.html"),
    PredefinedQuestion("b", "Question B?", "Answer B.", None),
    PredefinedQuestion("c", "Question C?", "Answer C.", None),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDatabase]:
    if request.param == "sqlite":
        database = SqlDatabase(f"sqlite:///{tmp_path / 'help.db'}")
        yield database
        database.close()
        return
    with postgres_schema_url("bl_help") as url:
        database = SqlDatabase(url)
        try:
            yield database
        finally:
            database.close()


def _asked(**changes: object) -> AskedQuestion:
    values: dict[str, object] = {
        "question_id": str(uuid.uuid4()),
        "session_id": "s-1",
        "kind": "free_text",
        "text": "Ma comida llegó fría <b>",
        "answer": "We refund.",
        "answer_source": "model",
        "request_id": "req-1",
        "asked_at": T0,
        "article_id": "cold-food",
        "confidence": 0.875,
        "model": "helpbot",
        "model_version": "4",
    }
    values.update(changes)
    return AskedQuestion(**values)  # type: ignore[arg-type]


def test_predefined_set_is_replaced_idempotently_in_file_order(database: SqlDatabase) -> None:
    assert help_services.load_predefined(database.unit_of_work, QUESTIONS) == (3, 0, 0)
    assert help_services.load_predefined(database.unit_of_work, QUESTIONS) == (0, 0, 0)
    assert help_services.list_predefined(database.unit_of_work) == QUESTIONS

    changed = [QUESTIONS[2], PredefinedQuestion("a", "Question A?", "New answer A.", None)]
    assert help_services.load_predefined(database.unit_of_work, changed) == (0, 1, 1)
    assert help_services.list_predefined(database.unit_of_work) == changed  # c first now; b removed
    with database.unit_of_work() as uow:
        assert uow.help.get_predefined("b") is None
        assert uow.help.get_predefined("a") == changed[1]


def test_uncommitted_predefined_set_is_rolled_back(database: SqlDatabase) -> None:
    with database.unit_of_work() as uow:
        uow.help.replace_predefined(QUESTIONS)  # no commit
    assert help_services.list_predefined(database.unit_of_work) == []


def test_question_round_trip(database: SqlDatabase) -> None:
    asked = _asked()
    fallback = _asked(answer_source="fallback", article_id=None, confidence=None, model=None, model_version=None)
    with database.unit_of_work() as uow:
        uow.help.add_question(asked)
        uow.help.add_question(fallback)
        uow.commit()
    with database.unit_of_work() as uow:
        assert uow.help.get_question(asked.question_id) == asked
        assert uow.help.get_question(fallback.question_id) == fallback
        assert uow.help.get_question(str(uuid.uuid4())) is None
        assert uow.help.get_question("not-a-uuid") is None


def test_one_feedback_per_question(database: SqlDatabase) -> None:
    asked = _asked()
    with database.unit_of_work() as uow:
        uow.help.add_question(asked)
        uow.help.add_feedback(Feedback(str(uuid.uuid4()), asked.question_id, True, T0))
        uow.commit()
    with pytest.raises(FeedbackAlreadyGiven), database.unit_of_work() as uow:
        uow.help.add_feedback(Feedback(str(uuid.uuid4()), asked.question_id, False, T0))
        uow.commit()


def _queue(database: SqlDatabase, count: int) -> None:
    with database.unit_of_work() as uow:
        for index in range(count):
            uow.outbox.add(
                "help.questions", {"question_id": f"q-{index}", "n": index}, key_field="question_id", created_at=T0
            )
        uow.commit()


def _claim(database: SqlDatabase, *, now: datetime, limit: int = 100, lease: float = 60) -> list[int]:
    with database.unit_of_work() as uow:
        claimed = uow.outbox.claim(
            limit=limit, now=now, lease_until=now + timedelta(seconds=lease), token=str(uuid.uuid4())
        )
        uow.commit()
    return [message.id for message in claimed]


def test_outbox_claims_lease_release_and_publish(database: SqlDatabase) -> None:
    _queue(database, 5)
    first = _claim(database, now=T0, limit=3)
    second = _claim(database, now=T0, limit=3)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert _claim(database, now=T0 + timedelta(seconds=30)) == []  # all leased

    with database.unit_of_work() as uow:
        uow.outbox.mark_published(first, at=T0)
        uow.outbox.release(second, retry_at=T0 + timedelta(seconds=10), error="broker down")
        uow.commit()
    assert _claim(database, now=T0 + timedelta(seconds=5)) == []  # waiting out the retry delay
    assert _claim(database, now=T0 + timedelta(seconds=10)) == second

    # the relay holding them died: once the lease is over, another relay takes them again
    assert _claim(database, now=T0 + timedelta(seconds=71)) == second
    with database.unit_of_work() as uow:
        assert uow.outbox.pending() == 2


def test_concurrent_claims_never_share_a_row(database: SqlDatabase) -> None:
    _queue(database, 60)
    claimed: list[list[int]] = []
    start = threading.Barrier(4)

    def relay() -> None:
        start.wait()
        batches = []
        while ids := _claim(database, now=T0, limit=5):
            batches.extend(ids)
        claimed.append(batches)

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [row for batch in claimed for row in batch]
    assert len(claimed) == 4
    assert sorted(every) == sorted(set(every)) and len(every) == 60
