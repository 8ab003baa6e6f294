"""The SQL database: engine from a URL, schema on first use, and the unit of work over a session.

The URL scheme picks the backend (``sqlite:///...`` embedded, ``postgresql+psycopg://...`` served).
Vendor exceptions become :class:`DatabaseUnavailable` here, in one place.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from business_logic.adapters.outbox import SqlOutboxRepository
from business_logic.adapters.sql_catalog import SqlCatalogRepository
from business_logic.adapters.sql_help import SqlHelpRepository
from business_logic.adapters.sql_tables import metadata
from business_logic.errors import DatabaseUnavailable
from business_logic.ports import UnitOfWork

# errors meaning "cannot reach or use the database now"; integrity errors stay bugs (500)
_CONNECTION_ERRORS = (OperationalError, InterfaceError)


class SqlDatabase:
    """Owns the engine; creates missing tables on first use (retried until the database answers)."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine = _create_engine(url, **engine_options)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._schema_ready = False
        self._lock = threading.Lock()

    def unit_of_work(self) -> SqlUnitOfWork:
        self._ensure_schema()
        return SqlUnitOfWork(self._sessions)

    def close(self) -> None:
        self.engine.dispose()

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            try:
                metadata.create_all(self.engine)
            except _CONNECTION_ERRORS as exc:
                raise DatabaseUnavailable(f"database unavailable: {_first_line(exc)}") from exc
            self._schema_ready = True


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
        if isinstance(exc, _CONNECTION_ERRORS):
            raise DatabaseUnavailable(f"database unavailable: {_first_line(exc)}") from exc

    def commit(self) -> None:
        self._session.commit()

    def rollback(self) -> None:
        self._session.rollback()


def _create_engine(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
