"""The unit-of-work port every deployable with a transactional store extends with its own repositories."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self


class UnitOfWork(abc.ABC):
    """One transaction: ``with uow: ...; uow.commit()``. Leaving the block without commit rolls back.

    A deployable subclasses it in its ports, declaring its repositories as attributes the adapter sets.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make this unit's writes durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard this unit's uncommitted writes (a no-op after commit)."""
