"""Freshness of a group on a local clock: its feature times are that zone's wall clock, so is the now it is aged
against (a Chicago group was aged on UTC's clock: 5-6 hours younger than it was, its SLO alert that much late)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from data_processing.adapters.online_sqlite import SqliteOnlineStore
from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.directory.services import describe_group, register_all
from data_processing.domain.online import OnlineRow
from data_processing.freshness import GroupFreshness
from data_processing.registry import FeatureGroupRegistry

DECLARED = Path(__file__).parents[2] / "acceptance" / "declared" / "feature_groups"  # station_status: Chicago
NOW = datetime(2025, 7, 1, 15, 0, tzinfo=UTC)  # 10:00 in Chicago (CDT, UTC-5)


def test_a_group_on_chicagos_clock_is_aged_on_chicagos_clock(directory: SqlFeatureDirectory, tmp_path: Path) -> None:
    register_all(directory, DECLARED, now=NOW.replace(tzinfo=None))
    store = SqliteOnlineStore(tmp_path / "online.db")
    registry = FeatureGroupRegistry.load(DECLARED)
    fresh = GroupFreshness(store, clock=lambda: NOW, zone_of=registry.declared_zone)

    store.load_version("station_status", [OnlineRow("st-1", datetime(2025, 7, 1, 9, 30), {"bikes_available": 3})])
    status = describe_group(directory, "station_status", fresh.of)["freshness"]
    assert (status["age_seconds"], status["status"]) == (1800, "fresh")  # 09:30 -> 10:00 on the station's clock
    assert fresh.age_seconds("station_status") == 1800

    store.load_version("station_status", [OnlineRow("st-1", datetime(2025, 7, 1, 7, 30), {"bikes_available": 3})])
    status = describe_group(directory, "station_status", fresh.of)["freshness"]
    assert (status["age_seconds"], status["status"]) == (9000, "stale")  # SLO 2 h: on UTC's clock it read -2.5 h

    # a group without a declared zone keeps the process's local clock, as before
    undeclared = GroupFreshness(store, clock=lambda: NOW, zone_of=lambda group: None)
    local_now = NOW.astimezone().replace(tzinfo=None)
    assert undeclared.age_seconds("station_status") == (local_now - datetime(2025, 7, 1, 7, 30)) / timedelta(seconds=1)
