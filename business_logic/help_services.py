"""Use cases of the help-centre chatbot over the ports. Nothing here knows Flask, SQL or HTTP.

Every question and every feedback is stored together with its outbox event in one transaction, so none is lost
even while the event log is down; :func:`publish_outbox` moves the events to the event log later.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta

from business_logic.domain.help import (
    FEEDBACK_TOPIC,
    MAX_QUESTION_CHARS,
    MAX_SESSION_ID_CHARS,
    QUESTIONS_TOPIC,
    AskedQuestion,
    EngineAnswer,
    Feedback,
    HelpPolicy,
    HelpReply,
    PredefinedQuestion,
    QuestionKind,
    fallback_reply,
    feedback_event,
    question_event,
    reply_for_engine,
    reply_for_predefined,
)
from business_logic.domain.outbox import OutboxMessage, RelayResult
from business_logic.help_errors import (
    AnswerEngineUnavailable,
    InvalidQuestion,
    PredefinedQuestionNotFound,
    QuestionNotFound,
)
from business_logic.ports import Clock, HelpAnswerEngine, UnitOfWorkFactory
from strata_kernel.contracts import topics
from strata_kernel.eventlog import EventLog

log = logging.getLogger(__name__)

#: both help topics are keyed by the question
KEY_FIELD = topics.HELP_QUESTIONS.key_field
NewId = Callable[[], str]


def new_id() -> str:
    return str(uuid.uuid4())


def list_predefined(uow_factory: UnitOfWorkFactory) -> list[PredefinedQuestion]:
    with uow_factory() as uow:
        return uow.help.list_predefined()


def load_predefined(uow_factory: UnitOfWorkFactory, questions: Sequence[PredefinedQuestion]) -> tuple[int, int, int]:
    """Make ``questions`` the predefined set in one transaction; returns (added, updated, removed)."""
    with uow_factory() as uow:
        counts = uow.help.replace_predefined(questions)
        uow.commit()
    return counts


def ask_predefined(
    predefined_id: str,
    *,
    session_id: str | None,
    request_id: str,
    uow_factory: UnitOfWorkFactory,
    policy: HelpPolicy,
    clock: Clock,
) -> HelpReply:
    """Answer a predefined question from the database; no model is asked."""
    session = _session(session_id)
    with uow_factory() as uow:
        predefined = uow.help.get_predefined(predefined_id)
    if predefined is None:
        raise PredefinedQuestionNotFound(predefined_id)
    reply = reply_for_predefined(new_id(), predefined, policy.centre, policy.prohibited)
    asked = _asked(reply, "predefined", predefined.question, session, request_id, clock, predefined_id=predefined.id)
    _store_question(uow_factory, asked)
    return reply


def ask_free_text(
    text: str,
    *,
    session_id: str | None,
    request_id: str,
    uow_factory: UnitOfWorkFactory,
    engine: HelpAnswerEngine,
    policy: HelpPolicy,
    clock: Clock,
) -> HelpReply:
    """Ask the answer engine; an unknown answer or an engine outage still gets a polite reply, never an error."""
    question = check_question_text(text)
    session = _session(session_id)
    question_id = new_id()
    answer: EngineAnswer | None
    try:
        answer = engine.answer(question)
    except AnswerEngineUnavailable:  # the adapter has logged why
        answer = None
    if answer is None:
        reply = fallback_reply(question_id, policy.centre)
        asked = _asked(reply, "free_text", question, session, request_id, clock)
    else:
        reply = reply_for_engine(question_id, answer, policy.centre, policy.prohibited)
        asked = _asked(
            reply,
            "free_text",
            question,
            session,
            request_id,
            clock,
            article_id=answer.article_id,
            confidence=answer.confidence,
            model=answer.model or None,
            model_version=answer.version or None,
        )
    _store_question(uow_factory, asked)
    return reply


def give_feedback(question_id: str, helpful: bool, *, uow_factory: UnitOfWorkFactory, clock: Clock) -> str:
    """Store the one feedback a question may get (with its event); returns the feedback id."""
    if not isinstance(helpful, bool):  # a service-level guard: 1 or "yes" are not answers to a yes/no question
        raise InvalidQuestion("helpful must be true or false", field="helpful")
    with uow_factory() as uow:
        asked = uow.help.get_question(question_id)
        if asked is None:
            raise QuestionNotFound(question_id)
        feedback = Feedback(feedback_id=new_id(), question_id=asked.question_id, helpful=helpful, given_at=clock())
        uow.help.add_feedback(feedback)
        event = feedback_event(feedback, asked, new_id())
        uow.outbox.add(FEEDBACK_TOPIC, event, key_field=KEY_FIELD, created_at=feedback.given_at)
        uow.commit()
    return feedback.feedback_id


def check_question_text(text: str) -> str:
    question = (text or "").strip()
    if not question:
        raise InvalidQuestion("text must not be empty", field="text")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"text must be at most {MAX_QUESTION_CHARS} characters", field="text")
    return question


def publish_outbox(
    uow_factory: UnitOfWorkFactory,
    event_log: EventLog,
    *,
    now: Clock,
    batch_size: int = 200,
    lease_seconds: float = 60.0,
    retry_seconds: float = 10.0,
    retry_now: bool = False,
) -> RelayResult:
    """Publish every claimable outbox event, batch by batch; stop at the first failure (rows wait for a retry).

    ``retry_now`` also takes events still waiting out the retry delay of an earlier failure (an operator's drain).

    Delivery is at least once: a crash between publishing and marking re-publishes after the lease; consumers
    deduplicate by ``event_id``.
    """
    # a cheap read first: an idle relay must not take SQLite's write lock every round
    if pending_events(uow_factory) == 0:
        return RelayResult()
    published = failed = 0
    while True:
        token = new_id()
        started = now()
        with uow_factory() as uow:
            messages = uow.outbox.claim(
                limit=batch_size,
                now=started,
                lease_until=started + timedelta(seconds=lease_seconds),
                token=token,
                retry_now=retry_now,
            )
            uow.commit()  # the claim is visible to other relays before the (slow) publish
        if not messages:
            return RelayResult(published, failed)
        done, error = _publish(event_log, messages)
        rest = [message.id for message in messages if message.id not in done]
        with uow_factory() as uow:
            uow.outbox.mark_published(sorted(done), at=now())
            uow.outbox.release(rest, retry_at=now() + timedelta(seconds=retry_seconds), error=error or "")
            uow.commit()
        published += len(done)
        failed += len(rest)
        if error is not None:
            return RelayResult(published, failed, error)


def pending_events(uow_factory: UnitOfWorkFactory) -> int:
    with uow_factory() as uow:
        return uow.outbox.pending()


def _publish(event_log: EventLog, messages: Sequence[OutboxMessage]) -> tuple[set[int], str | None]:
    """Publish per topic, oldest first; returns the ids that reached the log and the first error."""
    by_topic: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
    for message in messages:
        by_topic[(message.topic, message.key_field)].append(message)
    done: set[int] = set()
    for (topic, key_field), batch in by_topic.items():
        try:
            event_log.publish(topic, [message.payload for message in batch], key_field=key_field)
        except Exception as exc:  # any adapter's failure (Unavailable, OSError, ...) means "retry later"
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("outbox: publishing %d events to %s failed: %s", len(batch), topic, reason)
            return done, f"{topic}: {reason}"
        done.update(message.id for message in batch)
    return done, None


def _session(session_id: str | None) -> str:
    session = (session_id or "").strip()
    if len(session) > MAX_SESSION_ID_CHARS:
        raise InvalidQuestion(f"session_id must be at most {MAX_SESSION_ID_CHARS} characters", field="session_id")
    return session or new_id()


def _asked(
    reply: HelpReply,
    kind: QuestionKind,
    text: str,
    session_id: str,
    request_id: str,
    clock: Clock,
    *,
    predefined_id: str | None = None,
    article_id: str | None = None,
    confidence: float | None = None,
    model: str | None = None,
    model_version: str | None = None,
) -> AskedQuestion:
    return AskedQuestion(
        question_id=reply.question_id,
        session_id=session_id,
        kind=kind,
        text=text,
        answer=reply.answer,
        answer_source=reply.source,
        request_id=request_id,
        asked_at=clock(),
        predefined_id=predefined_id,
        article_id=article_id,
        confidence=confidence,
        model=model,
        model_version=model_version,
    )


def _store_question(uow_factory: UnitOfWorkFactory, asked: AskedQuestion) -> None:
    with uow_factory() as uow:
        uow.help.add_question(asked)
        uow.outbox.add(QUESTIONS_TOPIC, question_event(asked, new_id()), key_field=KEY_FIELD, created_at=asked.asked_at)
        uow.commit()
