"""A declared model's spine: a lake table, or one read-only query over lake tables (file access refused)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from data_processing.errors import InvalidJoin
from data_processing.jobs.spine import prepare_spine, read_spine
from strata_kernel.contracts.model_spec import ModelSpec, Spine
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


def _lake(tmp_path: Path) -> list:  # type: ignore[type-arg]
    lake, _ = fake_lake(tmp_path / "lake")
    lake.write_arrow("raw.trips", TRIPS, partition_column="nominal_date", job="seed", inputs=[])
    lake.write_arrow("raw.stations", STATIONS, partition_column="nominal_date", job="seed", inputs=[])
    return [lake.table("raw.trips"), lake.table("raw.stations")]


def _spec(spine: dict) -> ModelSpec:  # type: ignore[type-arg]
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


def test_a_burn_in_that_leaves_nothing_says_so(tmp_path: Path) -> None:
    """ETD's spine skips the data's first 7 days (a burn-in): on a shorter history the training set would be empty,
    which is said plainly instead of failing later as a commit without files."""
    infos = _lake(tmp_path)
    burn_in = "SELECT * FROM raw.trips WHERE started_at >= (SELECT min(started_at) FROM raw.trips) + INTERVAL 7 DAY"
    spec = _spec({"query": burn_in, "id": "trip_id", "time": "started_at", "time_zone": "UTC"})
    with pytest.raises(InvalidJoin, match=r"the spine is empty: its query selected no rows") as refused:
        read_spine(spec.spine, infos[:1])
    assert refused.value.field == "spine"
    nine_hours = _spec({**{"query": burn_in.replace("7 DAY", "9 HOUR")}, "id": "trip_id", "time": "started_at",
                        "time_zone": "UTC"})  # fmt: skip
    assert read_spine(nine_hours.spine, infos[:1]).column("trip_id").to_pylist() == ["t-3"]
