"""Use cases of the help-centre chatbot runtime over ports (no Flask, no HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from data_processing.domain.help import HelpAnswer, InvalidQuestion
from data_processing.ports import HelpEngine
from data_processing.text import VECTORISER_ID, normalise, vectorise


class HelpAnswerer:
    """Free text -> the same token ids as the training examples (``data_processing.text``) -> the chatbot model."""

    def __init__(
        self, engine: HelpEngine, model: str, observe: Callable[[HelpAnswer], None] = lambda answer: None
    ) -> None:
        self._engine = engine
        self._model = model
        self._observe = observe

    def answer(self, text: str) -> HelpAnswer:
        answer = self._engine.answer(self._model, _token_ids(text))
        self._observe(answer)
        return answer

    def vectorise(self, text: str) -> dict[str, Any]:
        """What the model is sent for ``text`` (for benchmarks and debugging a wrong answer)."""
        return {"normalised": normalise(text), "token_ids": _token_ids(text), "vectoriser": VECTORISER_ID}


def _token_ids(text: str) -> list[int]:
    token_ids = vectorise(text)
    if not token_ids:  # the engine takes 1..256 ids; "???" has nothing a model could match
        raise InvalidQuestion("text: has no words (only punctuation or symbols)", field="text")
    return token_ids
