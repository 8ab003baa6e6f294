"""The directory's REST API through the Flask test client, and serving reads counted as usage."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from data_processing.adapters.sql_directory import SqlFeatureDirectory
from data_processing.directory.services import deprecate_feature
from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.entrypoints.app import create_app
from data_processing.settings import Settings
from strata_kernel.contracts.auth import OPERATOR
from tests.data_processing.directory.groups import NOW, copy_group, edit_code
from tests.data_processing.fakes import InMemoryOnlineStore, RecordingInferenceEngine
from tests.support import as_caller, serve

ORDER: dict[str, Any] = {"restaurant_id": "r-1", "city_id": "c-1", "country_code": "ES",
                         "placed_at": "2025-01-10T19:30:00", "n_items": 2, "subtotal": 18.0}  # fmt: skip
COUNT = "@restaurant_stats:order_count_7d"


@pytest.fixture
def groups_dir(tmp_path: Path) -> Path:
    copy_group(tmp_path / "groups", "restaurant_realtime")
    return copy_group(tmp_path / "groups").parent


@pytest.fixture
def app_settings(tmp_path: Path, groups_dir: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", feature_groups_dir=groups_dir, usage_flush_seconds=3600, log_json=False)


@pytest.fixture
def app(app_settings: Settings) -> Any:
    store = InMemoryOnlineStore()
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime(2025, 1, 10), values)])
    return create_app(app_settings, online_store=store, inference_engine=RecordingInferenceEngine())


@pytest.fixture
def client(app: Any, app_settings: Settings) -> FlaskClient:
    client = as_caller(app.test_client(), app_settings, OPERATOR)  # registering groups is an operator's call
    for name in ("restaurant_stats", "restaurant_realtime"):
        assert client.post("/v1/feature-groups", json={"path": f"{name}.yaml"}).status_code == 201
    return client


def test_registering_again_is_a_200_that_changes_nothing(client: FlaskClient) -> None:
    response = client.post("/v1/feature-groups", json={"path": "restaurant_stats.yaml"})

    assert response.status_code == 200
    unchanged = ["order_count_7d", "avg_prep_minutes_7d", "avg_delivery_minutes_7d"]
    assert response.get_json() == {"group": "restaurant_stats", "registered": [], "unchanged": unchanged}


def test_list_and_search_groups(client: FlaskClient) -> None:
    listed = client.get("/v1/feature-groups").get_json()["feature_groups"]
    by_feature = client.get("/v1/feature-groups?q=PREP_minutes").get_json()["feature_groups"]
    by_owner = client.get("/v1/feature-groups", query_string={"q": "etd-team"}).get_json()["feature_groups"]
    nothing = client.get("/v1/feature-groups?q=100%").get_json()["feature_groups"]

    assert [(g["name"], g["n_features"], g["freshness"]["status"]) for g in listed] == [
        ("restaurant_realtime", 2, "unknown"), ("restaurant_stats", 3, "stale")]  # fmt: skip  # served online: 2025
    assert [g["name"] for g in by_feature] == ["restaurant_stats"]
    assert len(by_owner) == 2 and nothing == []


def test_a_group_shows_schema_freshness_against_its_slo_and_users(
    client: FlaskClient, app: Any, app_settings: Settings
) -> None:
    store = app.extensions["data_processing.deps"].online_store
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime.now() - timedelta(hours=30), values)])
    # the stream worker's upsert: nothing of restaurant_realtime was ever committed to the lake by a batch job
    store.put_rows("restaurant_realtime", [OnlineRow("r-1", datetime.now() - timedelta(minutes=1), {"n": 1})])
    client.post("/v1/etd/estimate", json=ORDER)
    app.extensions["strata.feature_usage"].flush()

    stats = client.get("/v1/feature-groups/restaurant_stats").get_json()
    realtime = client.get("/v1/feature-groups/restaurant_realtime").get_json()

    assert (stats["freshness"]["status"], stats["freshness"]["slo_seconds"]) == ("stale", 26 * 3600)
    assert stats["freshness"]["age_seconds"] == pytest.approx(30 * 3600, abs=60)
    assert realtime["freshness"]["status"] == "fresh"
    first = stats["features"][0]
    assert (first["expression"], first["type"], first["status"]) == (COUNT, "int64", "active")
    assert stats["users"] == ["model:etd"] and realtime["users"] == []
    assert [u["consumer"] for u in stats["features"][0]["users"]] == ["model:etd"]


def test_freshness_is_the_same_on_the_api_and_in_the_metric_streaming_groups_included(
    client: FlaskClient, app: Any, app_settings: Settings
) -> None:
    """One definition: the newest feature_time a request can be served, whichever job wrote it."""
    store = app.extensions["data_processing.deps"].online_store
    store.put_rows("restaurant_realtime", [OnlineRow("r-1", datetime.now() - timedelta(minutes=5), {"n": 1})])
    SqlFeatureDirectory(app_settings.resolved_directory_url()).record_availability(
        "restaurant_stats", datetime.now() - timedelta(hours=2), NOW
    )  # offline availability does not override what is served online (2025-01-10)

    groups = {g["name"]: g["freshness"] for g in client.get("/v1/feature-groups").get_json()["feature_groups"]}
    metrics = client.get("/metrics").get_data(as_text=True)
    ages = {
        line.split('group="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("strata_data_processing_feature_age_seconds{")
    }

    assert set(ages) == {"restaurant_realtime", "restaurant_stats"}
    assert groups["restaurant_realtime"]["age_seconds"] == pytest.approx(300, abs=30)
    for name, fresh in groups.items():
        assert ages[name] == pytest.approx(fresh["age_seconds"], abs=5), name
    assert groups["restaurant_stats"]["newest_nominal_time"].startswith("2025-01-10")


def test_serving_reads_are_counted_in_memory_and_flushed(client: FlaskClient, app: Any) -> None:
    for _ in range(3):
        assert client.post("/v1/etd/estimate", json=ORDER).status_code == 200
    before = client.get(f"/v1/features/{COUNT}").get_json()["users"]

    flushed = app.extensions["strata.feature_usage"].flush()
    after = client.get(f"/v1/features/{COUNT}").get_json()["users"]

    assert before == [] and flushed == 3
    assert [(u["consumer"], u["count"]) for u in after] == [("model:etd", 3)]


def test_a_deprecated_feature_warns_every_later_estimate(client: FlaskClient, app: Any, app_settings: Settings) -> None:
    assert "Warning" not in client.post("/v1/etd/estimate", json=ORDER).headers
    app.extensions["strata.feature_usage"].flush()
    directory = SqlFeatureDirectory(app_settings.resolved_directory_url())
    warned = deprecate_feature(directory, COUNT, "use @restaurant_realtime:orders_last_1h", now=NOW)["warned"]
    app.extensions["strata.feature_usage"].flush()  # the periodic flush refreshes the warnings

    response = client.post("/v1/etd/estimate", json=ORDER)
    app.extensions["strata.feature_usage"].flush()

    assert warned == ["model:etd"]
    assert response.status_code == 200
    assert response.headers.getlist("Warning") == [
        '299 data_processing "feature @restaurant_stats:order_count_7d is deprecated (used by model:etd): '
        'use @restaurant_realtime:orders_last_1h"'
    ]
    assert client.get(f"/v1/features/{COUNT}").get_json()["status"] == "deprecated"


def test_register_from_a_body_and_refusals(client: FlaskClient, groups_dir: Path) -> None:
    yaml_text = (groups_dir / "restaurant_stats.yaml").read_text()
    code = groups_dir / "restaurant_stats.py"
    edit_code(code, 'F.avg("prep_minutes")', 'F.max("prep_minutes")')

    changed = client.post("/v1/feature-groups", json={"yaml": yaml_text, "code": code.read_text()})
    unknown_entity = client.post("/v1/feature-groups", json={"yaml": yaml_text.replace("entity: restaurant_id",
                                 "entity: courier_id").replace("name: restaurant_stats", "name: couriers"),
                                 "code": code.read_text()})  # fmt: skip
    no_code = client.post("/v1/feature-groups", json={"yaml": yaml_text})
    neither = client.post("/v1/feature-groups", json={})
    outside = client.post("/v1/feature-groups", json={"path": "../../etc/passwd.yaml"})

    assert changed.status_code == 409
    assert "@restaurant_stats:avg_prep_minutes_7d" in changed.get_json()["error"]["message"]
    assert (unknown_entity.status_code, unknown_entity.get_json()["error"]["field"]) == (400, "entity")
    assert (no_code.status_code, no_code.get_json()["error"]["field"]) == (400, "code")
    assert (neither.status_code, outside.status_code) == (400, 400)
    assert [g["name"] for g in client.get("/v1/feature-groups").get_json()["feature_groups"]] == [
        "restaurant_realtime", "restaurant_stats"]  # fmt: skip


def test_a_yaml_alias_bomb_or_hostile_code_is_refused_at_once_and_only_by_the_operator(
    client: FlaskClient, groups_dir: Path, app: Any
) -> None:
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
        f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)
    ]
    yaml_text = (groups_dir / "restaurant_stats.yaml").read_text()
    bomb = "\n".join(levels) + "\n" + yaml_text.replace("description: >", "description: *a8\nx: >")
    code = (groups_dir / "restaurant_stats.py").read_text()

    started = time.perf_counter()
    refused = client.post("/v1/feature-groups", json={"yaml": bomb, "code": code})
    assert time.perf_counter() - started < 2.0  # before: 4 s (8 levels) to 14 s (9) of CPU in the quoting process
    assert refused.status_code == 400 and "YAML aliases are not accepted" in refused.get_json()["error"]["message"]
    deep = client.post("/v1/feature-groups", json={"yaml": yaml_text, "code": "x = " + "(" * 5000 + ")" * 5000})
    assert deep.status_code == 400 and deep.get_json()["error"]["field"] == "code"
    huge = client.post("/v1/feature-groups", json={"yaml": yaml_text, "code": "#" * 600_000})
    assert huge.status_code == 413
    anonymous = app.test_client().post("/v1/feature-groups", json={"yaml": yaml_text, "code": code})
    assert anonymous.status_code == 401


def test_unknown_and_malformed_names(client: FlaskClient) -> None:
    assert client.get("/v1/feature-groups/nope").status_code == 404
    assert client.get("/v1/features/@restaurant_stats:nope").get_json()["error"]["code"] == "unknown_feature"
    bad = client.get("/v1/features/restaurant_stats.nope")
    assert (bad.status_code, bad.get_json()["error"]["field"]) == (400, "feature")


def test_a_group_says_the_zone_of_its_times_and_the_skew_monitor_reads_it(groups_dir: Path,
                                                                          app_settings: Settings) -> None:  # fmt: skip
    """Readers of a group's offline table (the skew monitor's point-in-time read) need the wall clock of its times."""
    from monitoring.adapters.offline_http import HttpFeatureGroups
    from tests.data_processing.directory.groups import edit_yaml

    edit_yaml(groups_dir / "restaurant_stats.yaml", time_zone="America/Chicago")
    app = create_app(app_settings, online_store=InMemoryOnlineStore(), inference_engine=RecordingInferenceEngine())
    client = as_caller(app.test_client(), app_settings, OPERATOR)
    for name in ("restaurant_stats", "restaurant_realtime"):
        assert client.post("/v1/feature-groups", json={"path": f"{name}.yaml"}).status_code == 201
    assert client.get("/v1/feature-groups/restaurant_stats").get_json()["time_zone"] == "America/Chicago"
    listed = {g["name"]: g["time_zone"] for g in client.get("/v1/feature-groups").get_json()["feature_groups"]}
    assert listed == {"restaurant_stats": "America/Chicago", "restaurant_realtime": "UTC"}
    server, url = serve(app)
    try:
        group = HttpFeatureGroups(url).group("restaurant_stats")
    finally:
        server.shutdown()
    assert group is not None and group.time_zone == "America/Chicago" and group.table == "features.restaurant_stats"
