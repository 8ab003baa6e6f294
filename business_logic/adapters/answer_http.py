"""Help answer engine backed by data_processing's ``POST /v1/help/answer`` (strata_kernel.contracts.help)."""

from __future__ import annotations

import logging

from business_logic.domain.help import EngineAnswer
from business_logic.help_errors import AnswerEngineUnavailable
from business_logic.ports import HelpAnswerEngine
from strata_kernel.contracts.help import ANSWER_PATH, HelpAnswer, HelpQuestion
from strata_kernel.errors import BadRequest, StrataError
from strata_kernel.http import ServiceClient

log = logging.getLogger(__name__)


class HttpHelpAnswerEngine(HelpAnswerEngine):
    """Asks data_processing on every call; holds no failure state, so it recovers as soon as the upstream does."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def answer(self, text: str) -> EngineAnswer:
        try:
            payload = self._client.post(ANSWER_PATH, HelpQuestion(text).to_wire())
        except StrataError as exc:
            # whatever went wrong upstream (down, timed out, refused), the customer gets the polite fallback
            log.warning("help answer failed: %s (%s)", exc.message, exc.code)
            raise AnswerEngineUnavailable(_reason(exc)) from exc
        return _answer_from(payload)

    def close(self) -> None:
        self._client.close()


def _answer_from(payload: object) -> EngineAnswer:
    try:
        answer = HelpAnswer.from_wire(payload)
    except BadRequest as exc:
        raise AnswerEngineUnavailable("data_processing returned no usable help answer") from exc
    return EngineAnswer(
        known=answer.known,
        confidence=answer.confidence,
        model=answer.model,
        version=answer.version,
        article_id=answer.article_id,
        title=answer.title,
        url=answer.url,
        answer=answer.answer,
    )


def _reason(error: StrataError) -> str:
    if error.code.endswith("_unavailable") and error.code != "unavailable":
        return error.code.removesuffix("_unavailable").replace("_", " ") + " unavailable"
    return (error.message.strip().splitlines() or ["answer engine unavailable"])[0]
