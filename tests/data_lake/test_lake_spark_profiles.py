"""``profile_engine: spark`` on a shared cluster: a bounded share of cores, given back when idle, and small commits
profiled in the lake's process (DuckDB, the same numbers) so they never wait on a Spark start.

Spark itself is replaced by a stand-in session and a stand-in scan (DuckDB on the same files): what is tested is
when the lake asks for a session, with what, and when it gives it back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from flask.testing import FlaskClient

import data_lake.adapters.profile_engines as engines
import strata_kernel.spark
from data_lake.adapters.profile_engines import SparkProfileEngine
from data_lake.domain.commits import DataFile
from data_lake.entrypoints.app import create_app
from data_lake.settings import Settings
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from strata_kernel.profiles.engines import FileRef, profile_files_duckdb
from strata_kernel.profiles.model import TableProfile
from tests.data_lake.test_lake_analysis import commit, day, profile
from tests.support import json_of, service_credential_for


class FakeSession:
    def __init__(self, **options: Any) -> None:
        self.options = options
        self.stopped = 0

    def stop(self) -> None:
        self.stopped += 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def spark_scans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, list[str]]]:
    """The Spark scan replaced by DuckDB's on the same files; records (session, files) of each scan."""
    scans: list[tuple[Any, list[str]]] = []

    def scan(session: Any, files: Sequence[FileRef], **options: Any) -> dict[str, TableProfile]:
        scans.append((session, [file.path for file in files]))
        return profile_files_duckdb(files, **options)

    monkeypatch.setattr(engines, "profile_files_spark", scan)
    return scans


def lake_for(settings: Settings) -> tuple[FlaskClient, LakeClient]:
    app = create_app(settings)
    credential = service_credential_for(settings, "data_processing")
    catalog = ServiceClient("data_lake", "http://lake", credential=credential, transport=httpx.WSGITransport(app=app))
    return app.test_client(), LakeClient(settings.resolved_lake_root(), catalog)


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[FakeSession]:
    """Every session the lake builds (strata_kernel.spark.build_session replaced)."""
    built: list[FakeSession] = []

    def build(app_name: str, **options: Any) -> FakeSession:
        built.append(FakeSession(app_name=app_name, **options))
        return built[-1]

    monkeypatch.setattr(strata_kernel.spark, "build_session", build)
    return built


def test_small_commits_are_profiled_in_process_and_large_ones_on_a_bounded_spark_session(
    tmp_path: Path, spark_scans: list[tuple[Any, list[str]]], sessions: list[FakeSession]
) -> None:
    settings = Settings(var_dir=tmp_path / "var", profile_on_commit="sync", profile_engine="spark",
                        spark_master="spark://master:7077", profile_spark_cores_max=2,
                        profile_spark_min_rows=1000)  # fmt: skip
    client, lake = lake_for(settings)
    commit(lake, day("2026-11-01", n=400))  # 400 rows: under the threshold
    first = profile(client)["profile"]
    assert first["meta"]["engine"] == "duckdb" and first["rows"] == 400
    assert sessions == [] and spark_scans == []  # no Spark session was even asked for

    commit(lake, pa.concat_tables([day("2026-11-02", n=600, seed=1), day("2026-11-03", n=600, seed=2)]))
    second = profile(client)["profile"]
    assert second["meta"]["engine"] == "spark" and second["meta"]["files_read"] == 2 and second["rows"] == 1600
    assert len(spark_scans) == 1 and len(spark_scans[0][1]) == 2  # only the commit's new files went to Spark
    (session,) = sessions
    assert session.options["master"] == "spark://master:7077"
    assert session.options["config"] == {"spark.cores.max": "2", "spark.executor.cores": "1"}

    commit(lake, day("2026-11-04", n=10, seed=3))  # a streaming-size append after a Spark one: still in process
    third = profile(client)["profile"]
    assert third["meta"]["engine"] == "duckdb" and third["rows"] == 1610
    assert [p["rows"] for p in third["partitions"]] == [400, 600, 600, 10]
    assert len(spark_scans) == 1


def test_the_default_engine_never_builds_a_session(tmp_path: Path, sessions: list[FakeSession]) -> None:
    client, lake = lake_for(Settings(var_dir=tmp_path / "var", profile_on_commit="sync", profile_spark_min_rows=0))
    commit(lake, day("2026-11-01", n=2000))
    assert profile(client)["profile"]["meta"]["engine"] == "duckdb" and sessions == []


