"""The cluster profile as a test starts it: a private copy of deploy/cluster.yaml (free ports, databases of its own)."""

from __future__ import annotations

from pathlib import Path

from strata_cli.cluster import private_profile

#: the test's Redis databases (deploy/cluster.yaml uses 11 and 12; other tests 0 and 15; bench rollout 9 and 10)
TEST_REDIS_DBS = {"11": "13", "12": "14"}


def cluster_config(directory: Path) -> Path:
    return private_profile(directory, TEST_REDIS_DBS)
