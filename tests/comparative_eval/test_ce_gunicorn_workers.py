"""comparative_eval served by 3 gunicorn workers still consumes each event once and judges a candidate once per
interval: the ingest and analysis loops run in one worker at a time (a leader lease), not in every worker."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.comparative_eval.served import INTERVAL, TEMPLATE, sample, seed, serve, service_env

pytestmark = pytest.mark.e2e

WORKERS = 3
WATCH = 6.0
EVENTS = 60


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    var = tmp_path / "var"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "etd.yaml").write_text(TEMPLATE)
    seed(f"sqlite:///{var / 'comparative_eval' / 'deployments.db'}", var, EVENTS)
    process, url = serve(service_env(var, templates, tmp_path / "metrics"), WORKERS, tmp_path / "serve.log")
    try:
        yield url, var
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_three_workers_judge_once_per_interval_and_consume_each_event_once(service: tuple[str, Path]) -> None:
    url, var = service
    time.sleep(WATCH)
    stored = sample(httpx.get(f"{url}/metrics").text, "strata_comparative_eval_events_total",
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
