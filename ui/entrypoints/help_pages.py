"""The customers' help page ``/help`` (a chat with the help-centre bot) and its relay ``/api/help/*``.

Like the ETD page it talks only to business_logic, whose answers (status and body) are relayed unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from apiflask import APIFlask
from flask import Response, jsonify, request

from strata_kernel.access import public
from ui.domain.reply import Reply
from ui.ports import HelpCentre


def register_help(app: APIFlask, help_centre: HelpCentre, page: Callable[[str], Response]) -> None:
    """``page(template)`` renders a page with the UI's security headers."""

    @app.get("/help")
    @app.doc(hide=True)
    def help_page() -> Response:
        return page("help.html")

    @app.get("/api/help/questions")
    @app.doc(tags=["relay"], summary="business_logic GET /v1/help/questions, relayed unchanged.")
    def help_questions() -> tuple[Response, int]:
        return _relayed(help_centre.list_questions())

    @app.post("/api/help/ask")
    @public  # an end user's call
    @app.doc(tags=["relay"], summary="business_logic POST /v1/help/ask, relayed unchanged.")
    def help_ask() -> tuple[Response, int]:
        return _relayed(help_centre.ask(request.get_json(force=True)))

    @app.post("/api/help/questions/<question_id>/feedback")
    @public  # an end user's call
    @app.doc(tags=["relay"], summary="business_logic POST /v1/help/questions/{id}/feedback, relayed unchanged.")
    def help_feedback(question_id: str) -> tuple[Response, int]:
        return _relayed(help_centre.give_feedback(question_id, request.get_json(force=True)))


def _relayed(reply: Reply) -> tuple[Response, int]:
    if reply.body is None:
        return Response(status=reply.status), reply.status
    return jsonify(reply.body), reply.status
