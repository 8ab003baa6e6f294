"""The SQLite adapter: the unit of work rolls back unless committed; an unreachable database is a 503."""

from __future__ import annotations

from typing import Any

import pytest

from business_logic import services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.entrypoints.app import create_app
from business_logic.errors import DatabaseUnavailable
from business_logic.settings import Settings


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
    assert response.json["error"]["message"].startswith("database unavailable: ")


def test_the_embedded_database_writes_ahead_and_syncs_every_commit(settings: Settings) -> None:
    """WAL (one fsync per commit, readers never wait for a writer), and FULL sync: a committed question is on disk."""
    database = SqlDatabase(settings.database_url)
    with database.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (mode, synchronous) == ("wal", 2)
    database.close()
