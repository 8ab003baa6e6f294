"""comparative_eval served as processes (gunicorn workers) over one store: a canary under analysis and logged
predictions to ingest, as a deploy and live traffic would have left them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from comparative_eval.adapters.sql_store import SqlDatabase
from comparative_eval.domain.deployment import DeploymentRecord
from inference_engine.adapters.prediction_log import to_event
from inference_engine.routing.ports import PredictionEntry
from strata_kernel.eventlog.local import LocalEventLog
from tests.support import free_port

OPERATOR_TOKEN = "t"
INTERVAL = 1.0
#: an analysis every INTERVAL that never has enough samples to decide on its own
TEMPLATE = f"""
steps: [5, 25, 50, 100]
interval_seconds: {INTERVAL}
alpha: 0.05
latency_budget_ms: 50
min_samples: 100000
rules:
  error_rate: {{margin: 0.01}}
"""


def seed(database_url: str, var: Path, events: int) -> None:
    """v1 stable, v2 a 5% canary (revision 2), and ``events`` logged predictions of both routes."""
    now = datetime.now(UTC).replace(tzinfo=None)
    database = SqlDatabase(database_url)
    with database.unit_of_work() as uow:
        uow.deployments.append(DeploymentRecord("etd", 1, "1", None, "full", 100, created_at=now - timedelta(hours=1)))
        uow.deployments.append(DeploymentRecord("etd", 2, "1", "2", "canary", 5, created_at=now))
        uow.commit()
    database.close()
    log = LocalEventLog(var / "eventlog")
    entries = [PredictionEntry(time.time(), f"r-{i}", "etd", 1 + i % 2, "canary" if i % 2 else "stable", f"r-{i}",
                               None, {"a__x": 1.0}, 30.0, 4.0) for i in range(events)]  # fmt: skip
    log.publish("inference.predictions", [to_event(entry, f"e-{i}") for i, entry in enumerate(entries)], "request_id")


def service_env(var: Path, templates: Path, metrics: Path, **settings: str) -> dict[str, str]:
    return {**os.environ, "STRATA_VAR_DIR": str(var), "STRATA_TEMPLATES_DIR": str(templates),
            "STRATA_OPERATOR_TOKEN": OPERATOR_TOKEN, "STRATA_INFERENCE_ENGINE_URL": f"http://127.0.0.1:{free_port()}",
            "STRATA_ANALYSIS_TICK_SECONDS": "0.02", "STRATA_CONSUMER_POLL_SECONDS": "0.05", "STRATA_LOG_JSON": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics), **settings}  # fmt: skip


def serve(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`comparative_eval serve` with ``workers`` gunicorn workers, once it answers /readyz."""
    port = free_port()
    command = [sys.executable, "-m", "comparative_eval", "serve", "--port", str(port), "--workers", str(workers)]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a loaded machine imports slowly
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            raise AssertionError(log.read_text())
        time.sleep(0.2)


def sample(exposition: str, name: str, labels: dict[str, str]) -> float:
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for one in family.samples:
            if one.name == name and all(one.labels.get(k) == v for k, v in labels.items()):
                total += one.value
    return total
