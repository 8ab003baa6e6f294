"""`strata cluster up|down` keeps nothing running it started: a failed `up` stops what it had started, a second
`up` from the same directory is refused while the first runs, and `down` with nothing running says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from strata_cli.cluster import STATE_FILE, Cluster
from strata_cli.settings import ClusterSettings
from tests.cluster.profile import cluster_config

pytestmark = pytest.mark.integration
STRATA = [sys.executable, "-m", "strata_cli"]


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRATA_CONFIG_FILE": str(config), "COLUMNS": "200"}
    return subprocess.run([*STRATA, "cluster", *args], env=env, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


def _settings(config: Path, **overrides: object) -> ClusterSettings:
    os.environ["STRATA_CONFIG_FILE"] = str(config)
    try:
        return ClusterSettings(**overrides)  # type: ignore[arg-type]
    finally:
        os.environ.pop("STRATA_CONFIG_FILE")


def test_a_failed_up_stops_what_it_started(tmp_path: Path) -> None:
    config = cluster_config(tmp_path)
    # the broker starts, the Spark master cannot be ready within a second: `up` fails and stops the broker
    # no stores: a failing start need not empty databases (another run's cluster may use the same Redis DBs)
    settings = _settings(config, ready_timeout_seconds=0.5, databases=[], redis_urls=[])
    cluster = Cluster(settings)
    with pytest.raises(RuntimeError, match="spark-master not ready after"):
        cluster.up()
    assert _recorded_rows(settings) == []
    assert not (settings.cluster_dir / STATE_FILE).exists()
    assert {p.name for p in cluster.running()} == set()
    assert (settings.cluster_dir / "logs" / "kafka.log").exists(), "the broker had been started"
    cluster.drop_databases()


def _recorded_rows(settings: ClusterSettings) -> list[dict[str, object]]:
    import json

    try:
        return list(json.loads((settings.cluster_dir / STATE_FILE).read_text()))
    except OSError:
        return []


def test_down_with_nothing_running_says_so(tmp_path: Path) -> None:
    down = _cli(cluster_config(tmp_path), "down")
    assert down.returncode == 0, down.stderr
    assert "No cluster process was running" in down.stdout
    status = _cli(cluster_config(tmp_path), "status")
    assert status.returncode == 1 and "no cluster runs from" in status.stdout


def test_up_refuses_a_busy_port_and_starts_nothing(tmp_path: Path) -> None:
    import socket

    config = cluster_config(tmp_path)
    settings = _settings(config)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.spark_master_webui_port))
        squatter.listen()
        up = _cli(config, "up")
    assert up.returncode == 1
    assert f"port(s) already in use: spark master UI {settings.spark_master_webui_port}" in up.stdout
    assert not (settings.cluster_dir / "logs").exists()


@pytest.mark.spark
def test_spark_alone_starts_the_master_and_its_workers_and_nothing_else(tmp_path: Path) -> None:
    import socket

    from strata_cli.cluster import cluster_running, host_port, spark_webui

    settings = _settings(cluster_config(tmp_path), databases=[], redis_urls=[])
    kafka_port = host_port(settings.kafka_bootstrap_servers, 9092)[1]
    with socket.socket() as squatter:  # someone's broker on the profile's Kafka port: Spark alone needs none
        squatter.bind(("127.0.0.1", kafka_port))
        squatter.listen()
        with cluster_running(settings, spark_only=True) as cluster:
            started = {p.name for p in cluster.running()}
            workers = httpx.get(f"{spark_webui(settings)}/json/", timeout=5).json()["workers"]

    assert started == {"spark-master", "spark-worker-1", "spark-worker-2"}
    assert [w["state"] for w in workers] == ["ALIVE", "ALIVE"]
    assert cluster.running() == [] and not (settings.cluster_dir / STATE_FILE).exists()
