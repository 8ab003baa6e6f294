"""The SQL database: engine from a URL, schema on first use, and the unit of work over a session.

The URL scheme picks the backend (``sqlite:///...`` embedded, ``postgresql+psycopg://...`` served).
Vendor exceptions become :class:`DatabaseUnavailable` here, in one place.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from business_logic.adapters.outbox import SqlOutboxRepository
from business_logic.adapters.sql_catalog import SqlCatalogRepository
from business_logic.adapters.sql_help import SqlHelpRepository
from business_logic.adapters.sql_tables import metadata
from business_logic.errors import DatabaseUnavailable
from business_logic.ports import UnitOfWork
from strata_kernel.sql import CONNECTION_ERRORS, SchemaOnFirstUse, create_sql_engine, first_line

# WAL: a question stored by the chatbot commits with one fsync of the log (the rollback journal took three), and
# readers (quotes, the outbox relay's count) never wait for a writer; synchronous stays FULL (a commit is on disk)
SQLITE_PRAGMAS = ("foreign_keys=ON", "busy_timeout=5000", "journal_mode=WAL", "synchronous=FULL")


class SqlDatabase:
    """Owns the engine; creates missing tables on first use (retried until the database answers)."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine = create_sql_engine(url, sqlite_pragmas=SQLITE_PRAGMAS, **engine_options)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._schema = SchemaOnFirstUse(self.engine, metadata, DatabaseUnavailable)

    def unit_of_work(self) -> SqlUnitOfWork:
        self._schema.ensure()
        return SqlUnitOfWork(self._sessions)

    def close(self) -> None:
        self.engine.dispose()


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> SqlUnitOfWork:
        self._session = self._session_factory()
        self.catalog = SqlCatalogRepository(self._session)
        self.help = SqlHelpRepository(self._session)
        self.outbox = SqlOutboxRepository(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, traceback)
        finally:
            self._session.close()
        if isinstance(exc, CONNECTION_ERRORS):
            raise DatabaseUnavailable(f"database unavailable: {first_line(exc)}") from exc

    def commit(self) -> None:
        self._session.commit()

    def rollback(self) -> None:
        self._session.rollback()
