"""The answer-engine HTTP adapter against data_processing's contract, with httpx's mock transport."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from business_logic.adapters.answer_http import HttpHelpAnswerEngine
from business_logic.domain.help import EngineAnswer
from business_logic.help_errors import AnswerEngineUnavailable
from strata_kernel.http import ServiceClient


def _engine(handler: Callable[[httpx.Request], httpx.Response]) -> HttpHelpAnswerEngine:
    client = ServiceClient("data_processing", "http://dp.test", retries=0, transport=httpx.MockTransport(handler))
    return HttpHelpAnswerEngine(client)


def test_a_known_answer_is_read_from_the_contract_fields() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {
            "known": True,
            "article_id": "cold-food",
            "confidence": 0.8,
            "title": "Cold food",
            "url": "http://help.test/cold.html",
            "answer": "We refund.",
            "model": "helpbot",
            "version": "3",
        }
        return httpx.Response(200, json=body)

    answer = _engine(handler).answer("my food is cold")
    assert answer == EngineAnswer(
        True, 0.8, "helpbot", "3", "cold-food", "Cold food", "http://help.test/cold.html", "We refund."
    )
    assert (seen[0].method, seen[0].url.path, json.loads(seen[0].content)) == (
        "POST",
        "/v1/help/answer",
        {"text": "my food is cold"},
    )


def test_an_unknown_answer_has_no_article() -> None:
    body = {
        "known": False,
        "article_id": None,
        "confidence": 0.2,
        "title": None,
        "url": None,
        "answer": None,
        "model": "helpbot",
        "version": "3",
    }
    answer = _engine(lambda _request: httpx.Response(200, json=body)).answer("seashells?")
    assert (answer.known, answer.article_id, answer.answer, answer.confidence) == (False, None, None, 0.2)


def _refused(_request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused")


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (
            lambda _r: httpx.Response(503, json={"error": {"code": "inference_engine_unavailable", "message": "x"}}),
            "inference engine unavailable",
        ),
        (_refused, "data processing unavailable"),
        (lambda _r: httpx.Response(200, json={"answer": "no known flag"}), "no usable help answer"),
        (lambda _r: httpx.Response(200, text="<html>"), "non-JSON"),
        (lambda _r: httpx.Response(500, json={"error": {"code": "internal_error", "message": "boom"}}), "boom"),
    ],
)
def test_any_upstream_failure_means_unavailable(
    handler: Callable[[httpx.Request], httpx.Response], reason: str
) -> None:
    with pytest.raises(AnswerEngineUnavailable) as raised:
        _engine(handler).answer("hello")
    assert reason in raised.value.message
