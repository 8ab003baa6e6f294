"""comparative_eval served by 3 gunicorn workers still consumes each event once and judges a candidate once per
interval: the ingest and analysis loops run in one worker at a time (a leader lease), not in every worker."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from comparative_eval.adapters.sql_store import SqlDatabase
from comparative_eval.domain.deployment import DeploymentRecord
from inference_engine.adapters.prediction_log import to_event
from inference_engine.routing.ports import PredictionEntry
from strata_kernel.eventlog.local import LocalEventLog

pytestmark = pytest.mark.e2e

WORKERS = 3
INTERVAL = 1.0
WATCH = 6.0
EVENTS = 60
TEMPLATE = f"""
steps: [5, 25, 50, 100]
interval_seconds: {INTERVAL}
alpha: 0.05
latency_budget_ms: 50
min_samples: 100000
rules:
  error_rate: {{margin: 0.01}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    var = tmp_path / "var"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "etd.yaml").write_text(TEMPLATE)
    database_url = f"sqlite:///{var / 'comparative_eval' / 'deployments.db'}"
    now = datetime.now(UTC).replace(tzinfo=None)
    database = SqlDatabase(database_url)
    with database.unit_of_work() as uow:  # a canary under analysis, as a deploy would have left it
        uow.deployments.append(DeploymentRecord("etd", 1, "1", None, "full", 100, created_at=now - timedelta(hours=1)))
        uow.deployments.append(DeploymentRecord("etd", 2, "1", "2", "canary", 5, created_at=now))
        uow.commit()
    database.close()
    log = LocalEventLog(var / "eventlog")
    entries = [PredictionEntry(time.time(), f"r-{i}", "etd", 1 + i % 2, "canary" if i % 2 else "stable", f"r-{i}",
                               None, {"a__x": 1.0}, 30.0, 4.0) for i in range(EVENTS)]  # fmt: skip
    log.publish("inference.predictions", [to_event(entry, f"e-{i}") for i, entry in enumerate(entries)], "request_id")
    port = _free_port()
    env = {**os.environ, "STRATA_VAR_DIR": str(var), "STRATA_TEMPLATES_DIR": str(templates),
           "STRATA_OPERATOR_TOKEN": "t", "STRATA_INFERENCE_ENGINE_URL": f"http://127.0.0.1:{_free_port()}",
           "STRATA_ANALYSIS_TICK_SECONDS": "0.02", "STRATA_CONSUMER_POLL_SECONDS": "0.05", "STRATA_LOG_JSON": "false",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}  # fmt: skip
    command = [sys.executable, "-m", "comparative_eval", "serve", "--port", str(port), "--workers", str(WORKERS)]
    with open(tmp_path / "serve.log", "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        yield url, var
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_three_workers_judge_once_per_interval_and_consume_each_event_once(service: tuple[str, Path]) -> None:
    url, var = service
    time.sleep(WATCH)
    stored = _sample(httpx.get(f"{url}/metrics").text, "strata_comparative_eval_events_total",
                     {"topic": "inference.predictions", "outcome": "stored"})  # fmt: skip
    engine = create_engine(f"sqlite:///{var / 'comparative_eval' / 'deployments.db'}")
    with engine.connect() as connection:
        times = [row[0] for row in connection.execute(text("SELECT at FROM verdicts WHERE revision = 2 ORDER BY at"))]
        predictions = connection.execute(text("SELECT count(*) FROM predictions")).scalar_one()
    engine.dispose()
    at = [t if isinstance(t, datetime) else datetime.fromisoformat(str(t)) for t in times]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(at)]
    assert predictions == EVENTS and stored == EVENTS  # not once per worker
    assert WATCH / INTERVAL - 3 <= len(at) <= WATCH / INTERVAL + 1, at
    assert min(gaps) >= 0.9 * INTERVAL, gaps  # one judgement per interval, never two at once


def _sample(exposition: str, name: str, labels: dict[str, str]) -> float:
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
