"""`python -m data_processing join`: a spine file in local time joined against a feature group's offline table,
through a real data_lake catalog on a free port; the answer is the brute-force rule's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from data_processing.entrypoints.cli import app
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.data_processing.pit.cases import reference_join
from tests.support import serve, shared_credential

DAYS = [datetime(2025, 3, 28) + timedelta(days=d) for d in range(4)]  # restaurant_stats: UTC wall clock (declared)
STATS = [(f"r-{r}", day, 10 * r + i) for r in (1, 2) for i, day in enumerate(DAYS)]
SPINE = """order_id,restaurant_id,placed_at
o-1,r-1,2025-03-29 00:30:00
o-2,r-1,2025-03-30 12:00:00
o-3,r-2,2025-03-31 01:30:00
o-4,r-9,2025-03-30 12:00:00
o-5,r-2,2025-03-28 00:30:00
"""


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    var = tmp_path / "var"
    server, url = serve(create_lake_app(LakeSettings(var_dir=var, log_json=False)))
    lake = LakeClient(var / "lake", ServiceClient("data_lake", url, credential=shared_credential("data_processing")))
    stats = pa.table({
        "restaurant_id": [s[0] for s in STATS],
        "feature_time": pa.array([s[1] for s in STATS], pa.timestamp("us")),
        "created_at": pa.array([datetime(2025, 4, 2)] * len(STATS), pa.timestamp("us")),
        "order_count_7d": pa.array([s[2] for s in STATS], pa.int64()),
        "avg_prep_minutes_7d": [12.0] * len(STATS),
        "avg_delivery_minutes_7d": [31.0] * len(STATS),
        "nominal_date": [s[1].date().isoformat() for s in STATS],
    })  # fmt: skip
    lake.write_arrow("features.restaurant_stats", stats, partition_column="nominal_date", job="seed", inputs=[])
    monkeypatch.setenv("STRATA_VAR_DIR", str(var))
    monkeypatch.setenv("STRATA_DATA_LAKE_URL", url)
    monkeypatch.setenv("STRATA_LOG_JSON", "false")
    try:
        yield CliRunner()
    finally:
        server.shutdown()


def test_a_local_time_spine_file_gets_the_features_known_at_each_rows_instant(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "orders.csv").write_text(SPINE)
    out = tmp_path / "joined.parquet"
    done = runner.invoke(app, ["join", str(tmp_path / "orders.csv"), "--time", "placed_at=Europe/Madrid",
                               "--feature", "@restaurant_stats", "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.stderr
    summary = json.loads(done.stdout)
    joined = pq.read_table(out).to_pylist()
    assert [r["order_id"] for r in joined] == ["o-1", "o-2", "o-3", "o-4", "o-5"]  # every row, in order

    madrid = ZoneInfo("Europe/Madrid")
    orders = [(line.split(",")[0], line.split(",")[1], datetime.fromisoformat(line.split(",")[2]).replace(
        tzinfo=madrid).astimezone(UTC).replace(tzinfo=None)) for line in SPINE.splitlines()[1:]]  # fmt: skip
    rows = [(e, t, t, v) for e, t, v in STATS]
    expected = reference_join(orders, rows, timedelta(days=2), honour_created_at=False)
    assert {r["order_id"]: r["restaurant_stats__order_count_7d"] for r in joined} == expected
    # 00:30 in Madrid on the 29th is still the 28th in UTC: the local time matters
    assert expected["o-1"] == 10 and expected["o-5"] is None
    assert summary["matched"] == {"restaurant_stats": 3} and summary["rows"] == 5
    assert summary["read"] == ["features.restaurant_stats@v1"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--time", "placed_at", "--feature", "@restaurant_stats"], 2, "holds timestamps without a time zone"),
        (["--time", "placed_at=UTC", "--feature", "@restaurant_stats:nope"], 2, "has no feature 'nope'"),
        (["--time", "ordered_at=UTC", "--feature", "@restaurant_stats"], 2, "has no column 'ordered_at'"),
        (["--time", "placed_at=UTC", "--feature", "@weather"], 1, "unknown feature group 'weather'"),
    ],
)
def test_bad_input_is_one_line(runner: CliRunner, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "orders.csv").write_text(SPINE)
    failed = runner.invoke(app, ["join", str(tmp_path / "orders.csv"), *args, "--out", str(tmp_path / "x.parquet")])
    assert failed.exit_code == code, failed.output
    assert message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.parquet").exists()
