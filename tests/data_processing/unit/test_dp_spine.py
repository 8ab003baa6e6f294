"""A declared model's spine: a lake table, or one read-only query over lake tables (file access refused)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from data_processing.errors import InvalidJoin
from data_processing.jobs.spine import prepare_spine, read_spine
from strata_kernel.contracts.model_spec import InvalidModelSpec, ModelSpec, Spine
from strata_kernel.contracts.time_zones import NaiveTimeColumn
from tests.data_processing.fakes import fake_lake

TRIPS = pa.table(
    {
        "trip_id": ["t-1", "t-2", "t-3"],
        "station_id": ["s-1", "s-2", "s-1"],
        "started_at": pa.array(
            [datetime(2025, 3, 8, 23), datetime(2025, 3, 9, 1), datetime(2025, 3, 9, 9)], pa.timestamp("us")
        ),
        "minutes": [12.0, 30.5, 8.25],
        "nominal_date": ["2025-03-08", "2025-03-09", "2025-03-09"],
    }
)
STATIONS = pa.table({"station_id": ["s-1", "s-2"], "region": ["north", "south"], "nominal_date": ["x", "x"]})


def _lake(tmp_path: Path) -> list:
    lake, _ = fake_lake(tmp_path / "lake")
    lake.write_arrow("raw.trips", TRIPS, partition_column="nominal_date", job="seed", inputs=[])
    lake.write_arrow("raw.stations", STATIONS, partition_column="nominal_date", job="seed", inputs=[])
    return [lake.table("raw.trips"), lake.table("raw.stations")]


def _spec(spine: dict) -> ModelSpec:
    return ModelSpec.from_mapping({"name": "trips", "spine": spine, "entities": ["station_id"], "label": "minutes",
                                   "features": ["@context:hour_of_day"], "algorithm": "xgboost_regressor",
                                   "metric": "mae"}, "trips.yaml")  # fmt: skip


def test_a_query_spine_joins_lake_tables_and_its_time_becomes_instants(tmp_path: Path) -> None:
    infos = _lake(tmp_path)
    spec = _spec({"query": "SELECT t.*, s.region FROM raw.trips t JOIN raw.stations s USING (station_id) "
                           "WHERE t.minutes > 10", "id": "trip_id", "time": "started_at",
                  "time_zone": "America/Chicago"})  # fmt: skip
    spine = prepare_spine(read_spine(spec.spine, infos), spec)
    rows = sorted(spine.select(["trip_id", "region", "started_at"]).to_pylist(), key=lambda r: r["trip_id"])
    assert [(r["trip_id"], r["region"]) for r in rows] == [("t-1", "north"), ("t-2", "south")]
    assert spine.schema.field("started_at").type == pa.timestamp("us", tz="America/Chicago")
    assert rows[0]["started_at"].isoformat() == "2025-03-08T23:00:00-06:00"


def test_a_query_cannot_read_files_and_a_naive_time_needs_its_zone(tmp_path: Path) -> None:
    infos = _lake(tmp_path)
    (tmp_path / "secret.csv").write_text("a\n1\n")
    sneaky = Spine(None, f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')", "trip_id", "started_at", None)
    with pytest.raises(InvalidJoin, match="spine query failed"):
        read_spine(sneaky, infos)
    undeclared = _spec({"table": "raw.trips", "id": "trip_id", "time": "started_at"})
    with pytest.raises(NaiveTimeColumn, match=r"trips\.yaml: spine\.started_at holds timestamps without a time zone"):
        prepare_spine(read_spine(undeclared.spine, infos[:1]), undeclared)
    missing = _spec({"table": "raw.trips", "id": "trip_id", "time": "started_at", "time_zone": "UTC"})
    with pytest.raises(InvalidJoin, match=r"has no column\(s\) station_id"):
        prepare_spine(read_spine(missing.spine, infos[:1]).drop_columns(["station_id"]), missing)


def test_a_declared_burn_in_leaves_out_the_spines_first_days_and_an_empty_result_says_so(tmp_path: Path) -> None:
    """``spine.burn_in`` drops the rows of the first N days from the earliest nominal time, for a table or a query
    alike (windowed features are still filling there); a burn-in that leaves nothing is said in one line."""
    infos = _lake(tmp_path)
    table = _spec({"table": "raw.trips", "id": "trip_id", "time": "started_at", "time_zone": "UTC", "burn_in": "0d"})
    assert read_spine(table.spine, infos[:1]).num_rows == 3
    with pytest.raises(
        InvalidJoin,
        match=r"the spine is empty: raw\.trips holds no rows after its burn-in \(the "
        r"first 7 days\)",
    ) as refused:
        read_spine(_spec({**{"table": "raw.trips", "id": "trip_id", "time": "started_at"}, "burn_in": "7d"}).spine,
                   infos[:1])  # fmt: skip
    assert refused.value.field == "spine"
    # the trips span 10 hours: a 1-day burn-in leaves none; the same from a query, which filters first
    query = _spec({"query": "SELECT * FROM raw.trips WHERE minutes < 20", "id": "trip_id", "time": "started_at",
                   "burn_in": "1d"})  # fmt: skip
    with pytest.raises(InvalidJoin, match=r"its query selected no rows after its burn-in \(the first 1 day\)"):
        read_spine(query.spine, infos[:1])


def test_a_burn_in_counts_from_the_earliest_nominal_time(tmp_path: Path) -> None:
    lake, _ = fake_lake(tmp_path / "lake")
    days = pa.table({"trip_id": [f"t-{d}" for d in range(1, 11)], "station_id": ["s-1"] * 10,
                     "started_at": pa.array([datetime(2025, 3, d, 12) for d in range(1, 11)], pa.timestamp("us")),
                     "minutes": [10.0] * 10, "nominal_date": [f"2025-03-{d:02}" for d in range(1, 11)]})  # fmt: skip
    lake.write_arrow("raw.trips", days, partition_column="nominal_date", job="seed", inputs=[])
    spec = _spec({"table": "raw.trips", "id": "trip_id", "time": "started_at", "time_zone": "UTC", "burn_in": "7d"})
    assert spec.spine.burn_in_days == 7
    kept = prepare_spine(read_spine(spec.spine, [lake.table("raw.trips")]), spec)
    assert sorted(kept.column("trip_id").to_pylist()) == ["t-10", "t-8", "t-9"]


@pytest.mark.parametrize("value", ["7", "-1d", "1w", "1.5d"])
def test_a_burn_in_must_be_whole_days(value: str) -> None:
    with pytest.raises(InvalidModelSpec, match=r"trips\.yaml.*spine\.burn_in.*whole days"):
        _spec({"table": "raw.trips", "id": "trip_id", "time": "started_at", "burn_in": value})
