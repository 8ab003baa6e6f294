"""A private copy of the cluster profile (what the cluster test and `bench rollout --profile cluster` start): nothing
it points at is the developer's cluster of deploy/cluster.yaml, and every process still finds every component."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from strata_cli.cluster import PROFILE, private_profile
from strata_cli.settings import ClusterSettings
from strata_kernel.settings import StrataSettings


def _settings(config: Path, cls: type[StrataSettings]) -> StrataSettings:
    os.environ["STRATA_CONFIG_FILE"] = str(config)
    try:
        return cls()
    finally:
        os.environ.pop("STRATA_CONFIG_FILE")


def _addresses(config: Path) -> dict[str, Any]:
    cluster = _settings(config, ClusterSettings)
    assert isinstance(cluster, ClusterSettings)
    return {
        "kafka": cluster.kafka_bootstrap_servers,
        "spark": cluster.spark_master,
        "spark ui": cluster.spark_master_webui_port,
        "workers ui": cluster.spark_worker_webui_base_port,
        "mlflow": cluster.mlflow_tracking_uri,
        "mlflow db": cluster.mlflow_backend_store_uri,
        "databases": tuple(cluster.databases),
        "redis": tuple(cluster.redis_urls),
        "dir": cluster.cluster_dir,
    }


def test_a_private_profile_shares_nothing_with_the_developers_cluster(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    developers = _addresses(PROFILE)
    first = _addresses(private_profile(tmp_path / "a", {"11": "9", "12": "10"}))
    second = _addresses(private_profile(tmp_path / "b", {"11": "9", "12": "10"}))
    for name in ("kafka", "spark", "spark ui", "workers ui", "mlflow", "mlflow db", "dir"):
        assert first[name] != developers[name] and first[name] != second[name], name
    assert not set(first["databases"]) & set(developers["databases"])
    assert not set(first["databases"]) & set(second["databases"])
    assert first["redis"] == ("redis://127.0.0.1:6379/9", "redis://127.0.0.1:6379/10")
    assert first["dir"] == tmp_path / "a" / "cluster"


def test_the_services_find_the_components_where_up_starts_them(tmp_path: Path) -> None:
    config = private_profile(tmp_path, {"11": "9", "12": "10"})
    cluster = _settings(config, ClusterSettings)
    assert isinstance(cluster, ClusterSettings)
    sections = yaml.safe_load(config.read_text())
    assert sections["kafka_bootstrap_servers"] == cluster.kafka_bootstrap_servers
    assert sections["data_processing"]["spark_master"] == cluster.spark_master
    assert sections["inference_engine"]["mlflow_tracking_uri"] == cluster.mlflow_tracking_uri
    assert sections["cli"]["mlflow_tracking_uri"] == cluster.mlflow_tracking_uri
    assert sections["data_processing"]["online_store_url"] in cluster.redis_urls
    assert sections["comparative_eval"]["redis_url"] in cluster.redis_urls
    served = {sections[s][key] for s, key in (("business_logic", "database_url"), ("data_lake", "catalog_url"),
                                              ("data_processing", "directory_url"),
                                              ("comparative_eval", "database_url"))}  # fmt: skip
    assert served == set(cluster.databases)
