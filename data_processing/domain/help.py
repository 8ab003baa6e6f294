"""The help-centre chatbot's question and answer, in domain terms (see docs/contracts.md, issue 5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from strata_kernel.errors import BadRequest

MAX_QUESTION_CHARS = 500


class InvalidQuestion(BadRequest):
    """A help question that is missing, empty, too long or has no words (400 naming ``text``)."""

    code = "invalid_text"


@dataclass(frozen=True, slots=True)
class HelpAnswer:
    """What the chatbot model says about one question; ``known`` is false below the model's threshold."""

    known: bool
    article_id: str | None
    confidence: float
    title: str | None
    url: str | None
    answer: str | None
    model: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_question(body: Any) -> str:
    """The ``text`` of a ``POST /v1/help/answer`` body, stripped; raises InvalidQuestion naming ``text``."""
    if not isinstance(body, dict):
        raise InvalidQuestion("body: must be a JSON object with a 'text' string", field="text")
    text = body.get("text")
    if not isinstance(text, str):
        raise InvalidQuestion("text: must be a string", field="text")
    text = text.strip()
    if not 1 <= len(text) <= MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"text: must be 1..{MAX_QUESTION_CHARS} characters (got {len(text)})", field="text")
    return text
