"""`collect --until-idle` lands the chatbot's topics and the optional quote_request_id into a real data_lake; the
help-centre app serves the static site with the ops routes of every Strata service."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from data_collection.entrypoints.cli import app
from data_collection.entrypoints.helpcentre_app import create_helpcentre_app
from data_collection.settings import Settings
from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from strata_kernel.eventlog.local import LocalEventLog
from tests.support import serve


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def lake_url(tmp_path: Path) -> Iterator[str]:
    server, url = serve(create_lake_app(LakeSettings(var_dir=tmp_path / "var", log_json=False)))
    yield url
    server.shutdown()


def _delivered(order: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": f"{order}:delivered", "event_type": "order_delivered", "event_time": "2025-01-06T12:40:00",
            "order_id": order, "restaurant_id": "r-000001", "placed_at": "2025-01-06T12:00:00",
            "delivered_at": "2025-01-06T12:40:00", "prep_minutes": 12.0, "delivery_minutes": 40.0, **extra}  # fmt: skip


def test_collect_lands_help_events_and_quote_ids_in_the_lake(tmp_path: Path, lake_url: str) -> None:
    log = LocalEventLog(tmp_path / "var" / "eventlog")
    log.publish("help.questions", [{
        "event_id": "e-1", "event_type": "help_question", "event_time": "2025-03-01T10:00:00Z", "question_id": "q-1",
        "session_id": "s-1", "kind": "free_text", "predefined_id": None, "text": "my pizza was cold",
        "answer_source": "unknown", "article_id": None, "confidence": 0.2, "model": "helpbot", "model_version": "1",
        "request_id": "r-1"}], key_field="question_id")  # fmt: skip
    log.publish("help.feedback", [{
        "event_id": "e-2", "event_type": "help_feedback", "event_time": "2025-03-01T10:01:00", "feedback_id": "f-1",
        "question_id": "q-1", "helpful": False, "answer_source": "unknown", "model": "helpbot", "model_version": "1",
        "request_id": "r-1"}], key_field="question_id")  # fmt: skip
    log.publish("etd.order_delivered", [_delivered("o-1", quote_request_id="quote-1"), _delivered("o-2")])
    env = {"STRATA_VAR_DIR": str(tmp_path / "var"), "STRATA_DATA_LAKE_URL": lake_url,
           "STRATA_POLL_TIMEOUT_SECONDS": "0.05", "STRATA_LOG_JSON": "false"}  # fmt: skip

    result = CliRunner().invoke(app, ["collect", "--until-idle"], env=env)

    assert result.exit_code == 0, result.output
    topics = json.loads(result.stdout)["topics"]
    assert (topics["help.questions"]["collected"], topics["help.feedback"]["collected"]) == (1, 1)
    lake = tmp_path / "var" / "lake" / "raw"
    (question,) = pq.read_table(lake / "help_questions").to_pylist()
    assert (question["text"], question["article_id"], question["answer_source"]) == (
        "my pizza was cold",
        None,
        "unknown",
    )
    (feedback,) = pq.read_table(lake / "help_feedback").to_pylist()
    assert feedback["helpful"] is False and feedback["nominal_date"] == "2025-03-01"
    delivered = sorted(pq.read_table(lake / "order_delivered").to_pylist(), key=lambda row: row["order_id"])
    assert [(row["order_id"], row["quote_request_id"]) for row in delivered] == [("o-1", "quote-1"), ("o-2", None)]


def test_the_help_centre_app_serves_the_site_and_ops_routes(tmp_path: Path) -> None:
    server, url = serve(create_helpcentre_app(Settings(var_dir=tmp_path, log_json=False)))
    try:
        with httpx.Client(base_url=url) as client:
            index = client.get("/")
            assert index.status_code == 200 and "How can we help?" in index.text
            assert 'data-article-id="charged-twice"' in client.get("/articles/payments/charged-twice.html").text
            assert client.get("/robots.txt").text.splitlines()[-1] == "Disallow: /internal/"
            assert client.get("/healthz").status_code == 200 and client.get("/assets/help.css").status_code == 200
            missing = client.get("/articles/orders/no-such-page.html")
            assert missing.status_code == 404 and missing.json()["error"]["code"]
            assert client.get("/..%2Fheldout_questions.yaml").status_code == 404  # nothing outside the site
    finally:
        server.shutdown()


def test_serve_helpcentre_refuses_a_directory_without_a_site(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve-helpcentre", "--site-dir", str(tmp_path)],
                                env={"STRATA_VAR_DIR": str(tmp_path), "STRATA_LOG_JSON": "false"})  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: help_centre_site_dir: {tmp_path.resolve()} has no index.html"
