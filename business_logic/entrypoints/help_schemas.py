"""Request and response schemas of the help-centre API; APIFlask puts them in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Float, List, Nested, String
from apiflask.validators import Length, OneOf
from marshmallow import ValidationError, validates_schema

from business_logic.domain.help import ANSWER_SOURCES, MAX_QUESTION_CHARS, MAX_SESSION_ID_CHARS


class StrictBoolean(Boolean):
    """JSON ``true`` / ``false`` only: ``1`` or ``"yes"`` are not an answer to "did I answer your question?"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class PredefinedQuestionOut(Schema):
    id = String()
    question = String()


class PredefinedListOut(Schema):
    questions = List(Nested(PredefinedQuestionOut))


class AskIn(Schema):
    question_id = String(
        validate=Length(min=1, max=64), metadata={"description": "Id of a predefined question (answered from the DB)."}
    )
    text = String(
        validate=Length(min=1, max=MAX_QUESTION_CHARS),
        metadata={"description": f"A free-text question (1..{MAX_QUESTION_CHARS} characters)."},
    )
    session_id = String(
        validate=Length(max=MAX_SESSION_ID_CHARS),
        metadata={"description": "The chat session (generated when missing)."},
    )

    @validates_schema
    def _one_question(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("question_id" in data) == ("text" in data):
            raise ValidationError("give exactly one of question_id or text")


class LinkOut(Schema):
    title = String()
    url = String(metadata={"description": "An absolute http(s) URL."})


class AskOut(Schema):
    question_id = String(metadata={"description": "Id of this asked question (for feedback)."})
    answer = String(metadata={"description": "Plain text (never HTML) that passed the prohibited-words check."})
    source = String(validate=OneOf(ANSWER_SOURCES))
    article_url = String(metadata={"description": "The help-centre article answering it, when there is one."})
    article_title = String()
    confidence = Float(metadata={"description": "The model's confidence (free-text questions)."})
    links = List(Nested(LinkOut), metadata={"description": "Where to read more: the article or the help centre."})
    ask_feedback = Boolean(metadata={"description": "Always true: ask the customer whether this helped."})


class FeedbackIn(Schema):
    helpful = StrictBoolean(required=True, metadata={"description": "Did the answer help? JSON true or false."})


class FeedbackOut(Schema):
    feedback_id = String()
