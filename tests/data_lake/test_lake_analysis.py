"""The lake as an analysis environment: profiles on commit (incremental), diffs, lineage, overview and SQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from flask.testing import FlaskClient
from typer.testing import CliRunner

from data_lake.entrypoints.cli import app as cli
from data_lake.settings import Settings
from strata_kernel.lake import LakeClient
from tests.support import json_of, serve, service_credential_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", profile_on_commit="sync")


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    return CliRunner(env={"STRATA_VAR_DIR": str(settings.var_dir), "STRATA_CONFIG_FILE": None, "COLUMNS": "200"})


def day(date: str, n: int = 500, seed: int = 0, minutes_column: str = "delivery_minutes") -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "order_id": [f"o-{date}-{i}" for i in range(n)],
        "city_id": np.array(["c-1", "c-2"])[rng.integers(0, 2, n)],
        minutes_column: rng.normal(30, 5, n),
        "nominal_date": [date] * n,
    })  # fmt: skip


def commit(lake: LakeClient, data: pa.Table, mode: str = "append", table: str = "processed.orders",
           inputs: tuple[str, ...] = ("raw.order_placed@v1",)) -> dict[str, Any]:  # fmt: skip
    return lake.write_arrow(table, data, partition_column="nominal_date", job="test", inputs=list(inputs), mode=mode)


def profile(client: FlaskClient, version: int | None = None, table: str = "processed.orders") -> dict[str, Any]:
    query = "" if version is None else f"?version={version}"
    response = client.get(f"/v1/tables/{table}/profile{query}")
    assert response.status_code == 200, response.json
    return json_of(response)


def test_a_commit_is_profiled_and_the_api_serves_it(client: FlaskClient, lake: LakeClient) -> None:
    commit(lake, pa.concat_tables([day("2026-11-01"), day("2026-11-02", seed=1)]))
    body = profile(client)
    assert (body["name"], body["version"], body["rows"]) == ("processed.orders", 1, 1000)
    columns = {column["name"]: column for column in body["profile"]["columns"]}
    assert list(columns) == ["order_id", "city_id", "delivery_minutes"]  # the catalog's schema, its order
    minutes = columns["delivery_minutes"]["summary"]
    assert sum(minutes["histogram"]["counts"]) == 1000 and 25 < minutes["mean"] < 35
    assert {item["value"] for item in columns["city_id"]["summary"]["top"]} == {"c-1", "c-2"}
    assert [p["rows"] for p in body["profile"]["partitions"]] == [500, 500]
    assert "kll" not in columns["delivery_minutes"]["sketches"]  # sketches only on request
    assert (
        "kll"
        in json_of(client.get("/v1/tables/processed.orders/profile?sketches=true"))["profile"]["columns"][2]["sketches"]
    )
    assert body["profile"]["meta"]["engine"] == "duckdb" and body["profile"]["meta"]["files_read"] == 2


def test_an_append_reads_only_its_new_files(client: FlaskClient, lake: LakeClient) -> None:
    commit(lake, pa.concat_tables([day("2026-11-01"), day("2026-11-02", seed=1)]))
    commit(lake, day("2026-11-03", seed=2))
    meta = profile(client)["profile"]["meta"]
    assert (meta["version"], meta["files"], meta["files_read"], meta["merged_with_previous"]) == (2, 3, 1, True)
    assert profile(client)["profile"]["rows"] == 1500
    commit(lake, day("2026-11-03", n=200, seed=3), mode="overwrite_partitions")  # replaces one partition
    body = profile(client)
    assert body["profile"]["meta"]["files_read"] == 1 and not body["profile"]["meta"]["merged_with_previous"]
    assert [p["rows"] for p in body["profile"]["partitions"]] == [500, 500, 200]
    assert profile(client, version=2)["profile"]["rows"] == 1500  # older versions keep their profile


def test_versions_are_checked(client: FlaskClient, lake: LakeClient) -> None:
    commit(lake, day("2026-11-01"))
    assert client.get("/v1/tables/processed.orders/profile?version=7").status_code == 404
    bad = client.get("/v1/tables/processed.orders/profile?version=x")
    assert bad.status_code == 400 and json_of(bad)["error"]["code"] == "invalid_version"
    for unicode_digit in ("%C2%B2", "%D9%A1"):  # pass str.isdigit(): were 500s
        assert client.get(f"/v1/tables/processed.orders/profile?version={unicode_digit}").status_code == 400
        assert client.get(f"/v1/tables/processed.orders/diff?from={unicode_digit}").status_code == 400
    assert client.get("/v1/tables/processed.nope/profile").status_code == 404


def test_a_version_never_profiled_whose_files_are_gone_says_so(tmp_path: Path) -> None:
    from data_lake.entrypoints.app import create_app

    settings = Settings(var_dir=tmp_path / "v", profile_on_commit="off", superseded_retention_seconds=0)
    app = create_app(settings)
    client = app.test_client()
    import httpx

    from strata_kernel.http import ServiceClient

    credential = service_credential_for(settings, "data_processing")
    transport = httpx.WSGITransport(app=app)
    lake = LakeClient(tmp_path / "v" / "lake", ServiceClient("data_lake", "http://l", credential=credential,
                                                              transport=transport))  # fmt: skip
    commit(lake, day("2026-11-01"))
    commit(lake, day("2026-11-01", seed=5), mode="overwrite")
    gone = client.get("/v1/tables/processed.orders/profile?version=1")
    assert gone.status_code == 409 and json_of(gone)["error"]["code"] == "profile_unavailable"
    assert profile(client, version=2)["rows"] == 500  # the current one is computed on first read


def test_diff_shows_a_renamed_column_and_the_row_change(client: FlaskClient, lake: LakeClient,
                                                        runner: CliRunner) -> None:  # fmt: skip
    commit(lake, pa.concat_tables([day("2026-11-01"), day("2026-11-02", seed=1)]))
    renamed = pa.concat_tables([day(date, seed=seed, minutes_column="minutes") for date, seed in
                                (("2026-11-01", 0), ("2026-11-02", 1))])  # fmt: skip
    commit(lake, pa.concat_tables([renamed, day("2026-11-03", seed=2, minutes_column="minutes")]), mode="overwrite")
    response = client.get("/v1/tables/processed.orders/diff?from=1&to=2")
    assert response.status_code == 200, response.json
    diff = json_of(response)
    assert (
        diff["schema"]["renamed"][0]["from"] == "delivery_minutes" and diff["schema"]["renamed"][0]["to"] == "minutes"
    )
    assert diff["rows"]["change"] == 500 and (diff["from"]["version"], diff["to"]["version"]) == (1, 2)
    assert {c["name"] for c in diff["columns"]} == {"order_id", "city_id"}
    assert client.get("/v1/tables/processed.orders/diff").status_code == 400
    printed = runner.invoke(cli, ["diff", "processed.orders", "1", "2"])
    assert printed.exit_code == 0, printed.output
    assert "renamed  delivery_minutes -> minutes (same distribution: drift 0.0" in printed.stdout
    assert re.search(r"order_id .* \d,\d{3} -> 1,\d{3} ", printed.stdout)  # ~1,000 -> ~1,500 distinct ids


def test_lineage_up_and_down_and_the_overview(client: FlaskClient, lake: LakeClient) -> None:
    commit(lake, day("2026-11-01"), table="raw.order_placed", inputs=("topic:etd.order_placed",))
    commit(lake, day("2026-11-01"), inputs=("raw.order_placed@v1",))
    commit(lake, day("2026-11-01"), table="processed.etd_training_set", inputs=("processed.orders@v1",))
    lineage = json_of(client.get("/v1/tables/processed.orders/lineage"))
    assert lineage["upstream"] == [{"table": "raw.order_placed", "version": 1}]
    assert lineage["downstream"][0]["table"] == "processed.etd_training_set"
    assert lineage["downstream"][0]["reads_latest"] is True
    overview = {t["name"]: t for t in json_of(client.get("/v1/overview"))["tables"]}
    assert set(overview) == {"raw.order_placed", "processed.orders", "processed.etd_training_set"}
    orders = overview["processed.orders"]
    assert orders["profiled"] and orders["partition_rows"] == [{"value": "2026-11-01", "rows": 500}]
    assert orders["freshness"]["column"] == "nominal_date" and orders["freshness"]["newest"] == "2026-11-01"


def test_a_feature_table_is_as_fresh_as_its_newest_feature_time(client: FlaskClient, lake: LakeClient) -> None:
    """A feature table's freshness is its newest feature_time (what serving would read), not its newest partition."""
    stats = pa.table({
        "restaurant_id": ["r-1", "r-2", "r-1"],
        "feature_time": pa.array([datetime(2026, 11, 1, 6), datetime(2026, 11, 1, 23, 30), datetime(2026, 11, 2, 1)],
                                 pa.timestamp("us")),
        "avg_minutes": [30.0, 40.0, 31.0],
        "nominal_date": ["2026-11-01", "2026-11-01", "2026-11-01"],
    })  # fmt: skip
    commit(lake, stats, table="features.restaurant_stats")
    fresh = profile(client, table="features.restaurant_stats")["freshness"]
    assert (fresh["column"], fresh["newest"][:19]) == ("feature_time", "2026-11-02T01:00:00")
    expected = (datetime.now(UTC) - datetime(2026, 11, 2, 1, tzinfo=UTC)).total_seconds()
    assert abs(fresh["age_seconds"] - expected) < 600
    listed = {t["name"]: t for t in json_of(client.get("/v1/overview"))["tables"]}["features.restaurant_stats"]
    assert listed["freshness"]["column"] == "feature_time"


