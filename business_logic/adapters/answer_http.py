"""Help answer engine backed by data_processing's ``POST /v1/help/answer`` (see docs/contracts.md)."""

from __future__ import annotations

import logging
import math
from typing import Any

from business_logic.domain.help import EngineAnswer
from business_logic.help_errors import AnswerEngineUnavailable
from business_logic.ports import HelpAnswerEngine
from strata_kernel.errors import StrataError
from strata_kernel.http import ServiceClient

log = logging.getLogger(__name__)

ANSWER_PATH = "/v1/help/answer"


class HttpHelpAnswerEngine(HelpAnswerEngine):
    """Asks data_processing on every call; holds no failure state, so it recovers as soon as the upstream does."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def answer(self, text: str) -> EngineAnswer:
        try:
            payload = self._client.post(ANSWER_PATH, {"text": text})
        except StrataError as exc:
            # whatever went wrong upstream (down, timed out, refused), the customer gets the polite fallback
            log.warning("help answer failed: %s (%s)", exc.message, exc.code)
            raise AnswerEngineUnavailable(_reason(exc)) from exc
        return _answer_from(payload)

    def close(self) -> None:
        self._client.close()


def _answer_from(payload: Any) -> EngineAnswer:
    if not isinstance(payload, dict) or not isinstance(payload.get("known"), bool):
        raise AnswerEngineUnavailable("data_processing returned no usable help answer")
    return EngineAnswer(
        known=payload["known"],
        confidence=_confidence(payload.get("confidence")),
        model=str(payload.get("model") or ""),
        version=str(payload.get("version") or ""),
        article_id=_text(payload.get("article_id")),
        title=_text(payload.get("title")),
        url=_text(payload.get("url")),
        answer=_text(payload.get("answer")),
    )


def _confidence(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 0.0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _reason(error: StrataError) -> str:
    if error.code.endswith("_unavailable") and error.code != "unavailable":
        return error.code.removesuffix("_unavailable").replace("_", " ") + " unavailable"
    return (error.message.strip().splitlines() or ["answer engine unavailable"])[0]
