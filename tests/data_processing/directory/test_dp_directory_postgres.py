"""The SQL directory on a real PostgreSQL, in a fresh schema dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.directory.services import (
    deprecate_feature,
    describe_group,
    list_groups,
    record_reads,
    register_all,
)
from data_processing.domain.registry_rules import DEPRECATED
from data_processing.freshness import GroupFreshness
from tests.data_processing.directory.groups import NOW, PACKAGED
from tests.support import postgres_schema_url

pytestmark = pytest.mark.integration


@pytest.fixture
def directory() -> Iterator[SqlFeatureDirectory]:
    with postgres_schema_url("fd_test") as url:
        store = SqlFeatureDirectory(url)
        try:
            yield store
        finally:
            store.close()


def test_registration_availability_usage_and_deprecation_round_trip(directory: SqlFeatureDirectory) -> None:
    register_all(directory, PACKAGED, now=NOW)
    assert not any(plan.changed for plan in register_all(directory, PACKAGED, now=NOW))
    directory.record_availability("restaurant_stats", NOW - timedelta(hours=2), NOW)
    directory.record_availability("restaurant_stats", NOW - timedelta(days=9), NOW)  # never moves backwards
    expressions = ["@restaurant_stats:order_count_7d"]
    record_reads(directory, "model:etd", expressions, 40, NOW)
    record_reads(directory, "model:etd", expressions, 2, NOW + timedelta(minutes=1))
    record_reads(directory, "job:training-set etd", expressions, 1, NOW - timedelta(days=1))
    deprecate_feature(directory, "@restaurant_stats:order_count_7d", "superseded", now=NOW)

    group = describe_group(directory, "restaurant_stats", GroupFreshness(None, clock=lambda: NOW).of)
    feature = group["features"][0]

    assert (group["freshness"]["status"], group["freshness"]["age_seconds"]) == ("fresh", 7200.0)
    assert (feature["status"], feature["deprecation_reason"]) == (DEPRECATED, "superseded")
    assert [(u["consumer"], u["count"], u["last_used"]) for u in feature["users"]] == [
        ("model:etd", 42, (NOW + timedelta(minutes=1)).isoformat()),
        ("job:training-set etd", 1, (NOW - timedelta(days=1)).isoformat()),
    ]
    assert [g["name"] for g in list_groups(directory, "7D", GroupFreshness(None).of)] == ["restaurant_stats"]
    assert [g["name"] for g in list_groups(directory, "_", GroupFreshness(None).of)] == [
        "restaurant_realtime", "restaurant_stats"]  # fmt: skip
