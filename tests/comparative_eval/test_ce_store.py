"""The SQL store on SQLite and PostgreSQL: append-only history, the record in force at an instant, samples joined."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from comparative_eval.adapters.sql_store import SqlDatabase
from comparative_eval.domain.deployment import DeploymentRecord
from comparative_eval.domain.events import Outcome, Prediction
from comparative_eval.errors import ChangeConflict
from comparative_eval.ports import Added
from tests.support import postgres_schema_url

T0 = datetime(2025, 3, 1, 12, 0, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDatabase]:
    if request.param == "sqlite":
        db = SqlDatabase(f"sqlite:///{tmp_path / 'store.db'}")
        yield db
        db.close()
        return
    with postgres_schema_url("ce_store") as url:
        db = SqlDatabase(url)
        yield db
        db.close()


def record(revision: int, at: datetime, weight: int = 5, model: str = "etd") -> DeploymentRecord:
    return DeploymentRecord(model, revision, "1", "2", "canary", weight, {"country_code=NL": "1"}, 0, "op", "r", at)


def test_history_current_and_record_at_an_instant(database: SqlDatabase) -> None:
    with database.unit_of_work() as uow:
        for revision, minutes in ((1, 0), (2, 10), (3, 20)):
            uow.deployments.append(record(revision, T0 + timedelta(minutes=minutes), weight=revision * 10))
        uow.deployments.append(record(1, T0, model="helpbot"))
        uow.commit()
    with database.unit_of_work() as uow:
        assert [r.revision for r in uow.deployments.history("etd")] == [3, 2, 1]
        current = uow.deployments.current("etd")
        assert current is not None and (current.revision, current.weight) == (3, 30)
        assert current.node_pins == {"country_code=NL": "1"} and current.created_at == T0 + timedelta(minutes=20)
        at = uow.deployments.at("etd", T0 + timedelta(minutes=15))
        assert at is not None and at.revision == 2
        exactly = uow.deployments.at("etd", T0 + timedelta(minutes=10))
        assert exactly is not None and exactly.revision == 2
        assert uow.deployments.at("etd", T0 - timedelta(seconds=1)) is None
        assert [r.model for r in uow.deployments.currents()] == ["etd", "helpbot"]
        assert uow.deployments.current("unknown") is None


def test_a_revision_is_taken_once(database: SqlDatabase) -> None:
    with database.unit_of_work() as uow:
        uow.deployments.append(record(1, T0))
        uow.commit()
    with pytest.raises(ChangeConflict), database.unit_of_work() as uow:
        uow.deployments.append(record(1, T0 + timedelta(seconds=1), weight=50))
        uow.commit()
    with database.unit_of_work() as uow:
        assert [r.weight for r in uow.deployments.history("etd")] == [5]


def test_without_commit_nothing_is_stored(database: SqlDatabase) -> None:
    with database.unit_of_work() as uow:
        uow.deployments.append(record(1, T0))
    with database.unit_of_work() as uow:
        assert uow.deployments.history("etd") == []


def prediction(event_id: str, request_id: str, version: str, route: str, value: float, at: datetime) -> Prediction:
    return Prediction(event_id, request_id, "etd", version, route, at, True, 4.0, value, None, {"x": 1.0}, None, None)


def test_samples_join_outcomes_idempotently_in_the_window(database: SqlDatabase) -> None:
    with database.unit_of_work() as uow:
        joined = uow.samples.add_predictions(
            [
                prediction("e1", "r1", "1", "stable", 30.0, T0),
                prediction("e2", "r2", "2", "canary", 40.0, T0),
                prediction("e0", "r0", "2", "canary", 40.0, T0 - timedelta(hours=1)),  # before the window
            ]
        )
        assert joined.joined == {} and joined.stored == {"e1", "e2", "e0"}
        joined = uow.samples.add_outcomes(
            [Outcome("d1", "etd", "r1", 33.0, None), Outcome("d2", "etd", "r2", 35.0, None)]
        )
        assert joined.joined == {"stable": 1, "canary": 1} and joined.stored == {"d1", "d2"}
        uow.commit()
    with database.unit_of_work() as uow:  # a replayed batch changes nothing
        assert uow.samples.add_predictions([prediction("e1", "r1", "1", "stable", 99.0, T0)]) == Added()
        assert uow.samples.add_outcomes([Outcome("d1", "etd", "r1", 99.0, None)]) == Added()
        uow.commit()
    with database.unit_of_work() as uow:
        [stable] = uow.samples.window("etd", "1", ["stable"], T0)
        assert stable.abs_error == pytest.approx(3.0)
        canary = uow.samples.window("etd", "2", ["canary"], T0)
        assert [o.abs_error for o in canary] == [pytest.approx(5.0)]
        assert len(uow.samples.recent_instances("etd", 10)) == 3
