"""Profiles in the catalog's own database: one row per committed file, one per table version (JSON text).

A file's profile is computed once (files never change) and kept while the catalog keeps the file's row, so a
later version that still holds the file merges it instead of reading it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Engine, Integer, String, Table, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from data_lake.adapters.sqlalchemy_catalog import metadata
from data_lake.domain.checks import CheckRecord, Finding
from data_lake.domain.tables import TableName
from data_lake.ports import CheckStore, ProfileStore
from strata_kernel.errors import Unavailable
from strata_kernel.profiles.model import TableProfile

_IN_CHUNK = 500

lake_file_profiles = Table(
    "lake_file_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(200), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("profile", Text, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("table_name", "path", name="uq_lake_file_profiles_path"),
)

lake_version_profiles = Table(
    "lake_version_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("profile", Text, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("table_name", "version", name="uq_lake_version_profiles_version"),
)


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Unavailable(f"profile store unavailable: {reason}", code="catalog_unavailable") from exc


class SqlAlchemyProfileStore(ProfileStore):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine, tables=[lake_file_profiles, lake_version_profiles])

    def file_profiles(self, table: TableName, paths: Sequence[str]) -> dict[str, TableProfile]:
        found: dict[str, TableProfile] = {}
        with _translate_errors(), self._engine.connect() as connection:
            for start in range(0, len(paths), _IN_CHUNK):
                rows = connection.execute(
                    select(lake_file_profiles.c.path, lake_file_profiles.c.profile).where(
                        lake_file_profiles.c.table_name == table.qualified,
                        lake_file_profiles.c.path.in_(paths[start : start + _IN_CHUNK]),
                    )
                ).all()
                found.update({path: _load(text) for path, text in rows})
        return found

    def save_file_profiles(self, table: TableName, profiles: Mapping[str, TableProfile]) -> None:
        now = datetime.now(UTC)
        for path, profile in profiles.items():  # one row each: a race on one file must not lose the others
            row = {"table_name": table.qualified, "path": path, "profile": _dump(profile), "computed_at": now}
            self._insert_once(lake_file_profiles, row)

    def version_profile(self, table: TableName, version: int) -> TableProfile | None:
        query = select(lake_version_profiles.c.profile).where(
            lake_version_profiles.c.table_name == table.qualified, lake_version_profiles.c.version == version
        )
        with _translate_errors(), self._engine.connect() as connection:
            text = connection.execute(query).scalar()
        return None if text is None else _load(text)

    def save_version_profile(self, table: TableName, version: int, profile: TableProfile) -> None:
        row = {"table_name": table.qualified, "version": version, "profile": _dump(profile),
               "computed_at": datetime.now(UTC)}  # fmt: skip
        self._insert_once(lake_version_profiles, row)

    def _insert_once(self, target: Table, row: dict[str, object]) -> None:
        try:
            with _translate_errors(), self._engine.begin() as connection:
                connection.execute(target.insert().values(**row))
        except Unavailable as exc:
            if isinstance(exc.__cause__, IntegrityError):  # another worker stored the same profile first
                return
            raise


def _dump(profile: TableProfile) -> str:
    return json.dumps(profile.to_dict(), separators=(",", ":"))


def _load(text: str) -> TableProfile:
    return TableProfile.from_dict(json.loads(text))


lake_commit_checks = Table(
    "lake_commit_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(200), nullable=False),
    Column("version", Integer, nullable=True),
    Column("run_id", String(100), nullable=False),
    Column("field", String(200), nullable=False),
    Column("reason", String(50), nullable=False),
    Column("detail", Text, nullable=False),
    Column("quarantined", Boolean, nullable=False),
    Column("released", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


class SqlAlchemyCheckStore(CheckStore):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine, tables=[lake_commit_checks])

    def record(
        self, table: TableName, version: int | None, run_id: str, findings: Sequence[Finding], *, quarantined: bool
    ) -> None:
        if not findings:
            return
        now = datetime.now(UTC)
        rows = [{"table_name": table.qualified, "version": version, "run_id": run_id, "field": f.field,
                 "reason": f.reason.value, "detail": f.detail[:2000], "quarantined": quarantined, "released": False,
                 "at": now} for f in findings]  # fmt: skip
        with _translate_errors(), self._engine.begin() as connection:
            connection.execute(lake_commit_checks.insert(), rows)

    def after(self, check_id: int, limit: int) -> list[CheckRecord]:
        query = select(lake_commit_checks).where(lake_commit_checks.c.id > check_id)
        return self._read(query.order_by(lake_commit_checks.c.id).limit(limit))

    def quarantined(self, table: TableName | None = None) -> list[CheckRecord]:
        query = select(lake_commit_checks).where(lake_commit_checks.c.quarantined, ~lake_commit_checks.c.released)
        if table is not None:
            query = query.where(lake_commit_checks.c.table_name == table.qualified)
        return self._read(query.order_by(lake_commit_checks.c.id))

    def release(self, table: TableName, run_id: str) -> None:
        update = (
            lake_commit_checks.update()
            .where(lake_commit_checks.c.table_name == table.qualified, lake_commit_checks.c.run_id == run_id)
            .values(released=True)
        )
        with _translate_errors(), self._engine.begin() as connection:
            connection.execute(update)

    def _read(self, query: Any) -> list[CheckRecord]:
        with _translate_errors(), self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [_record(row) for row in rows]


def _record(row: Any) -> CheckRecord:
    return CheckRecord(
        id=row["id"],
        table=row["table_name"],
        version=row["version"],
        run_id=row["run_id"],
        field=row["field"],
        reason=row["reason"],
        detail=row["detail"],
        quarantined=bool(row["quarantined"]),
        released=bool(row["released"]),
        at=row["at"],
    )