def files_in(tmp_path: Path) -> list[DataFile]:
    import pyarrow.parquet as pq

    (tmp_path / "t").mkdir()
    pq.write_table(day("2026-11-01", n=50), tmp_path / "t" / "a.parquet")
    return [DataFile("t/a.parquet", "2026-11-01", 50)]


def test_the_session_is_kept_while_jobs_come_and_stopped_after_the_idle_time(
    tmp_path: Path, spark_scans: list[tuple[Any, list[str]]]
) -> None:
    built: list[FakeSession] = []
    clock = FakeClock()

    def session() -> FakeSession:
        built.append(FakeSession())
        return built[-1]

    engine = SparkProfileEngine(tmp_path, session, idle_seconds=60, clock=clock)
    files = files_in(tmp_path)
    assert engine.profile_files(files, "nominal_date")["t/a.parquet"].rows == 50
    clock.now += 59
    engine.release_if_idle()
    engine.profile_files(files, "nominal_date")  # within the idle time: the same session
    assert len(built) == 1 and built[0].stopped == 0
    clock.now += 59
    engine.release_if_idle()
    assert engine.session_open
    clock.now += 2  # 61 s since the last job ended
    engine.release_if_idle()
    assert not engine.session_open and built[0].stopped == 1
    engine.release_if_idle()  # nothing left to stop
    assert built[0].stopped == 1
    engine.profile_files(files, "nominal_date")  # the next job starts a new session
    assert len(built) == 2 and [scan[0] for scan in spark_scans] == [built[0], built[0], built[1]]
    engine.close()
    assert built[1].stopped == 1 and not engine.session_open


def test_a_session_in_use_is_never_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    session = FakeSession()
    engine = SparkProfileEngine(tmp_path, lambda: session, idle_seconds=60, clock=clock)
    seen: list[bool] = []

    def long_scan(spark: Any, files: Sequence[FileRef], **options: Any) -> dict[str, TableProfile]:
        clock.now += 3600  # an hour-long job: idle since the previous job, but running
        engine.release_if_idle()
        seen.append(engine.session_open)
        return {}

    monkeypatch.setattr(engines, "profile_files_spark", long_scan)
    engine.profile_files(files_in(tmp_path), "nominal_date")
    assert seen == [True] and session.stopped == 0
    engine.release_if_idle()  # the job just ended: not idle yet
    assert engine.session_open
    engine.close()


@pytest.fixture
def real_time_engine(tmp_path: Path, spark_scans: list[tuple[Any, list[str]]]) -> Iterator[tuple[Any, FakeSession]]:
    session = FakeSession()
    engine = SparkProfileEngine(tmp_path, lambda: session, idle_seconds=0.05)
    yield engine, session
    engine.close()


def test_the_background_loop_gives_the_cores_back(tmp_path: Path, real_time_engine: tuple[Any, FakeSession]) -> None:
    engine, session = real_time_engine
    engine.profile_files(files_in(tmp_path), "nominal_date")
    deadline = time.monotonic() + 10  # idle after 0.05 s, checked every 0.0125 s: a bound, not a timing
    while session.stopped == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert session.stopped == 1 and not engine.session_open


def profiled(client: FlaskClient) -> dict[str, bool]:
    return {table["name"]: table["profiled"] for table in json_of(client.get("/v1/overview"))["tables"]}


def test_a_small_commit_is_not_queued_behind_a_spark_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sessions: list[FakeSession]
) -> None:
    release = threading.Event()

    def slow_scan(session: Any, files: Sequence[FileRef], **options: Any) -> dict[str, TableProfile]:
        release.wait(30)  # a Spark job still waiting for its executors
        return profile_files_duckdb(files, **options)

    monkeypatch.setattr(engines, "profile_files_spark", slow_scan)
    settings = Settings(var_dir=tmp_path / "var", profile_engine="spark", profile_spark_min_rows=1000)  # background
    client, lake = lake_for(settings)
    try:
        commit(lake, day("2026-11-01", n=2000))
        commit(lake, day("2026-11-01", n=20), table="features.restaurant_realtime")
        deadline = time.monotonic() + 10
        while not profiled(client).get("features.restaurant_realtime") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert profiled(client) == {"processed.orders": False, "features.restaurant_realtime": True}
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while not profiled(client)["processed.orders"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert profiled(client)["processed.orders"] and len(sessions) == 1
