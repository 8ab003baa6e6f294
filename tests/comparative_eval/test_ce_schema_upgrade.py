"""A database made before deployment records kept their action still opens: the column is added, old rows say ""."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from comparative_eval.adapters.sql_store import SqlDatabase


def test_a_deployments_table_without_the_action_column_gets_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE deployments (id INTEGER PRIMARY KEY, model VARCHAR(64) NOT NULL, revision INTEGER NOT NULL,"
            " stable_version VARCHAR(32) NOT NULL, candidate_version VARCHAR(32), mode VARCHAR(16) NOT NULL,"
            " weight INTEGER NOT NULL, node_pins JSON NOT NULL, step INTEGER NOT NULL, actor VARCHAR(64) NOT NULL,"
            " reason TEXT NOT NULL, created_at DATETIME NOT NULL)"
        )
        connection.exec_driver_sql(
            "INSERT INTO deployments (model, revision, stable_version, mode, weight, node_pins, step, actor, reason,"
            " created_at) VALUES ('etd', 1, '3', 'full', 100, '{}', 3, 'operator', 'old', '2025-03-01 12:00:00')"
        )
    old.dispose()

    database = SqlDatabase(url)
    with database.unit_of_work() as uow:
        record = uow.deployments.current("etd")
    database.close()

    assert record is not None and (record.stable_version, record.reason, record.action) == ("3", "old", "")
