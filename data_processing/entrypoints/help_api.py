"""HTTP API of the help-centre chatbot runtime, registered on data_processing's service app.

- ``POST /v1/help/answer``     ``{"text"}`` -> ``{known, article_id, confidence, title, url, answer, model, version}``
- ``POST /v1/help/vectorise``  ``{"text"}`` -> ``{normalised, token_ids, vectoriser}`` (what the model is sent)
"""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask, Schema, fields
from flask import request

from data_processing.domain.help import MAX_QUESTION_CHARS, parse_question
from data_processing.help_services import HelpAnswerer
from strata_kernel.access import callers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.lean import LeanView

TAGS = ["help-centre chatbot"]


class QuestionIn(Schema):
    text = fields.String(required=True, metadata={"description": f"1..{MAX_QUESTION_CHARS} characters"})


def register_help_routes(app: APIFlask, answerer: HelpAnswerer) -> None:
    @app.post("/v1/help/answer")
    @callers("business_logic", OPERATOR)
    @app.input(QuestionIn, validation=False, arg_name="body")  # documented; validated by the domain
    @app.doc(
        tags=TAGS,
        summary="The help article that answers a free-text question, if the chatbot model knows one.",
        description="Answers {known, article_id, confidence, title, url, answer, model, version}; title, url and "
        "answer are null when known is false. 400 naming `text`; 503 inference_engine_unavailable.",
        responses=[200, 400, 502, 503],
    )
    def help_answer(body: Any) -> dict[str, Any]:
        return answerer.answer(parse_question(request.get_json(silent=True))).to_wire()

    @app.post("/v1/help/vectorise")
    @callers("business_logic", OPERATOR)
    @app.input(QuestionIn, validation=False, arg_name="body")
    @app.doc(
        tags=TAGS,
        summary="The normalised text and token ids the chatbot model is sent for a question.",
        responses=[200, 400],
    )
    def help_vectorise(body: Any) -> dict[str, Any]:
        return answerer.vectorise(parse_question(request.get_json(silent=True)))


def help_answer_lean(answerer: HelpAnswerer) -> LeanView:
    """``POST /v1/help/answer`` (``help_answer`` above) as a lean route (strata_kernel.lean): the chatbot's hot path."""
    return lambda call: answerer.answer(parse_question(call.body)).to_wire()
