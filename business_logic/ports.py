"""Ports of business_logic, in domain terms. Adapters implement them; services use only these.

The unit of work exposes one repository per aggregate family: the catalog, the help centre's questions and
the outbox of events, so a row and the event describing it commit in one transaction.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from business_logic.domain.help import AskedQuestion, EngineAnswer, Feedback, PredefinedQuestion
from business_logic.domain.outbox import OutboxMessage
from business_logic.domain.restaurants import Catalog, EtdEstimate, EtdQuery, Restaurant, RestaurantSummary
from strata_kernel.unit_of_work import UnitOfWork as KernelUnitOfWork

#: Returns "now" for a quote; injected so tests pin time.
Clock = Callable[[], datetime]


class CatalogRepository(abc.ABC):
    """Restaurants, their cities and menus."""

    @abc.abstractmethod
    def get(self, restaurant_id: str) -> Restaurant | None:
        """The restaurant with its full menu, or ``None`` when unknown."""

    @abc.abstractmethod
    def search(self, *, city_id: str | None, text: str | None, limit: int) -> list[RestaurantSummary]:
        """Restaurants ordered by city then name; ``text`` matches name, cuisine or city (case-insensitive)."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many restaurants are stored."""

    @abc.abstractmethod
    def upsert(self, catalog: Catalog) -> None:
        """Insert or update every record of ``catalog``; a listed restaurant's menu becomes exactly its menu.
        Moves the :meth:`revision` on."""

    @abc.abstractmethod
    def revision(self) -> int:
        """A number every :meth:`upsert` changes (0 before the first): a copy made at one revision is current
        while the revision stays."""


class HelpRepository(abc.ABC):
    """The help-centre chatbot's predefined answers, the questions asked and the feedback given."""

    @abc.abstractmethod
    def list_predefined(self) -> list[PredefinedQuestion]:
        """Every predefined question, in the order of the file they were loaded from."""

    @abc.abstractmethod
    def get_predefined(self, predefined_id: str) -> PredefinedQuestion | None:
        """One predefined question, or ``None`` when unknown."""

    @abc.abstractmethod
    def replace_predefined(self, questions: Sequence[PredefinedQuestion]) -> tuple[int, int, int]:
        """Make ``questions`` the whole predefined set (upsert, drop the unlisted).

        Returns how many were (added, updated, removed).
        """

    @abc.abstractmethod
    def add_question(self, asked: AskedQuestion) -> None:
        """Store a question with the answer it got."""

    @abc.abstractmethod
    def get_question(self, question_id: str) -> AskedQuestion | None:
        """A stored question, or ``None`` when unknown."""

    @abc.abstractmethod
    def add_feedback(self, feedback: Feedback) -> None:
        """Store feedback; raises ``FeedbackAlreadyGiven`` when the question already has some (one per question)."""


class OutboxRepository(abc.ABC):
    """Events stored with the rows they describe, claimed and published by a relay (at least once)."""

    @abc.abstractmethod
    def add(self, topic: str, payload: Mapping[str, Any], *, key_field: str, created_at: datetime) -> None:
        """Queue one event in this unit's transaction; ``payload[key_field]`` keys it on its topic."""

    @abc.abstractmethod
    def claim(
        self, *, limit: int, now: datetime, lease_until: datetime, token: str, retry_now: bool = False
    ) -> list[OutboxMessage]:
        """Atomically take up to ``limit`` unpublished events, oldest first, leasing them until ``lease_until``.

        Claimable: never claimed, lease expired, or released after a failure with its retry time passed (or
        ``retry_now``). Safe with several relays at once: a row is claimed by one of them only.
        """

    @abc.abstractmethod
    def mark_published(self, ids: Sequence[int], *, at: datetime) -> None:
        """Record that these events reached the event log."""

    @abc.abstractmethod
    def release(self, ids: Sequence[int], *, retry_at: datetime, error: str) -> None:
        """Give claimed events back after a failed publish; they may be claimed again from ``retry_at``."""

    @abc.abstractmethod
    def pending(self) -> int:
        """How many events are not published yet."""


class UnitOfWork(KernelUnitOfWork):
    catalog: CatalogRepository
    help: HelpRepository
    outbox: OutboxRepository


#: Builds a fresh unit of work per use-case call (thread-safe: nothing is shared between calls).
UnitOfWorkFactory = Callable[[], UnitOfWork]


class EtdEstimator(abc.ABC):
    """Estimates the delivery time of a prospective order. Knows nothing of models or features here."""

    @abc.abstractmethod
    def estimate(self, query: EtdQuery) -> EtdEstimate:
        """Minutes from ``query.placed_at`` to delivery. Raises ``EstimatorUnavailable`` with a short reason."""


class HelpAnswerEngine(abc.ABC):
    """Answers a free-text help question (a model behind data_processing); knows nothing of stored answers."""

    @abc.abstractmethod
    def answer(self, text: str) -> EngineAnswer:
        """The engine's answer. Raises ``AnswerEngineUnavailable`` with a short reason when it cannot answer."""
