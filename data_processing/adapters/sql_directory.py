"""The feature directory in SQL (SQLAlchemy Core): SQLite embedded by default, PostgreSQL by changing the URL.

Tables are created on first use. Vendor errors meaning "cannot reach the database" become
:class:`DirectoryUnavailable` (503) here, in one place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    case,
    create_engine,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from data_processing.directory.ports import FeatureDirectory
from data_processing.domain.registry_rules import (
    DEPRECATED,
    FeatureUsage,
    GroupEntry,
    RegisteredFeature,
    RegistrationPlan,
)
from strata_kernel.errors import Unavailable

metadata = MetaData()
groups_table = Table(
    "fd_groups", metadata,
    Column("name", String(100), primary_key=True),
    Column("entity", String(100), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("source", String(200), nullable=False),
    Column("table_name", String(200), nullable=False),
    Column("code", String(200), nullable=False),
    Column("nominal_time", String(100), nullable=False),
    Column("ttl_seconds", Integer, nullable=False),
    Column("schedule", String(20), nullable=False),
    Column("freshness_slo_seconds", Integer, nullable=False),
    Column("registered_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("newest_nominal_time", DateTime),
    Column("availability_updated_at", DateTime),
)  # fmt: skip
features_table = Table(
    "fd_features", metadata,
    Column("group_name", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    Column("type", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("deprecation_reason", Text),
    Column("deprecated_at", DateTime),
    Column("registered_at", DateTime, nullable=False),
    PrimaryKeyConstraint("group_name", "name"),
    ForeignKeyConstraint(["group_name"], ["fd_groups.name"]),
)  # fmt: skip
usage_table = Table(
    "fd_usage", metadata,
    Column("group_name", String(100), nullable=False),
    Column("feature", String(100), nullable=False),
    Column("consumer", String(200), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("last_used", DateTime, nullable=False),
    PrimaryKeyConstraint("group_name", "feature", "consumer"),
)  # fmt: skip

_CONNECTION_ERRORS = (OperationalError, InterfaceError)


class DirectoryUnavailable(Unavailable):
    code = "feature_directory_unavailable"


class SqlFeatureDirectory(FeatureDirectory):
    def __init__(self, url: str) -> None:
        self._engine = _create_engine(url)
        self._schema_ready = False
        self._lock = threading.Lock()

    # -- writes -------------------------------------------------------------------------------------------------
    def save_registration(self, plan: RegistrationPlan, at: datetime) -> None:
        group = plan.group
        values = {
            "entity": group.entity, "owner": group.owner, "description": group.description,
            "source": group.source, "table_name": group.table, "code": group.code,
            "nominal_time": group.nominal_time, "ttl_seconds": int(group.ttl.total_seconds()),
            "schedule": group.schedule, "freshness_slo_seconds": int(group.freshness_slo.total_seconds()),
            "updated_at": at,
        }  # fmt: skip
        with self._begin() as connection:
            updated = connection.execute(update(groups_table).where(groups_table.c.name == group.name), values)
            if updated.rowcount == 0:
                connection.execute(groups_table.insert(), {"name": group.name, "registered_at": at, **values})
            position = len(self._features(connection, group.name))
            rows = [_feature_row(feature, position + index, at) for index, feature in enumerate(plan.new_features)]
            if rows:
                connection.execute(features_table.insert(), rows)

    def deprecate(self, group: str, feature: str, reason: str, at: datetime) -> RegisteredFeature | None:
        key = and_(features_table.c.group_name == group, features_table.c.name == feature)
        with self._begin() as connection:
            connection.execute(
                update(features_table).where(key, features_table.c.status != DEPRECATED),
                {"status": DEPRECATED, "deprecation_reason": reason, "deprecated_at": at},
            )
            found = connection.execute(select(features_table).where(key)).first()
        return _feature(found) if found is not None else None

    def record_availability(self, group: str, newest_nominal_time: datetime, at: datetime) -> None:
        column = groups_table.c.newest_nominal_time
        with self._begin() as connection:
            connection.execute(
                update(groups_table)
                .where(groups_table.c.name == group, or_(column.is_(None), column < newest_nominal_time))
                .values(newest_nominal_time=newest_nominal_time, availability_updated_at=at)
            )

    def add_usage(self, usage: Sequence[FeatureUsage]) -> None:
        if not usage:
            return
        try:
            self._add_usage(usage)
        except IntegrityError:  # another process inserted the same new row first: now it exists
            self._add_usage(usage)

    def _add_usage(self, usage: Sequence[FeatureUsage]) -> None:
        table = usage_table
        with self._begin() as connection:
            for item in usage:
                key = and_(
                    table.c.group_name == item.group, table.c.feature == item.feature, table.c.consumer == item.consumer
                )
                newer = case((table.c.last_used < item.last_used, item.last_used), else_=table.c.last_used)
                changed = connection.execute(
                    update(table).where(key).values(count=table.c.count + item.count, last_used=newer)
                )
                if changed.rowcount == 0:
                    connection.execute(
                        table.insert(),
                        {"group_name": item.group, "feature": item.feature, "consumer": item.consumer,
                         "count": item.count, "last_used": item.last_used},
                    )  # fmt: skip

    # -- reads --------------------------------------------------------------------------------------------------
    def groups(self, text: str = "") -> list[GroupEntry]:
        query = select(groups_table).order_by(groups_table.c.name)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            g, f = groups_table.c, features_table.c
            in_features = exists().where(
                f.group_name == g.name, or_(*(c.ilike(pattern, escape="\\") for c in (f.name, f.description)))
            )
            fields = (g.name, g.description, g.owner, g.entity)
            query = query.where(or_(*(c.ilike(pattern, escape="\\") for c in fields), in_features))
        with self._connect() as connection:
            return [_group(row) for row in connection.execute(query)]

    def group(self, name: str) -> GroupEntry | None:
        with self._connect() as connection:
            found = connection.execute(select(groups_table).where(groups_table.c.name == name)).first()
        return _group(found) if found is not None else None

    def features(self, group: str) -> list[RegisteredFeature]:
        with self._connect() as connection:
            return self._features(connection, group)

    def usage(self, group: str, feature: str | None = None) -> list[FeatureUsage]:
        table = usage_table
        query = select(table).where(table.c.group_name == group)
        if feature is not None:
            query = query.where(table.c.feature == feature)
        query = query.order_by(table.c.count.desc(), table.c.consumer, table.c.feature)
        with self._connect() as connection:
            return [
                FeatureUsage(row.group_name, row.feature, row.consumer, row._mapping["count"], row.last_used)
                for row in connection.execute(query)
            ]

    def close(self) -> None:
        self._engine.dispose()

    # -- plumbing -----------------------------------------------------------------------------------------------
    @staticmethod
    def _features(connection: Connection, group: str) -> list[RegisteredFeature]:
        query = select(features_table).where(features_table.c.group_name == group).order_by(features_table.c.position)
        return [_feature(row) for row in connection.execute(query)]

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        self._ensure_schema()
        with _translated(), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        self._ensure_schema()
        with _translated(), self._engine.connect() as connection:
            yield connection

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._lock, _translated():
            if not self._schema_ready:
                metadata.create_all(self._engine)
                self._schema_ready = True


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except _CONNECTION_ERRORS as exc:
        original = getattr(exc, "orig", None) or exc
        first = (str(original).strip().splitlines() or [type(original).__name__])[0]
        raise DirectoryUnavailable(f"feature directory unavailable: {first}") from exc


def _feature_row(feature: RegisteredFeature, position: int, at: datetime) -> dict[str, Any]:
    return {
        "group_name": feature.group, "name": feature.name, "position": position, "type": feature.type,
        "description": feature.description, "code_hash": feature.code_hash, "status": feature.status,
        "deprecation_reason": feature.deprecation_reason, "deprecated_at": feature.deprecated_at,
        "registered_at": at,
    }  # fmt: skip


def _feature(row: Any) -> RegisteredFeature:
    return RegisteredFeature(
        row.group_name, row.name, row.type, row.description, row.code_hash,
        row.status, row.deprecation_reason, row.deprecated_at,
    )  # fmt: skip


def _group(row: Any) -> GroupEntry:
    return GroupEntry(
        name=row.name, entity=row.entity, owner=row.owner, description=row.description, source=row.source,
        table=row.table_name, code=row.code, nominal_time=row.nominal_time,
        ttl=timedelta(seconds=row.ttl_seconds), schedule=row.schedule,
        freshness_slo=timedelta(seconds=row.freshness_slo_seconds), registered_at=row.registered_at,
        updated_at=row.updated_at, newest_nominal_time=row.newest_nominal_time,
    )  # fmt: skip


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, connect_args={"timeout": 5})
