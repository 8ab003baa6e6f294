"""Two comparative_eval instances ("hosts") of two gunicorn workers each, on one PostgreSQL database with the Redis
lock and lease (the cluster profile's settings): every logged prediction is stored once, the candidate is judged
once per interval, and concurrent `promote --full` calls through both instances promote once — the others are
refused, and the history has every revision exactly once, in order."""

from __future__ import annotations

import itertools
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from tests.comparative_eval.served import INTERVAL, OPERATOR_TOKEN, TEMPLATE, sample, seed, serve, service_env
from tests.support import postgres_schema_url

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

INSTANCES, WORKERS = 2, 2
WATCH, EVENTS = 6.0, 60
#: the cluster-profile tests' Redis database (tests/cluster/profile.py); emptied before and after
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    var, templates = tmp_path / "var", tmp_path / "templates"
    templates.mkdir()
    (templates / "etd.yaml").write_text(TEMPLATE)
    with postgres_schema_url(f"ce_two_{uuid.uuid4().hex[:6]}") as database_url:
        seed(database_url, var, EVENTS)
        processes: list[subprocess.Popen[bytes]] = []
        urls = []
        try:
            for n in range(INSTANCES):
                env = service_env(var, templates, tmp_path / f"metrics-{n}", STRATA_DATABASE_URL=database_url,
                                  STRATA_LOCK_BACKEND="redis", STRATA_REDIS_URL=REDIS_URL,
                                  STRATA_LOCK_TIMEOUT_SECONDS="60")  # a loaded machine: wait, never 503  # fmt: skip
                process, url = serve(env, WORKERS, tmp_path / f"serve-{n}.log")
                processes.append(process)
                urls.append(url)
            yield urls, database_url
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            client.flushdb()
            client.close()


def test_two_instances_store_once_judge_once_and_promote_once(instances: tuple[list[str], str]) -> None:
    urls, database_url = instances
    watched_from = datetime.now(UTC).replace(tzinfo=None)  # the first instance judged while the second started
    time.sleep(WATCH)
    stored = sum(sample(httpx.get(f"{url}/metrics").text, "strata_comparative_eval_events_total",
                        {"topic": "inference.predictions", "outcome": "stored"}) for url in urls)  # fmt: skip
    engine = create_engine(database_url)
    with engine.connect() as connection:
        times = [row[0] for row in connection.execute(text("SELECT at FROM verdicts WHERE revision = 2 ORDER BY at"))]
        predictions = connection.execute(text("SELECT count(*) FROM predictions")).scalar_one()
    engine.dispose()
    assert predictions == EVENTS and stored == EVENTS  # not once per instance or per worker
    at = [t if isinstance(t, datetime) else datetime.fromisoformat(str(t)) for t in times]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(at)]
    assert min(gaps) >= 0.9 * INTERVAL, gaps  # one judgement per interval across both instances, never two at once
    at = [t for t in at if t >= watched_from]
    assert WATCH / INTERVAL - 3 <= len(at) <= WATCH / INTERVAL + 1, at

    def promote(n: int) -> int:
        response = httpx.post(f"{urls[n % len(urls)]}/v1/deployments/etd/promote", timeout=60,
                              json={"full": True, "force": True, "reason": f"race {n}"},
                              headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})  # fmt: skip
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(promote, range(8)))
    assert statuses == [201] + [409] * 7, statuses
    history = httpx.get(f"{urls[0]}/v1/deployments/etd/history", timeout=10).json()
    records = history["records"] if isinstance(history, dict) else history
    assert [r["revision"] for r in records] == [3, 2, 1]  # no revision lost, none twice
    assert [r["action"] for r in records].count("promote") == 1
