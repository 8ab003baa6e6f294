"""The SQLite adapter: the unit of work rolls back unless committed; an unreachable database is a 503."""

from __future__ import annotations

import os
from typing import Any

import pytest

from business_logic import services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.entrypoints.app import create_app
from business_logic.errors import DatabaseUnavailable
from business_logic.settings import Settings
from strata_kernel import background
from tests.support import json_of


def test_uncommitted_work_is_rolled_back(settings: Settings, catalog_data: dict[str, Any]) -> None:
    database = SqlDatabase(settings.database_url)
    with database.unit_of_work() as uow:
        uow.catalog.upsert(parse_catalog(catalog_data))
        assert uow.catalog.count() == 3  # visible inside the unit...
    assert services.count_restaurants(database.unit_of_work) == 0  # ...gone without commit
    database.close()


def test_a_failing_load_leaves_nothing_behind(settings: Settings, catalog_data: dict[str, Any]) -> None:
    database = SqlDatabase(settings.database_url)
    with pytest.raises(RuntimeError), database.unit_of_work() as uow:
        uow.catalog.upsert(parse_catalog(catalog_data))
        raise RuntimeError("crash before commit")
    assert services.count_restaurants(database.unit_of_work) == 0
    database.close()


def test_default_database_is_under_var_dir(settings: Settings) -> None:
    assert settings.database_url == f"sqlite:///{(settings.var_dir / 'business_logic' / 'app.db').resolve()}"


def test_unreachable_database_is_503_with_a_reason(settings: Settings, estimator: Any) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    with pytest.raises(DatabaseUnavailable):
        services.count_restaurants(SqlDatabase(broken.database_url).unit_of_work)
    response = create_app(broken, estimator=estimator).test_client().get("/v1/restaurants")
    assert response.status_code == 503
    assert json_of(response)["error"]["message"].startswith("database unavailable: ")


def _pragmas(database: SqlDatabase) -> tuple[str | None, int | None]:
    with database.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    return mode, synchronous


def test_the_embedded_database_syncs_its_log_in_the_background_within_the_window(
    settings: Settings, catalog_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """WAL, synchronous NORMAL (a commit does not wait for the disk), and the service's loop fsyncs the log once
    after commits, every commit_sync_seconds; nothing to sync, no fsync."""
    assert settings.commit_sync_seconds == 0.2
    app = create_app(settings)
    database = app.extensions["business_logic.deps"].database
    assert _pragmas(database) == ("wal", 1)
    loops = [loop.name for loop in app.extensions[background.EXTENSION].loops]
    assert "sqlite-wal-sync" in loops
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with database.unit_of_work() as uow:
        uow.catalog.upsert(parse_catalog(catalog_data))
        uow.commit()
    assert synced == []  # the commit returned without an fsync
    assert database.sync_wal() is True
    assert synced == [database.engine.url.database + "-wal"]
    assert database.sync_wal() is False  # nothing committed since
    assert services.count_restaurants(database.unit_of_work) == 3
    database.close()


def test_with_no_window_every_commit_syncs_itself(settings: Settings) -> None:
    database = SqlDatabase(settings.database_url, commit_sync_seconds=0)
    assert _pragmas(database) == ("wal", 2)  # FULL: a committed question is on disk when the call returns
    assert database.sync_loop() is None
    database.close()
