"""`training-set etd` (the real command, against a real data_lake catalog served in-process) logs its reads and
warns about deprecated features; `register-groups` and `deprecate-feature` fail with one line on bad input."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner
from werkzeug.serving import make_server

from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.entrypoints.cli import app
from data_processing.settings import Settings
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import service_credential_for

COUNT = "@restaurant_stats:order_count_7d"


def _orders() -> pa.Table:
    # o-0 opens the history 9 days earlier: ETD's burn-in week (never trained on)
    placed = [datetime(2025, 1, 1, 12), datetime(2025, 1, 10, 12), datetime(2025, 1, 10, 19)]
    delivered = [datetime(2025, 1, 1, 12, 30), datetime(2025, 1, 10, 12, 40), datetime(2025, 1, 10, 19, 30)]
    return pa.table({
        "order_id": ["o-0", "o-1", "o-2"], "restaurant_id": ["r-1", "r-1", "r-2"], "city_id": ["c-1"] * 3,
        "country_code": ["ES"] * 3, "placed_at": pa.array(placed, pa.timestamp("us")),
        "delivered_at": pa.array(delivered, pa.timestamp("us")),
        "n_items": [1, 2, 1], "subtotal": [12.0, 20.0, 9.5], "prep_minutes": [9.0, 12.0, 8.0],
        "delivery_minutes": [30.0, 40.0, 30.0], "nominal_date": ["2025-01-01", "2025-01-10", "2025-01-10"],
    })  # fmt: skip


def _features() -> pa.Table:
    day = datetime(2025, 1, 10)
    return pa.table({
        "restaurant_id": ["r-1"], "feature_time": pa.array([day], pa.timestamp("us")),
        "created_at": pa.array([day], pa.timestamp("us")), "order_count_7d": pa.array([4], pa.int64()),
        "avg_prep_minutes_7d": [11.0], "avg_delivery_minutes_7d": [35.0], "nominal_date": ["2025-01-10"],
    })  # fmt: skip


@pytest.fixture
def lake_service(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A data_lake catalog service on a free port, with processed.orders and features.restaurant_stats."""
    var = tmp_path / "var"
    lake_settings = LakeSettings(var_dir=var, log_json=False)
    server = make_server("127.0.0.1", 0, create_lake_app(lake_settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    credential = service_credential_for(lake_settings, "data_processing")
    lake = LakeClient(var / "lake", ServiceClient("data_lake", url, credential=credential))
    for table, data in (("processed.orders", _orders()), ("features.restaurant_stats", _features())):
        lake.write_arrow(table, data, partition_column="nominal_date", job="test", inputs=[], mode="overwrite")
    try:
        yield var, url
    finally:
        server.shutdown()


@pytest.fixture
def var_dir(lake_service: tuple[Path, str]) -> Path:
    return lake_service[0]


@pytest.fixture
def runner(lake_service: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STRATA_VAR_DIR", str(lake_service[0]))
    monkeypatch.setenv("STRATA_DATA_LAKE_URL", lake_service[1])
    monkeypatch.setenv("STRATA_LOG_JSON", "false")
    monkeypatch.setenv("STRATA_PIT_ENGINE", "local")
    return CliRunner()


def test_training_set_runs_are_logged_as_usage_and_warned_about_deprecations(runner: CliRunner, var_dir: Path) -> None:
    assert runner.invoke(app, ["register-groups"]).exit_code == 0
    first = runner.invoke(app, ["training-set", "etd"])
    deprecated = runner.invoke(app, ["deprecate-feature", COUNT, "--reason", "use orders_last_1h"])
    second = runner.invoke(app, ["training-set", "etd"])

    assert first.exit_code == 0, first.output
    assert "warnings" not in json.loads(first.stdout)
    assert json.loads(deprecated.stdout)["warned"] == ["job:training-set etd"]
    assert json.loads(second.stdout)["warnings"] == [
        f"feature {COUNT} is deprecated (used by job:training-set etd): use orders_last_1h"]  # fmt: skip
    directory = SqlFeatureDirectory(Settings(var_dir=var_dir).resolved_directory_url())
    assert [(u.consumer, u.count) for u in directory.usage("restaurant_stats", "order_count_7d")] == [
        ("job:training-set etd", 2)]  # fmt: skip


def test_register_groups_refuses_with_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.data_processing.directory.groups import copy_group, edit_yaml

    path = copy_group(tmp_path / "groups")
    edit_yaml(path, entity="courier_id")
    monkeypatch.setenv("STRATA_FEATURE_GROUPS_DIR", str(path.parent))

    result = runner.invoke(app, ["register-groups"])

    assert result.exit_code == 2
    assert result.stderr.startswith("error: restaurant_stats.yaml: unknown entity 'courier_id'")
    assert len(result.stderr.strip().splitlines()) == 1