def test_profile_and_diff_on_the_command_line(runner: CliRunner, lake: LakeClient) -> None:
    commit(lake, day("2026-11-01"))
    commit(lake, day("2026-11-02", seed=1).append_column("tip", pa.array(np.ones(500))))
    shown = runner.invoke(cli, ["profile", "processed.orders"])
    assert shown.exit_code == 0, shown.output
    for text in ("processed.orders", "v2", "delivery_minutes", "city_id", "tip", "50.0%", "2 partitions"):
        assert text in shown.stdout, text
    assert "newest nominal_date: 2026-11-02" in shown.stdout and " d ago" in shown.stdout  # a month: days, not hours
    older = runner.invoke(cli, ["profile", "processed.orders", "--version", "1", "--json"])
    assert json.loads(older.stdout)["rows"] == 500
    changed = runner.invoke(cli, ["diff", "processed.orders", "1", "2"])
    assert changed.exit_code == 0 and "+ added" in changed.stdout and "tip" in changed.stdout
    missing = runner.invoke(cli, ["profile", "processed.orders", "--version", "9"])
    assert missing.exit_code == 1 and missing.stderr.startswith("error:") and len(missing.stderr.splitlines()) == 1


def test_sql_reads_tables_by_catalog_name(runner: CliRunner, lake: LakeClient) -> None:
    commit(lake, pa.concat_tables([day("2026-11-01"), day("2026-11-02", seed=1)]))
    result = runner.invoke(cli, ["sql", "--json", "SELECT nominal_date, count(*) AS n FROM processed.orders "
                                 "GROUP BY 1 ORDER BY 1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"columns": ["nominal_date", "n"], "truncated": False,
                                         "rows": [["2026-11-01", 500], ["2026-11-02", 500]]}  # fmt: skip
    limited = runner.invoke(cli, ["sql", "--limit", "3", "SELECT * FROM processed.orders"])
    assert limited.exit_code == 0 and "3 row(s) (more rows were cut" in limited.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO processed.orders SELECT * FROM processed.orders",
        "DELETE FROM processed.orders",
        "DROP VIEW processed.orders",
        "SELECT 1; DROP VIEW processed.orders",
        "/* SELECT */ CREATE TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO '{root}/processed/orders/evil.csv'",
        "SELECT * FROM read_csv('/etc/hostname')",
        "ATTACH '{root}/x.duckdb'",
        "SET enable_external_access = true",
        "SELECT * FROM query('DROP VIEW processed.orders')",
    ],
)
def test_sql_refuses_anything_that_is_not_a_plain_read(runner: CliRunner, lake: LakeClient, statement: str) -> None:
    commit(lake, day("2026-11-01"))
    before = sorted(p.relative_to(lake.root) for p in lake.root.rglob("*"))
    result = runner.invoke(cli, ["sql", statement.format(root=lake.root)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert sorted(p.relative_to(lake.root) for p in lake.root.rglob("*")) == before


def test_each_commit_is_checked_against_the_recent_profile(client: FlaskClient, lake: LakeClient) -> None:
    """Development flow: a commit far smaller than the recent ones, a column suddenly often missing and a city
    never seen are flagged (with the commit's version), never blocked; a clean commit records nothing."""
    for index, date in enumerate(("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04")):
        commit(lake, day(date, seed=index))
    assert json_of(client.get("/v1/commit-checks"))["checks"] == []
    odd = day("2026-11-05", n=80, seed=9)
    minutes = odd.column("delivery_minutes").to_pylist()
    odd = odd.set_column(2, "delivery_minutes", pa.array([None] * 30 + minutes[30:], pa.float64()))
    odd = odd.set_column(1, "city_id", pa.array(["c-9"] * 10 + odd.column("city_id").to_pylist()[10:]))
    commit(lake, odd)
    found = {(c["version"], c["field"], c["reason"]) for c in json_of(client.get("/v1/commit-checks"))["checks"]}
    assert found == {(5, "", "row_count"), (5, "delivery_minutes", "missing_rate"), (5, "city_id", "new_categories")}
    first = json_of(client.get("/v1/commit-checks"))["checks"][0]["id"]
    assert len(json_of(client.get(f"/v1/commit-checks?after={first}"))["checks"]) == 2


@pytest.mark.parametrize(("continuous", "flagged"), [(True, set()), (False, {(4, "row_count"), (5, "row_count")})])
def test_a_streams_catch_up_flushes_are_not_judged_by_their_row_count(
    client: FlaskClient, lake: LakeClient, continuous: bool, flagged: set[tuple[int, str]]
) -> None:
    """A stream worker restarting catches up its backlog in full flushes, then flushes what arrives every few
    seconds: 900, 900, 900 rows, then 40 and 25. Those sizes are its flush timing, not news about the data; the same
    commits from a batch writer are (a day with 40 orders where there were 900)."""
    for index, (date, rows) in enumerate((("2026-11-01", 900), ("2026-11-02", 900), ("2026-11-03", 900),
                                          ("2026-11-04", 40), ("2026-11-04", 25))):  # fmt: skip
        batch = day(date, n=rows, seed=index)
        batch = batch.set_column(0, "order_id", pa.array([f"o-{index}-{i}" for i in range(rows)]))
        lake.write_arrow("processed.orders", batch, partition_column="nominal_date", job="test",
                         inputs=["raw.order_placed@v1"], continuous=continuous)  # fmt: skip
    found = {(c["version"], c["reason"]) for c in json_of(client.get("/v1/commit-checks"))["checks"]}
    assert found == flagged


def test_a_point_in_time_read_gives_the_latest_row_at_or_before_each_instant(client: FlaskClient, lake: LakeClient,
                                                                             app: Any) -> None:  # fmt: skip
    """The offline value of a feature for an entity at a time (what the skew monitor compares online values with)."""
    stats = pa.table({
        "restaurant_id": ["r-1", "r-1", "r-2"],
        "feature_time": pa.array([datetime(2026, 11, 1), datetime(2026, 11, 2), datetime(2026, 11, 1)],
                                 pa.timestamp("us")),
        "avg_minutes": [30.0, 31.0, 40.0],
        "nominal_date": ["2026-11-01", "2026-11-02", "2026-11-01"],
    })  # fmt: skip
    commit(lake, stats, table="features.restaurant_stats")
    query = (
        "key=restaurant_id&time=feature_time&columns=avg_minutes&at=r-1@2026-11-01T12:00:00%2B00:00"
        "&at=r-1@2026-11-03T00:00:00%2B00:00&at=r-2@2026-10-31T00:00:00%2B00:00&at=r'x@2026-11-03T00:00:00Z"
    )
    response = client.get(f"/v1/tables/features.restaurant_stats/as-of?{query}")
    assert response.status_code == 200, response.json
    found = {(row["id"], row["at"][:10]): row["avg_minutes"] for row in json_of(response)["rows"]}
    assert found == {("r-1", "2026-11-01"): 30.0, ("r-1", "2026-11-03"): 31.0, ("r-2", "2026-10-31"): None,
                     ("r'x", "2026-11-03"): None}  # fmt: skip
    bad = client.get("/v1/tables/features.restaurant_stats/as-of?key=restaurant_id&time=feature_time&columns=x")
    assert bad.status_code == 400 and json_of(bad)["error"]["field"] == "columns"
    naive = client.get("/v1/tables/features.restaurant_stats/as-of?key=restaurant_id&time=feature_time&at=r-1@2026")
    assert naive.status_code == 400
    # the skew monitor's adapter reads the same
    from monitoring.adapters.offline_http import HttpOfflineFeatures
    from monitoring.domain.judgement import GroupInfo

    server, url = serve(app)
    try:
        group = GroupInfo("restaurant_stats", "features.restaurant_stats", "restaurant_id", "feature_time")
        rows = HttpOfflineFeatures(url).as_of(group, [("r-1", "2026-11-03T00:00:00+00:00")], ["avg_minutes"])
    finally:
        server.shutdown()
    assert [row["avg_minutes"] for row in rows] == [31.0]


def test_a_point_in_time_read_is_on_the_wall_clock_of_the_tables_declared_zone(
    client: FlaskClient, lake: LakeClient, app: Any
) -> None:
    """A group declaring ``time_zone: America/Chicago`` stores Chicago wall-clock times: 03:00 UTC on Nov 2 is 21:00
    on Nov 1 there, before the Nov 2 row. Read on UTC's clock, the row of Nov 2 would be taken (a false skew)."""
    stats = pa.table({
        "restaurant_id": ["r-1", "r-1"],
        "feature_time": pa.array([datetime(2026, 11, 1), datetime(2026, 11, 2)], pa.timestamp("us")),
        "avg_minutes": [30.0, 31.0],
        "nominal_date": ["2026-11-01", "2026-11-02"],
    })  # fmt: skip
    commit(lake, stats, table="features.chicago_stats")
    query = "key=restaurant_id&time=feature_time&columns=avg_minutes&at=r-1@2026-11-02T03:00:00Z"
    on_chicago = client.get(f"/v1/tables/features.chicago_stats/as-of?{query}&zone=America/Chicago")
    assert on_chicago.status_code == 200, on_chicago.json
    assert [row["avg_minutes"] for row in json_of(on_chicago)["rows"]] == [30.0]
    on_utc = client.get(f"/v1/tables/features.chicago_stats/as-of?{query}")
    assert [row["avg_minutes"] for row in json_of(on_utc)["rows"]] == [31.0]
    unknown = client.get(f"/v1/tables/features.chicago_stats/as-of?{query}&zone=Chicago")
    assert unknown.status_code == 400 and json_of(unknown)["error"]["field"] == "zone", unknown.json
    # the skew monitor's adapter passes the zone the group declares
    from monitoring.adapters.offline_http import HttpOfflineFeatures
    from monitoring.domain.judgement import GroupInfo

    server, url = serve(app)
    try:
        group = GroupInfo("chicago_stats", "features.chicago_stats", "restaurant_id", "feature_time", "America/Chicago")
        rows = HttpOfflineFeatures(url).as_of(group, [("r-1", "2026-11-02T03:00:00+00:00")], ["avg_minutes"])
    finally:
        server.shutdown()
    assert [row["avg_minutes"] for row in rows] == [30.0]
