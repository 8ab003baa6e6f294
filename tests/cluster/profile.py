"""deploy/cluster.yaml moved onto free ports, its own databases and Redis databases: a test's cluster never meets a
developer's (or another test run's) on this shared machine."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.support import free_port, free_port_run

REPO = Path(__file__).resolve().parents[2]
CLUSTER_YAML = REPO / "deploy" / "cluster.yaml"
#: the test's Redis databases (deploy/cluster.yaml uses 11 and 12; other tests 0 and 15)
TEST_REDIS_DBS = {"11": "13", "12": "14"}


def cluster_config(directory: Path) -> Path:
    """A copy of deploy/cluster.yaml with every port free, database names unique and the cluster directory under
    ``directory``; the same anchors, so every process still finds each component where `up` starts it."""
    text = CLUSTER_YAML.read_text()
    worker_ui = free_port_run(2)
    ports = {"9092": free_port(), "5000": free_port(), "7077": free_port(), "8080": free_port(), "8081": worker_ui}
    for old, new in ports.items():
        text = re.sub(rf"(?<=:){old}\b|(?<=: ){old}$", str(new), text, flags=re.MULTILINE)
    text = text.replace("strata_cluster_", f"strata_cluster_{uuid.uuid4().hex[:8]}_")
    for old_db, new_db in TEST_REDIS_DBS.items():
        text = text.replace(f"6379/{old_db}", f"6379/{new_db}")
    text = text.replace("cluster_dir: var-cluster", f"cluster_dir: {directory / 'cluster'}")
    config = directory / "cluster.yaml"
    config.write_text(text)
    return config
