"""The SQL database: engine from a URL, schema on first use, and the unit of work over a session.

The URL scheme picks the backend (``sqlite:///...`` embedded, ``postgresql+psycopg://...`` served).
Vendor exceptions become :class:`DatabaseUnavailable` here, in one place.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from business_logic.adapters.outbox import SqlOutboxRepository
from business_logic.adapters.sql_catalog import SqlCatalogRepository
from business_logic.adapters.sql_help import SqlHelpRepository
from business_logic.adapters.sql_tables import metadata
from business_logic.errors import DatabaseUnavailable
from business_logic.ports import UnitOfWork
from strata_kernel.background import BackgroundLoop
from strata_kernel.sql import CONNECTION_ERRORS, SchemaOnFirstUse, create_sql_engine, first_line

# WAL: readers (quotes, the outbox relay's count) never wait for a writer, and a commit appends to one log file.
# synchronous=FULL: every commit waits for its fsync (a committed question is on disk when the customer is answered);
# NORMAL: a commit returns once the OS has the log (a crash of the process loses nothing; a power cut or an OS crash
# loses the commits not yet synced) and `sync_wal` fsyncs the log from a background loop (group commit).
SQLITE_PRAGMAS = ("foreign_keys=ON", "busy_timeout=5000", "journal_mode=WAL")


class SqlDatabase:
    """Owns the engine; creates missing tables on first use (retried until the database answers).

    ``commit_sync_seconds`` > 0 (embedded SQLite only): commits do not wait for the disk; :meth:`sync_loop` fsyncs
    the write-ahead log every that many seconds, so a power cut loses at most that window of commits. 0: every
    commit waits for its own fsync.
    """

    def __init__(self, url: str, *, commit_sync_seconds: float = 0.0, **engine_options: Any) -> None:
        parsed = make_url(url)
        embedded = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        self._wal = Path(f"{parsed.database}-wal") if embedded else None
        self.commit_sync_seconds = commit_sync_seconds if self._wal is not None else 0.0
        synchronous = "synchronous=NORMAL" if self.commit_sync_seconds > 0 else "synchronous=FULL"
        self.engine = create_sql_engine(url, sqlite_pragmas=(*SQLITE_PRAGMAS, synchronous), **engine_options)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._schema = SchemaOnFirstUse(self.engine, metadata, DatabaseUnavailable)
        self._unsynced = False  # a commit of this process since the last fsync of the log
        if self.commit_sync_seconds > 0:
            # after the commit reached the log (the engine's "commit" event fires before it: a sync in between
            # would clear the mark and miss the commit)
            event.listen(self._sessions, "after_commit", self._committed)

    def _committed(self, _session: Session) -> None:
        self._unsynced = True

    def sync_wal(self) -> bool:
        """fsync the write-ahead log if this process committed since the last sync; True when it did."""
        if self._wal is None or not self._unsynced:
            return False
        self._unsynced = False  # cleared first: a commit during the fsync is synced by the next round
        try:
            descriptor = os.open(self._wal, os.O_RDONLY)
        except FileNotFoundError:  # checkpointed into the database and removed (its close synced it)
            return False
        try:
            os.fsync(descriptor)  # the inode's dirty pages, whichever connection wrote them
        except OSError:
            self._unsynced = True  # tried again next round
            raise
        finally:
            os.close(descriptor)
        return True

    def sync_loop(self) -> BackgroundLoop | None:
        """The background loop bounding the durability window (None when every commit syncs itself)."""
        if self.commit_sync_seconds <= 0:
            return None

        def step() -> None:
            self.sync_wal()

        return BackgroundLoop("sqlite-wal-sync", step, self.commit_sync_seconds, on_stop=step)

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
