"""HTTP routes of the help-centre chatbot (docs/contracts.md, "Help-centre chatbot"). Thin: parse, call, map."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from apiflask import APIFlask
from prometheus_client import Counter

from business_logic import help_services
from business_logic.bootstrap import Dependencies
from business_logic.domain.help import ANSWER_SOURCES, HelpReply
from business_logic.entrypoints.help_schemas import AskIn, AskOut, FeedbackIn, FeedbackOut, PredefinedListOut
from business_logic.entrypoints.schemas import PUBLIC_BODY_LIMIT
from strata_kernel.access import public
from strata_kernel.inputs import body_limit
from strata_kernel.lean import LeanView, load_input
from strata_kernel.logs import request_id_var
from strata_kernel.metrics import metric_name


def register_help_routes(app: APIFlask, deps: Dependencies, component: str) -> LeanView:
    """The chatbot's routes; answers the lean twin of ``POST /v1/help/ask`` for the app to install."""
    answers = Counter(
        metric_name(component, "help_answers_total"),
        "Help-centre answers given, by source (predefined, model, unknown, fallback, blocked).",
        ["source"],
        registry=app.extensions["strata.registry"],
    )
    for source in ANSWER_SOURCES:
        answers.labels(source)
    # the chatbot's helpful rate (the business-logic flow's user behaviour): helpful="true" / all feedback
    feedback_given = Counter(
        metric_name(component, "help_feedback_total"),
        "Feedback on help answers, by whether the customer found the answer helpful.",
        ["helpful"],
        registry=app.extensions["strata.registry"],
    )
    for helpful in ("true", "false"):
        feedback_given.labels(helpful)

    @app.get("/v1/help/questions")
    @app.output(PredefinedListOut)
    @app.doc(tags=["help"], summary="The predefined help questions, in display order.")
    def list_questions() -> dict[str, Any]:
        found = help_services.list_predefined(deps.uow_factory)
        return {"questions": [{"id": q.id, "question": q.question} for q in found]}

    @app.post("/v1/help/ask")
    @public  # an end user's call
    @body_limit(PUBLIC_BODY_LIMIT)
    @app.input(AskIn, arg_name="body")
    @app.output(AskOut)
    @app.doc(
        tags=["help"],
        summary="Answer a predefined question (by id) or a free-text one (by the model).",
        description="An unknown question or an unavailable model still gets a polite answer with help-centre links.",
        responses=[400, 404],
    )
    def ask(body: dict[str, Any]) -> dict[str, Any]:
        return answer(body)

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        common: dict[str, Any] = {
            "session_id": body.get("session_id"),
            "request_id": request_id_var.get(),
            "uow_factory": deps.uow_factory,
            "policy": deps.help_policy,
            "clock": deps.clock,
        }
        if "question_id" in body:
            reply = help_services.ask_predefined(body["question_id"], **common)
        else:
            reply = help_services.ask_free_text(body["text"], engine=deps.help_engine, **common)
        answers.labels(reply.source).inc()
        return _reply_body(reply)

    @app.post("/v1/help/questions/<question_id>/feedback")
    @public  # an end user's call
    @body_limit(PUBLIC_BODY_LIMIT)
    @app.input(FeedbackIn, arg_name="body")
    @app.output(FeedbackOut, status_code=201)
    @app.doc(tags=["help"], summary="Was the answer helpful? One feedback per question.", responses=[400, 404, 409])
    def feedback(question_id: str, body: dict[str, Any]) -> dict[str, Any]:
        feedback_id = help_services.give_feedback(
            question_id, body["helpful"], uow_factory=deps.uow_factory, clock=deps.clock
        )
        feedback_given.labels("true" if body["helpful"] else "false").inc()
        return {"feedback_id": feedback_id}

    ask_in, ask_out = AskIn(), AskOut()
    # every chatbot question: served lean (strata_kernel.lean) with the same schemas in and out as APIFlask applies
    return lambda call: ask_out.dump(answer(load_input(ask_in, call.body)))


def _reply_body(reply: HelpReply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "question_id": reply.question_id,
        "answer": reply.answer,
        "source": reply.source,
        "links": [asdict(link) for link in reply.links],
        "ask_feedback": reply.ask_feedback,
    }
    optional = {"article_url": reply.article_url, "article_title": reply.article_title, "confidence": reply.confidence}
    body.update({name: value for name, value in optional.items() if value is not None})
    return body
