"""SQLAlchemy implementation of the help repository (works on SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from business_logic.adapters.sql_tables import help_feedback, help_predefined, help_questions
from business_logic.domain.help import AskedQuestion, Feedback, PredefinedQuestion
from business_logic.help_errors import FeedbackAlreadyGiven
from business_logic.ports import HelpRepository


class SqlHelpRepository(HelpRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def list_predefined(self) -> list[PredefinedQuestion]:
        rows = self._session.execute(select(help_predefined).order_by(help_predefined.c.position)).all()
        return [_predefined(row) for row in rows]

    def get_predefined(self, predefined_id: str) -> PredefinedQuestion | None:
        row = self._session.execute(select(help_predefined).where(help_predefined.c.id == predefined_id)).first()
        return _predefined(row) if row is not None else None

    def replace_predefined(self, questions: Sequence[PredefinedQuestion]) -> tuple[int, int, int]:
        existing = {row.id: row for row in self._session.execute(select(help_predefined)).all()}
        added = updated = 0
        for position, question in enumerate(questions):
            values = {
                "question": question.question,
                "answer": question.answer,
                "article_url": question.article_url,
                "position": position,
            }
            old = existing.pop(question.id, None)
            if old is None:
                self._session.execute(help_predefined.insert().values(id=question.id, **values))
                added += 1
            elif any(getattr(old, name) != value for name, value in values.items()):
                self._session.execute(
                    update(help_predefined).where(help_predefined.c.id == question.id).values(**values)
                )
                updated += int(_content_changed(old, question))
        if existing:
            self._session.execute(delete(help_predefined).where(help_predefined.c.id.in_(list(existing))))
        self._session.flush()
        return added, updated, len(existing)

    def add_question(self, asked: AskedQuestion) -> None:
        self._session.execute(help_questions.insert(), _question_row(asked))  # bound: one cached statement

    def get_question(self, question_id: str) -> AskedQuestion | None:
        key = _uuid_or_none(question_id)
        if key is None:
            return None
        row = self._session.execute(select(help_questions).where(help_questions.c.question_id == key)).first()
        return _asked(row) if row is not None else None

    def add_feedback(self, feedback: Feedback) -> None:
        row = {
            "feedback_id": uuid.UUID(feedback.feedback_id),
            "question_id": uuid.UUID(feedback.question_id),
            "helpful": feedback.helpful,
            "given_at": feedback.given_at,
        }
        # the unique question_id decides, even between concurrent workers; the unit of work then rolls back
        try:
            self._session.execute(help_feedback.insert(), row)
        except IntegrityError as exc:
            raise FeedbackAlreadyGiven(feedback.question_id) from exc


def _content_changed(old: Any, question: PredefinedQuestion) -> bool:
    """A pure re-ordering is not counted as an update of the question."""
    return (old.question, old.answer, old.article_url) != (question.question, question.answer, question.article_url)


def _predefined(row: Any) -> PredefinedQuestion:
    return PredefinedQuestion(id=row.id, question=row.question, answer=row.answer, article_url=row.article_url)


def _question_row(asked: AskedQuestion) -> dict[str, Any]:
    return {
        "question_id": uuid.UUID(asked.question_id),
        "session_id": asked.session_id,
        "kind": asked.kind,
        "predefined_id": asked.predefined_id,
        "text": asked.text,
        "answer": asked.answer,
        "answer_source": asked.answer_source,
        "article_id": asked.article_id,
        "confidence": asked.confidence,
        "model": asked.model,
        "model_version": asked.model_version,
        "request_id": asked.request_id,
        "asked_at": asked.asked_at,
    }


def _asked(row: Any) -> AskedQuestion:
    return AskedQuestion(
        question_id=str(row.question_id),
        session_id=row.session_id,
        kind=row.kind,
        text=row.text,
        answer=row.answer,
        answer_source=row.answer_source,
        request_id=row.request_id,
        asked_at=row.asked_at,
        predefined_id=row.predefined_id,
        article_id=row.article_id,
        confidence=row.confidence,
        model=row.model,
        model_version=row.model_version,
    )


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
