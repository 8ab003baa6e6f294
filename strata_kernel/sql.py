"""Relational stores of the deployables: an engine from a URL, and the schema created on first use.

The URL scheme picks the backend (``sqlite:///...`` embedded, ``postgresql+psycopg://...`` served); SQLite gets the
pragmas its owner asks for, a server gets pre-ping so a restarted database costs no request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import InterfaceError, OperationalError

#: errors meaning "cannot reach or use the database now"; integrity errors stay bugs (500)
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def create_sql_engine(
    url: str, *, sqlite_pragmas: Sequence[str] = (), sqlite_begin_immediate: bool = False, **options: Any
) -> Engine:
    """An engine for ``url``. SQLite: the file's directory is created, ``PRAGMA <p>`` runs on every connection,
    and with ``sqlite_begin_immediate`` every transaction takes the write lock up front."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if sqlite_begin_immediate:  # take transaction control from pysqlite: "begin" below decides
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in sqlite_pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    if sqlite_begin_immediate:
        event.listen(engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(connection: Connection) -> None:
    # a deferred transaction that reads and then writes fails at once ("database is locked") when another
    # connection wrote in between: take the write lock up front instead
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class SchemaOnFirstUse:
    """Creates missing tables the first time a unit of work needs them, retried until the database answers."""

    def __init__(self, engine: Engine, metadata: MetaData, unavailable: Callable[[str], Exception]) -> None:
        self._engine = engine
        self._metadata = metadata
        self._unavailable = unavailable
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                self._metadata.create_all(self._engine)
            except CONNECTION_ERRORS as exc:
                raise self._unavailable(f"database unavailable: {first_line(exc)}") from exc
            self._ready = True


def first_line(exc: BaseException) -> str:
    """The driver's own message, first line only (what an operator can act on)."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
