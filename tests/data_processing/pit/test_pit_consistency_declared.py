"""Training/serving consistency of a declared model that is not ETD: ``trip_minutes`` of the acceptance tests
(tests/acceptance/declared), whose spine and features are on Chicago's clock, with text (categorical) features,
context fields and a DSL feature. What ``POST /v1/models/trip_minutes/predict`` sends the engine for (station, t)
equals the training set's row for a trip from that station at t — across the night the US moves its clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.domain.online import OnlineRow
from data_processing.jobs.pit_join import GroupRows
from data_processing.jobs.training_set import build_training_set
from data_processing.models import load_model
from data_processing.registry import FeatureGroupRegistry
from data_processing.serving import ModelPredictor
from strata_kernel.contracts.prediction import NOMINAL_TIME_KEY
from strata_kernel.contracts.serving import OnlinePredictRequest
from tests.data_processing.fakes import RecordingInferenceEngine

DECLARED = Path(__file__).parents[2] / "acceptance" / "declared"
REGISTRY = FeatureGroupRegistry.load(DECLARED / "feature_groups")
TRIPS = load_model("trip_minutes", REGISTRY, DECLARED / "model_specs")
STATUS = REGISTRY.get("station_status")
CHICAGO = ZoneInfo("America/Chicago")
DAY0 = datetime(2025, 3, 8, 18)  # Chicago wall clock; at 02:00 on 9 March the clocks jump to 03:00
# status reports on Chicago's clock (naive, as build-features writes them): st-1 every 2 h (kind hub, scarce bikes
# now and then), st-2 twice (its rows expire: TTL 3 h), st-3 never
OFFLINE = [
    *(("st-1", DAY0 + timedelta(hours=h), h % 5, 15 - h % 5, "hub") for h in range(0, 18, 2)
      if (DAY0 + timedelta(hours=h)).strftime("%d %H") != "09 02"),
    ("st-2", DAY0, 9, 6, "dock"),
    ("st-2", DAY0 + timedelta(hours=7), 1, 14, "dock"),
]  # fmt: skip
#: trips as instants, every 50 minutes from the first report on (reports land exactly at some of them: inclusive)
PROBES = [DAY0.replace(tzinfo=CHICAGO).astimezone(UTC) + timedelta(minutes=50 * i) for i in range(22)]
STATUS_COLUMNS = ("bikes_available", "docks_free", "occupancy", "station_kind")


def _offline() -> pa.Table:
    return pa.table({
        "station_id": [r[0] for r in OFFLINE],
        "observed_at": pa.array([r[1] for r in OFFLINE], pa.timestamp("us")),
        "bikes_available": pa.array([r[2] for r in OFFLINE], pa.int64()),
        "docks_free": pa.array([r[3] for r in OFFLINE], pa.int64()),
        "occupancy": pa.array([r[2] / (r[2] + r[3]) for r in OFFLINE], pa.float64()),
        "station_kind": [r[4] for r in OFFLINE],
    })  # fmt: skip


def _bulk_load_as_of(store: SqliteOnlineStore, as_of: datetime) -> None:
    """What build-features loads: each station's newest report known at ``as_of`` (its wall clock read in Chicago)."""
    newest: dict[str, tuple] = {}
    for row in OFFLINE:
        if row[1].replace(tzinfo=CHICAGO) <= as_of and (row[0] not in newest or row[1] > newest[row[0]][1]):
            newest[row[0]] = row
    values = [(r, {"bikes_available": r[2], "docks_free": r[3], "occupancy": r[2] / (r[2] + r[3]),
                   "station_kind": r[4]}) for r in newest.values()]  # fmt: skip
    store.load_version(STATUS.name, [OnlineRow(r[0], r[1], v) for r, v in values])


def _trip(index: int, station: str) -> dict[str, object]:
    return {"bike_type": "electric" if index % 3 else "classic", "rider": "casual" if index % 2 else "member",
            "region": "north", "district": f"n{1 + index % 4}"}  # fmt: skip


@pytest.mark.parametrize("station", ["st-1", "st-2", "st-3"])
def test_served_features_equal_the_training_join_on_a_local_clock(station: str, tmp_path: Path) -> None:
    spine = pa.table({
        "trip_id": [f"t-{i}" for i in range(len(PROBES))],
        "station_id": [station] * len(PROBES),
        "started_at": pa.array(PROBES, pa.timestamp("us", tz="UTC")),  # landed with --time started_at=America/Chicago
        **{key: [_trip(i, station)[key] for i in range(len(PROBES))] for key in ("bike_type", "rider", "region",
                                                                                  "district")},
        "duration_minutes": [12.0] * len(PROBES),
    })  # fmt: skip
    training = build_training_set(spine, [GroupRows(STATUS, _offline())], TRIPS).to_pylist()
    store, engine = SqliteOnlineStore(tmp_path / "online.db"), RecordingInferenceEngine()
    predictor = ModelPredictor(TRIPS, store, engine)

    for index, started_at in enumerate(PROBES):
        _bulk_load_as_of(store, started_at)
        local = started_at.astimezone(CHICAGO).replace(tzinfo=None).isoformat()  # the caller's wall clock, no offset
        request = OnlinePredictRequest([{"station_id": station, "started_at": local, **_trip(index, station)}])
        age = predictor.predict(request).features_age_seconds[0]
        assert age is None or 0 <= age <= STATUS.ttl.total_seconds(), (local, age)  # real seconds, not wall-clock
        served = dict(engine.instances[-1])
        assert (served.pop("region"), served.pop("district")) == ("north", _trip(index, station)["district"])
        assert (served.pop("station_id"), served.pop(NOMINAL_TIME_KEY)) == (station, started_at.isoformat())
        assert served == {column: training[index][column] for column in TRIPS.feature_set.columns}, local
    kinds = {row["station_status__station_kind"] for row in training}
    # the probes cover fresh rows, expired rows (st-2 between its reports and after) and none at all
    assert kinds == {"st-1": {"hub"}, "st-2": {"dock", None}, "st-3": {None}}[station]
    hours = {row["trip__hour_of_day"] for row in training}
    assert 2 not in hours and {1, 3} <= hours  # hours of Chicago's clock: 02:xx does not exist that night
