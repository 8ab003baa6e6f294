"""Errors of the help-centre chatbot; each subclasses the kernel hierarchy and so knows its HTTP status.

(Kept apart from ``errors.py`` so the help feature is one set of modules.)
"""

from __future__ import annotations

from strata_kernel.errors import BadRequest, Conflict, NotFound, Unavailable


class InvalidHelpFile(BadRequest):
    """A predefined-questions file that cannot be loaded as a whole; ``field`` names the first problem."""

    code = "invalid_help_file"


class InvalidQuestion(BadRequest):
    code = "invalid_question"


class PredefinedQuestionNotFound(NotFound):
    code = "predefined_question_not_found"

    def __init__(self, predefined_id: str) -> None:
        super().__init__(f"predefined question {predefined_id!r} not found", field="question_id")


class QuestionNotFound(NotFound):
    code = "question_not_found"

    def __init__(self, question_id: str) -> None:
        super().__init__(f"question {question_id!r} not found", field="question_id")


class FeedbackAlreadyGiven(Conflict):
    code = "feedback_already_given"

    def __init__(self, question_id: str) -> None:
        super().__init__(f"feedback on question {question_id!r} was already given", field="question_id")


class AnswerEngineUnavailable(Unavailable):
    """The answer engine cannot answer now; the customer gets the polite fallback instead."""

    code = "answer_engine_unavailable"
