"""business_logic -> data_processing ``POST /v1/help/answer``: a free-text question and the chatbot's answer."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from strata_kernel.contracts.wire import InvalidPayload, is_number, optional_text
from strata_kernel.errors import BadRequest

MAX_QUESTION_CHARS = 500
ANSWER_PATH = "/v1/help/answer"


class InvalidQuestion(BadRequest):
    """A help question that is missing, empty, too long or has no words (400 naming ``text``)."""

    code = "invalid_text"


@dataclass(frozen=True, slots=True)
class HelpQuestion:
    text: str

    def to_wire(self) -> dict[str, Any]:
        return {"text": self.text}

    @classmethod
    def from_wire(cls, body: Any) -> HelpQuestion:
        """The ``text``, stripped, 1..500 characters; raises InvalidQuestion naming ``text``."""
        if not isinstance(body, dict):
            raise InvalidQuestion("body: must be a JSON object with a 'text' string", field="text")
        text = body.get("text")
        if not isinstance(text, str):
            raise InvalidQuestion("text: must be a string", field="text")
        text = text.strip()
        if not 1 <= len(text) <= MAX_QUESTION_CHARS:
            raise InvalidQuestion(f"text: must be 1..{MAX_QUESTION_CHARS} characters (got {len(text)})", field="text")
        return cls(text)


@dataclass(frozen=True, slots=True)
class HelpAnswer:
    """What the chatbot model says about one question; ``known`` is false below the model's threshold (title,
    url and answer are then null)."""

    known: bool
    article_id: str | None
    confidence: float
    title: str | None
    url: str | None
    answer: str | None
    model: str
    version: str

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_wire(cls, body: Any) -> HelpAnswer:
        """Only ``known`` is required; a missing or non-finite confidence reads as 0.0, an empty text as null."""
        if not isinstance(body, dict) or not isinstance(body.get("known"), bool):
            raise InvalidPayload("known must be a boolean", field="known")
        confidence = body.get("confidence")
        return cls(
            known=body["known"],
            article_id=optional_text(body.get("article_id")),
            confidence=float(confidence) if is_number(confidence) and math.isfinite(confidence) else 0.0,
            title=optional_text(body.get("title")),
            url=optional_text(body.get("url")),
            answer=optional_text(body.get("answer")),
            model=str(body.get("model") or ""),
            version=str(body.get("version") or ""),
        )
