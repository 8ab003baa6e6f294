"""Values and rules of the help-centre chatbot: predefined answers, model answers, the replies a customer reads.

Pure: no framework, no I/O. The prohibited-words check and the choice of links live here so every path
(predefined, model, unknown, fallback) goes through the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from business_logic.help_errors import InvalidHelpFile
from strata_kernel.contracts import topics
from strata_kernel.contracts.events import (
    ANSWER_SOURCES,
    AnswerSource,
    HelpFeedbackGiven,
    HelpQuestionAsked,
    QuestionKind,
)

__all__ = ["ANSWER_SOURCES", "AnswerSource", "QuestionKind"]  # the published vocabulary, re-exported

MAX_QUESTION_CHARS = 500
MAX_SESSION_ID_CHARS = 64

QUESTIONS_TOPIC = topics.HELP_QUESTIONS.name
FEEDBACK_TOPIC = topics.HELP_FEEDBACK.name

UNKNOWN_ANSWER = (
    "I'm sorry, I don't know the answer to that one yet. Our help centre may have what you are looking for: "
    "have a look at the pages below."
)
FALLBACK_ANSWER = (
    "I'm sorry, I can't answer questions right now. Please try again in a few minutes, "
    "or find your answer in our help centre below."
)
BLOCKED_ANSWER = (
    "I'm sorry, I can't show that answer here. Please have a look at our help centre below, "
    "or contact our support team."
)


@dataclass(frozen=True)
class PredefinedQuestion:
    """A question offered as a button, answered from the database without asking any model."""

    id: str
    question: str
    answer: str
    article_url: str | None = None


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class EngineAnswer:
    """What the answer engine (data_processing ``POST /v1/help/answer``) said about a free-text question."""

    known: bool
    confidence: float
    model: str
    version: str
    article_id: str | None = None
    title: str | None = None
    url: str | None = None
    answer: str | None = None


@dataclass(frozen=True)
class HelpReply:
    """The answer a customer reads; ``answer`` is plain text that has passed the prohibited-words check."""

    question_id: str
    answer: str
    source: AnswerSource
    links: tuple[Link, ...]
    article_url: str | None = None
    article_title: str | None = None
    confidence: float | None = None
    ask_feedback: bool = True


@dataclass(frozen=True)
class AskedQuestion:
    """One stored question with the answer it got (a row of ``help_questions``, an event of ``help.questions``)."""

    question_id: str
    session_id: str
    kind: QuestionKind
    text: str
    answer: str
    answer_source: AnswerSource
    request_id: str
    asked_at: datetime
    predefined_id: str | None = None
    article_id: str | None = None
    confidence: float | None = None
    model: str | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    question_id: str
    helpful: bool
    given_at: datetime


@dataclass(frozen=True)
class HelpCentre:
    """Where a customer is sent when the bot cannot answer: the help centre's index and category pages."""

    base_url: str
    #: category slug -> title; a category page is ``<base_url>/categories/<slug>.html``
    categories: Mapping[str, str] = field(default_factory=dict)

    def links(self) -> tuple[Link, ...]:
        base = self.base_url.rstrip("/")
        index = Link("Help centre", f"{base}/")
        return (index, *(Link(title, f"{base}/categories/{slug}.html") for slug, title in self.categories.items()))


@dataclass(frozen=True)
class HelpPolicy:
    """What every answer goes through: where to send a customer, and which words an answer must never hold."""

    centre: HelpCentre
    prohibited: ProhibitedWords


class ProhibitedWords:
    """Whole-word, case- and accent-insensitive matching of words or phrases an answer must never contain."""

    def __init__(self, words: Iterable[str]) -> None:
        phrases = sorted({fold(word).strip() for word in words} - {""})
        # a phrase's words may be separated by any whitespace; "\w" borders make the match whole-word
        alternatives = ["\\s+".join(re.escape(part) for part in phrase.split()) for phrase in phrases]
        self._pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)") if alternatives else None

    def find(self, *texts: str | None) -> str | None:
        """The first prohibited word or phrase found (folded, single-spaced), or ``None`` when every text is clean."""
        if self._pattern is None:
            return None
        for text in texts:
            if text and (match := self._pattern.search(fold(text))):
                return " ".join(match.group(0).split())
        return None


