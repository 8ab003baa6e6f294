"""The help-centre chatbot's question and answer: the published ``HelpQuestion`` / ``HelpAnswer``
(strata_kernel.contracts.help)."""

from __future__ import annotations

from typing import Any

from strata_kernel.contracts.help import MAX_QUESTION_CHARS, HelpAnswer, HelpQuestion, InvalidQuestion

__all__ = ["MAX_QUESTION_CHARS", "HelpAnswer", "InvalidQuestion", "parse_question"]


def parse_question(body: Any) -> str:
    """The ``text`` of a ``POST /v1/help/answer`` body, stripped; raises InvalidQuestion naming ``text``."""
    return HelpQuestion.from_wire(body).text
