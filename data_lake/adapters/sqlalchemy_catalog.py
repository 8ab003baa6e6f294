"""The catalog in a SQL database through SQLAlchemy: SQLite embedded by default, PostgreSQL by URL.

Three tables: ``lake_tables`` (one row per table, its current version), ``lake_commits`` (one row per
version, with lineage) and ``lake_files`` (every file ever committed, ``active`` while it is part of
the latest version). A commit is one transaction guarded by the table's version (compare-and-set)
and a unique (table, version) constraint, so two writers can never both become version N.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    exists,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from data_lake.domain.commits import (
    CommitRecord,
    DataFile,
    Hold,
    Mode,
    Owner,
    PlannedCommit,
    StaleVersion,
    TableSnapshot,
    TableSummary,
)
from data_lake.domain.schema import Column as SchemaColumn
from data_lake.domain.tables import TableName
from data_lake.ports import CatalogRepository
from strata_kernel.errors import Unavailable

metadata = MetaData()

lake_tables = Table(
    "lake_tables",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("zone", String(32), nullable=False),
    Column("location", String(300), nullable=False),
    Column("partition_column", String(64), nullable=False),
    Column("schema", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

lake_commits = Table(
    "lake_commits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_id", ForeignKey("lake_tables.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("mode", String(32), nullable=False),
    Column("job", String(500), nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("schema", JSON, nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    # who committed (the authenticated caller) and from which staging run; null on versions recorded before
    Column("caller", String(64), nullable=True),
    Column("run_id", String(64), nullable=True),
    UniqueConstraint("table_id", "version", name="uq_lake_commits_table_version"),
    Index("ix_lake_commits_table_run", "table_id", "run_id"),
)
#: columns added after a catalog may have been created: (table, column, SQL type) added on start when missing
_ADDED_COLUMNS = (
    ("lake_commits", "caller", "VARCHAR(64)"),
    ("lake_commits", "run_id", "VARCHAR(64)"),
    ("lake_files", "purged", "BOOLEAN"),
)

lake_files = Table(
    "lake_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_id", ForeignKey("lake_tables.id"), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("partition_value", String(300), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("added_version", Integer, nullable=False),
    Column("removed_version", Integer, nullable=True),
    Column("active", Boolean, nullable=False),
    # deleted from storage: a removed file stays readable for the retention period (a reader of the version it
    # belonged to finishes), then the first commit after that deletes it; null on files recorded before
    Column("purged", Boolean, nullable=True),
    Index("ix_lake_files_table_active", "table_id", "active"),
)

# a version a reader must be able to read again (the training set a registered model was trained on): its
# files outlive the retention period
lake_holds = Table(
    "lake_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_id", ForeignKey("lake_tables.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("holder", String(200), nullable=False),
    Column("held_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("table_id", "version", "holder", name="uq_lake_holds"),
)

_IN_CHUNK = 500  # stay far below SQLite's bound-parameter limit


def create_catalog_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL (readers never block the writer) and write transactions
    that take the lock up front (``BEGIN IMMEDIATE``), so concurrent commits queue instead of failing."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook below emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("catalog_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _files_of(table_id: int, version: int) -> Select[Any]:
    """The files of one version of a table: added at or before it and not removed by it."""
    return (
        select(lake_files.c.path, lake_files.c.partition_value, lake_files.c.rows)
        .where(
            lake_files.c.table_id == table_id,
            lake_files.c.added_version <= version,
            or_(lake_files.c.removed_version.is_(None), lake_files.c.removed_version > version),
        )
        .order_by(lake_files.c.path)
    )


class SqlAlchemyCatalog(CatalogRepository):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlAlchemyCatalog:
        catalog = cls(create_catalog_engine(url))
        catalog.create_schema()
        return catalog

    def create_schema(self) -> None:
        with self._translate_errors():
            try:
                self._add_missing_columns()
                metadata.create_all(self._engine)
            except (IntegrityError, OperationalError, ProgrammingError):
                self._add_missing_columns()  # another worker created or altered them at the same moment
                metadata.create_all(self._engine)

    def _add_missing_columns(self) -> None:
        """Catalogs created before a column existed get it (nullable: older versions simply have none)."""
        existing = inspect(self._engine)
        tables = set(existing.get_table_names())
        for table, column, kind in _ADDED_COLUMNS:
            if table in tables and column not in {c["name"] for c in existing.get_columns(table)}:
                with self._engine.begin() as connection:
                    connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:  # the unique (table, version) or table name: another writer won
            raise StaleVersion(str(exc.orig)) from exc
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise Unavailable(f"catalog store unavailable: {reason}", code="catalog_unavailable") from exc

    def ping(self) -> None:
        with self._translate_errors(), self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def snapshot(self, table: TableName) -> TableSnapshot | None:
        with self._translate_errors(), self._engine.connect() as connection:
            row = connection.execute(select(lake_tables).where(lake_tables.c.name == table.qualified)).first()
            if row is None:
                return None
            # the files of the version just read, not the ``active`` ones: under READ COMMITTED (PostgreSQL) this
            # second statement may see a commit the first did not, and a reader must get one version's files
            files = connection.execute(_files_of(row.id, row.version)).all()
        return TableSnapshot(
            table=table,
            partition_column=row.partition_column,
            schema=_columns(row.schema),
            version=row.version,
            files=tuple(DataFile(path, partition, rows) for path, partition, rows in files),
            updated_at=_utc(row.updated_at),
        )

    def snapshot_at(self, table: TableName, version: int) -> TableSnapshot | None:
        with self._translate_errors(), self._engine.connect() as connection:
            row = connection.execute(
                select(
                    lake_tables.c.id, lake_tables.c.partition_column, lake_commits.c.schema, lake_commits.c.committed_at
                )
                .join(lake_commits, lake_commits.c.table_id == lake_tables.c.id)
                .where(lake_tables.c.name == table.qualified, lake_commits.c.version == version)
            ).first()
            if row is None:
                return None
            files = connection.execute(_files_of(row.id, version)).all()
        return TableSnapshot(
            table=table,
            partition_column=row.partition_column,
            schema=_columns(row.schema),
            version=version,
            files=tuple(DataFile(path, partition, rows) for path, partition, rows in files),
            updated_at=_utc(row.committed_at),
        )

    @property
    def engine(self) -> Engine:
        """The catalog's engine, shared by the profile store (the same database, one pool)."""
        return self._engine

    def commits(self, table: TableName) -> list[CommitRecord]:
        query = (
            select(lake_commits)
            .join(lake_tables, lake_tables.c.id == lake_commits.c.table_id)
            .where(lake_tables.c.name == table.qualified)
            .order_by(lake_commits.c.version)
        )
        with self._translate_errors(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [_commit_record(row) for row in rows]

    def owner(self, table: TableName) -> Owner | None:
        query = (
            select(lake_commits.c.caller, lake_commits.c.job)
            .join(lake_tables, lake_tables.c.id == lake_commits.c.table_id)
            .where(lake_tables.c.name == table.qualified)
            .order_by(lake_commits.c.version)
            .limit(1)
        )
        with self._translate_errors(), self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else Owner(row.caller, row.job)

    def commit_of_run(self, table: TableName, run_id: str) -> CommitRecord | None:
        query = (
            select(lake_commits)
            .join(lake_tables, lake_tables.c.id == lake_commits.c.table_id)
            .where(lake_tables.c.name == table.qualified, lake_commits.c.run_id == run_id)
        )
        with self._translate_errors(), self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _commit_record(row)

    def summaries(self) -> list[TableSummary]:
        active = (
            select(
                lake_files.c.table_id,
                func.coalesce(func.sum(lake_files.c.rows), 0).label("rows"),
                func.count(func.distinct(lake_files.c.partition_value)).label("partitions"),
            )
            .where(lake_files.c.active.is_(True))
            .group_by(lake_files.c.table_id)
            .subquery()
        )
        query = (
            select(lake_tables, active.c.rows, active.c.partitions)
            .outerjoin(active, active.c.table_id == lake_tables.c.id)
            .order_by(lake_tables.c.name)
        )
        with self._translate_errors(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            TableSummary(
                TableName(row.zone, row.location.split("/", 1)[1]),
                row.version,
                int(row.rows or 0),
                int(row.partitions or 0),
                _utc(row.updated_at),
            )
            for row in rows
        ]

    def expired_files(self, table: TableName, removed_before: datetime) -> list[str]:
        query = (
            select(lake_files.c.path)
            .join(lake_tables, lake_tables.c.id == lake_files.c.table_id)
            .join(
                lake_commits,
                (lake_commits.c.table_id == lake_files.c.table_id)
                & (lake_commits.c.version == lake_files.c.removed_version),
            )
            .where(
                lake_tables.c.name == table.qualified,
                lake_files.c.active.is_(False),
                or_(lake_files.c.purged.is_(None), lake_files.c.purged.is_(False)),
                lake_commits.c.committed_at <= removed_before,
                ~exists().where(  # a held version still reads the file
                    lake_holds.c.table_id == lake_files.c.table_id,
                    lake_holds.c.version >= lake_files.c.added_version,
                    lake_holds.c.version < lake_files.c.removed_version,
                ),
            )
            .order_by(lake_files.c.path)
        )
        with self._translate_errors(), self._engine.connect() as connection:
            return [row.path for row in connection.execute(query)]

    def hold(self, table: TableName, version: int, holder: str, at: datetime) -> None:
        with self._translate_errors(), self._engine.connect() as connection:
            connection = connection.execution_options(catalog_write=True)
            try:
                with connection.begin():
                    table_id = self._table_id(connection, table)
                    held = select(lake_holds.c.id).where(lake_holds.c.table_id == table_id, lake_holds.c.version ==
                                                         version, lake_holds.c.holder == holder)  # fmt: skip
                    if connection.execute(held).first() is None:
                        connection.execute(lake_holds.insert().values(table_id=table_id, version=version,
                                                                      holder=holder, held_at=at))  # fmt: skip
            except IntegrityError:  # the same holder, at the same moment: held either way
                return

    def holds(self, table: TableName) -> list[Hold]:
        query = (
            select(lake_holds.c.version, lake_holds.c.holder, lake_holds.c.held_at)
            .join(lake_tables, lake_tables.c.id == lake_holds.c.table_id)
            .where(lake_tables.c.name == table.qualified)
            .order_by(lake_holds.c.version, lake_holds.c.held_at, lake_holds.c.holder)
        )
        with self._translate_errors(), self._engine.connect() as connection:
            return [Hold(row.version, row.holder, _utc(row.held_at)) for row in connection.execute(query)]

    def release(self, table: TableName, version: int, holder: str) -> bool:
        table_id = select(lake_tables.c.id).where(lake_tables.c.name == table.qualified).scalar_subquery()
        statement = delete(lake_holds).where(
            lake_holds.c.table_id == table_id, lake_holds.c.version == version, lake_holds.c.holder == holder
        )
        with self._translate_errors(), self._engine.connect() as connection:
            connection = connection.execution_options(catalog_write=True)
            with connection.begin():
                return connection.execute(statement).rowcount == 1

    def mark_purged(self, table: TableName, paths: Sequence[str]) -> None:
        with self._translate_errors(), self._engine.connect() as connection:
            connection = connection.execution_options(catalog_write=True)
            with connection.begin():
                table_id = self._table_id(connection, table)
                _update_files(connection, table_id, paths, where_active=False, purged=True)

    def record(self, commit: PlannedCommit) -> None:
        with self._translate_errors(), self._engine.connect() as connection:
            connection = connection.execution_options(catalog_write=True)
            with connection.begin():
                table_id = self._advance_version(connection, commit)
                connection.execute(lake_commits.insert().values(**_commit_row(table_id, commit)))
                superseded = [*commit.superseded, *(f.path for f in commit.added)]
                _update_files(
                    connection, table_id, superseded, where_active=True, active=False, removed_version=commit.version
                )
                connection.execute(lake_files.insert(), [_file_row(table_id, commit, f) for f in commit.added])

    def _advance_version(self, connection: Connection, commit: PlannedCommit) -> int:
        """Compare-and-set of the table's version; returns the table's id."""
        schema = [{"name": c.name, "type": c.type} for c in commit.schema]
        row = connection.execute(
            select(lake_tables.c.id, lake_tables.c.version)
            .where(lake_tables.c.name == commit.table.qualified)
            .with_for_update()
        ).first()
        if row is None:
            if commit.expected_version != 0:
                raise StaleVersion(f"{commit.table.qualified} disappeared")
            values = _new_table_row(commit, schema)
            inserted = connection.execute(lake_tables.insert().values(**values)).inserted_primary_key
            return int(inserted[0]) if inserted is not None else self._table_id(connection, commit.table)
        changed = connection.execute(
            update(lake_tables)
            .where(lake_tables.c.id == row.id, lake_tables.c.version == commit.expected_version)
            .values(version=commit.version, schema=schema, updated_at=commit.at)
        )
        if changed.rowcount != 1:
            raise StaleVersion(f"{commit.table.qualified} is at version {row.version}, not {commit.expected_version}")
        return int(row.id)

    @staticmethod
    def _table_id(connection: Connection, table: TableName) -> int:
        query = select(lake_tables.c.id).where(lake_tables.c.name == table.qualified)
        return int(connection.execute(query).scalar_one())


def _update_files(
    connection: Connection, table_id: int, paths: Sequence[str], *, where_active: bool, **values: Any
) -> None:
    """Set `values` on the table's files at `paths` whose `active` flag is `where_active`, in chunks small enough
    for any backend's parameter limit."""
    for start in range(0, len(paths), _IN_CHUNK):
        connection.execute(
            update(lake_files)
            .where(
                lake_files.c.table_id == table_id,
                lake_files.c.active.is_(where_active),
                lake_files.c.path.in_(paths[start : start + _IN_CHUNK]),
            )
            .values(**values)
        )


def _new_table_row(commit: PlannedCommit, schema: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": commit.table.qualified,
        "zone": commit.table.zone,
        "location": commit.table.location,
        "partition_column": commit.partition_column,
        "schema": schema,
        "version": commit.version,
        "created_at": commit.at,
        "updated_at": commit.at,
    }


def _commit_record(row: Any) -> CommitRecord:
    return CommitRecord(row.version, row.job, tuple(row.inputs), Mode(row.mode), row.rows, _utc(row.committed_at),
                        row.caller, row.run_id)  # fmt: skip


def _commit_row(table_id: int, commit: PlannedCommit) -> dict[str, Any]:
    return {
        "table_id": table_id,
        "version": commit.version,
        "mode": commit.mode.value,
        "job": commit.lineage.job,
        "inputs": list(commit.lineage.inputs),
        "rows": commit.rows,
        "schema": [{"name": c.name, "type": c.type} for c in commit.schema],
        "committed_at": commit.at,
        "caller": commit.lineage.caller,
        "run_id": commit.run_id,
    }


def _file_row(table_id: int, commit: PlannedCommit, file: DataFile) -> dict[str, Any]:
    return {
        "table_id": table_id,
        "path": file.path,
        "partition_value": file.partition,
        "rows": file.rows,
        "added_version": commit.version,
        "removed_version": None,
        "active": True,
        "purged": False,
    }


def _columns(raw: list[dict[str, str]]) -> tuple[SchemaColumn, ...]:
    return tuple(SchemaColumn(item["name"], item["type"]) for item in raw)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