def fold(text: str) -> str:
    """Lower-case without accents ("Idiót" -> "idiot"), so the check cannot be dodged by case or diacritics."""
    if text.isascii():  # nothing to decompose (ASCII has no compatibility decompositions): skip the per-letter walk
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def web_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL; anything else (``javascript:``, relative) is dropped."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in {"http", "https"} and parts.netloc else None


def reply_for_predefined(
    question_id: str, predefined: PredefinedQuestion, centre: HelpCentre, prohibited: ProhibitedWords
) -> HelpReply:
    url = web_url(predefined.article_url)
    reply = HelpReply(
        question_id=question_id,
        answer=predefined.answer,
        source="predefined",
        links=(Link("Read the article", url),) if url else (),
        article_url=url,
    )
    return checked(reply, centre, prohibited)


def reply_for_engine(
    question_id: str, engine: EngineAnswer, centre: HelpCentre, prohibited: ProhibitedWords
) -> HelpReply:
    if not engine.known or not (engine.answer or "").strip():
        return HelpReply(question_id, UNKNOWN_ANSWER, "unknown", centre.links(), confidence=engine.confidence)
    url = web_url(engine.url)
    title = engine.title or None
    reply = HelpReply(
        question_id=question_id,
        answer=(engine.answer or "").strip(),
        source="model",
        links=(Link(title or "Read the article", url),) if url else (),
        article_url=url,
        article_title=title,
        confidence=engine.confidence,
    )
    return checked(reply, centre, prohibited)


def fallback_reply(question_id: str, centre: HelpCentre) -> HelpReply:
    return HelpReply(question_id, FALLBACK_ANSWER, "fallback", centre.links())


def checked(reply: HelpReply, centre: HelpCentre, prohibited: ProhibitedWords) -> HelpReply:
    """The reply, or a safe one (source "blocked", no article) when its text or title holds a prohibited word."""
    if prohibited.find(reply.answer, reply.article_title) is None:
        return reply
    return HelpReply(reply.question_id, BLOCKED_ANSWER, "blocked", centre.links())


def question_event(asked: AskedQuestion, event_id: str) -> dict[str, object]:
    """The ``help.questions`` event of a stored question (strata_kernel.contracts.events.HelpQuestionAsked)."""
    return HelpQuestionAsked(
        event_id=event_id,
        event_time=asked.asked_at,
        question_id=asked.question_id,
        session_id=asked.session_id,
        kind=asked.kind,
        predefined_id=asked.predefined_id,
        text=asked.text,
        answer_source=asked.answer_source,
        article_id=asked.article_id,
        confidence=asked.confidence,
        model=asked.model,
        model_version=asked.model_version,
        request_id=asked.request_id,
    ).to_wire()


def feedback_event(feedback: Feedback, asked: AskedQuestion, event_id: str) -> dict[str, object]:
    """The ``help.feedback`` event; ``request_id`` is the one of the answer being judged."""
    return HelpFeedbackGiven(
        event_id=event_id,
        event_time=feedback.given_at,
        feedback_id=feedback.feedback_id,
        question_id=feedback.question_id,
        helpful=feedback.helpful,
        answer_source=asked.answer_source,
        model=asked.model,
        model_version=asked.model_version,
        request_id=asked.request_id,
    ).to_wire()


def check_predefined_set(questions: Sequence[PredefinedQuestion]) -> None:
    """A loadable set: ids unique, article links absolute http(s). Raises ``InvalidHelpFile`` naming the entry."""
    seen: set[str] = set()
    for index, question in enumerate(questions):
        if question.id in seen:
            raise InvalidHelpFile(f"duplicate id {question.id!r}", field=f"questions.{index}.id")
        seen.add(question.id)
        if question.article_url is not None and web_url(question.article_url) is None:
            raise InvalidHelpFile("not an absolute http(s) URL", field=f"questions.{index}.article_url")
