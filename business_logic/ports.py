"""Ports of business_logic, in domain terms. Adapters implement them; services use only these.

The unit of work exposes one repository per aggregate family. Today that is the catalog; the help-centre's
predefined questions will live in the same database as a second repository on the same unit of work.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from business_logic.domain.model import Catalog, EtdEstimate, EtdQuery, Restaurant, RestaurantSummary

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
        """Insert or update every record of ``catalog``; a listed restaurant's menu becomes exactly its menu."""


class UnitOfWork(abc.ABC):
    """One transaction: ``with uow: ...; uow.commit()``. Leaving the block without commit rolls back."""

    catalog: CatalogRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make this unit's writes durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard this unit's uncommitted writes (a no-op after commit)."""


#: Builds a fresh unit of work per use-case call (thread-safe: nothing is shared between calls).
UnitOfWorkFactory = Callable[[], UnitOfWork]


class EtdEstimator(abc.ABC):
    """Estimates the delivery time of a prospective order. Knows nothing of models or features here."""

    @abc.abstractmethod
    def estimate(self, query: EtdQuery) -> EtdEstimate:
        """Minutes from ``query.placed_at`` to delivery. Raises ``EstimatorUnavailable`` with a short reason."""
