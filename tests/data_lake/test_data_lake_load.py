"""`python -m data_lake load FILE --table raw.NAME`: a user's CSV or Parquet file lands as a raw table version,
time columns as instants in microseconds; bad input exits 2 with one line and leaves nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from data_lake.entrypoints.cli import app as cli
from data_lake.settings import Settings

CSV = """station_id,observed_at,kind,temperature,zip
s-001,2025-03-29 23:30:00,urban,11.5,0042
s-002,2025-03-30 00:10:00,rural,9.0,0107
s-001,2025-03-30 03:30:00,urban,8.25,0042
"""


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    return CliRunner(env={"STRATA_VAR_DIR": str(settings.var_dir), "STRATA_CONFIG_FILE": None})


def _rows(lake_root: Path, table: str) -> list[dict]:
    zone, name = table.split(".")
    pattern = f"{lake_root}/{zone}/{name}/*/*.parquet"
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning=true) ORDER BY 2")
    assert relation is not None  # None only for a statement that returns no rows, never a SELECT
    return relation.to_arrow_table().to_pylist()


def test_a_csv_with_local_wall_clock_times_lands_as_instants_partitioned_by_local_date(
    runner: CliRunner, tmp_path: Path, lake_root: Path
) -> None:
    (tmp_path / "weather.csv").write_text(CSV)
    done = runner.invoke(cli, ["load", str(tmp_path / "weather.csv"), "--table", "raw.weather",
                               "--time", "observed_at=Europe/Madrid", "--text", "zip"])  # fmt: skip
    assert done.exit_code == 0, done.output
    for shown in ("station_id", "observed_at", "timestamp[us, tz=Europe/Madrid]", "zip", "nominal_date", "string"):
        assert shown in done.stdout  # the inferred schema is shown before loading
    assert "raw.weather v1: 3 rows" in done.stdout

    rows = _rows(lake_root, "raw.weather")
    assert [r["observed_at"].astimezone(UTC) for r in rows] == [
        datetime(2025, 3, 29, 22, 30, tzinfo=UTC),  # CET (+1)
        datetime(2025, 3, 29, 23, 10, tzinfo=UTC),
        datetime(2025, 3, 30, 1, 30, tzinfo=UTC),  # CEST (+2): the clocks moved at 02:00 that night
    ]
    assert [str(r["nominal_date"]) for r in rows] == ["2025-03-29", "2025-03-30", "2025-03-30"]  # local dates
    assert [r["zip"] for r in rows] == ["0042", "0107", "0042"]  # --text kept the leading zeros
    schema = pq.read_schema(next((lake_root / "raw" / "weather").glob("*/*.parquet")))
    assert schema.field("observed_at").type == pa.timestamp("us", tz="Europe/Madrid")


def test_a_pandas_parquet_file_in_nanoseconds_lands_in_microseconds_and_appends(
    runner: CliRunner, tmp_path: Path, lake_root: Path
) -> None:
    started = pd.to_datetime(["2025-01-02 08:00:00.123456789", "2025-01-03 09:00"], format="ISO8601")
    frame = pd.DataFrame({"trip_id": ["t-1", "t-2"], "started_at": started, "fare": [12.5, 7.0]})
    frame.to_parquet(tmp_path / "trips.parquet")
    assert pq.read_schema(tmp_path / "trips.parquet").field("started_at").type == pa.timestamp("ns")
    args = ["load", str(tmp_path / "trips.parquet"), "--table", "raw.trips", "--time", "started_at=UTC", "--json"]
    first, second = runner.invoke(cli, args), runner.invoke(cli, args)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert (json.loads(first.stdout)["version"], json.loads(second.stdout)["rows"]) == (1, 2)
    for file in (lake_root / "raw" / "trips").glob("*/*.parquet"):
        assert pq.read_schema(file).field("started_at").type == pa.timestamp("us", tz="UTC")
    assert len(_rows(lake_root, "raw.trips")) == 4  # appended, not replaced


def test_an_undeclared_naive_time_column_is_refused_and_nothing_is_left(
    runner: CliRunner, tmp_path: Path, lake_root: Path
) -> None:
    (tmp_path / "weather.csv").write_text(CSV)
    refused = runner.invoke(cli, ["load", str(tmp_path / "weather.csv"), "--table", "raw.weather"])
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "error: weather.csv: column 'observed_at' holds times without a zone: declare where its clock hangs with "
        "--time observed_at=<zone> (e.g. Europe/Madrid or UTC)"
    )
    assert not (lake_root / "raw" / "weather").exists() or not list((lake_root / "raw" / "weather").rglob("*.parquet"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "features.weather"], "files land in the raw zone (raw.<name>); features tables are written by"),
        (["--table", "raw.weather", "--time", "observed_at=Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--table", "raw.weather", "--time", "seen_at=UTC"], "weather.csv has no column(s) seen_at"),
        (["--table", "raw.weather", "--time", "observed_at=UTC", "--time", "kind=UTC"], "column 'kind': not ISO-8601"),
        (["--table", "raw.weather", "--time", "observed_at", "--mode", "upsert"], "--mode must be one of"),
    ],
)
def test_bad_input_exits_2_with_one_line(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "weather.csv").write_text(CSV)
    refused = runner.invoke(cli, ["load", str(tmp_path / "weather.csv"), *args])
    assert refused.exit_code == 2, refused.output
    assert message in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_a_declared_time_without_zone_needs_offsets_in_the_values(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "weather.csv").write_text(CSV)
    refused = runner.invoke(cli, ["load", str(tmp_path / "weather.csv"), "--table", "raw.weather",
                                  "--time", "observed_at"])  # fmt: skip
    assert refused.exit_code == 2
    assert "holds timestamps without a time zone" in refused.stderr
    (tmp_path / "utc.csv").write_text("id,at\na,2025-01-01T10:00:00Z\nb,2025-01-01T12:00:00+02:00\n")
    done = runner.invoke(cli, ["load", str(tmp_path / "utc.csv"), "--table", "raw.events", "--time", "at", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rows"] == 2


def test_dry_run_shows_the_schema_and_writes_nothing(runner: CliRunner, tmp_path: Path, lake_root: Path) -> None:
    (tmp_path / "weather.csv").write_text(CSV)
    shown = runner.invoke(cli, ["load", str(tmp_path / "weather.csv"), "--table", "raw.weather",
                                "--time", "observed_at=Europe/Madrid", "--dry-run"])  # fmt: skip
    assert shown.exit_code == 0 and "temperature" in shown.stdout and "double" in shown.stdout
    assert not (lake_root / "raw" / "weather").exists()
