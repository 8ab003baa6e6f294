"""`python -m data_processing help-text` against a real data_lake catalog served on a free port, with raw tables
written by the test the way data_collection lands them (docs/contracts.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from data_processing.entrypoints.cli import app
from data_processing.text import VECTORISER_ID, normalise, vectorise
from strata_kernel.errors import NotFound
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import committed_rows, serve, shared_credential

ARTICLE_TYPES = pa.schema([
    ("article_id", pa.string()), ("url", pa.string()), ("title", pa.string()), ("category", pa.string()),
    ("answer", pa.string()), ("body", pa.string()), ("questions", pa.list_(pa.string())),
    ("content_hash", pa.string()), ("crawled_at", pa.timestamp("us")), ("nominal_date", pa.string()),
])  # fmt: skip
HELDOUT_TYPES = pa.schema([
    ("question_id", pa.string()), ("article_id", pa.string()), ("text", pa.string()), ("nominal_date", pa.string()),
])  # fmt: skip


def _article(article_id: str, title: str, questions: list[str], crawled: datetime, digest: str) -> dict[str, Any]:
    return {
        "article_id": article_id, "url": f"http://help.test/articles/{article_id}.html", "title": title,
        "category": "orders", "answer": f"Short answer of {article_id}.",
        "body": f"Body of {article_id}. More help!\nCall us.",
        "questions": questions, "content_hash": digest, "crawled_at": crawled,
        "nominal_date": crawled.date().isoformat(),
    }  # fmt: skip


COURIER = "Where\u2019s the courier?"  # typographic apostrophe
FIRST_CRAWL = [
    _article("cancel-order", "Cancelling", ["Can I cancel?"], datetime(2025, 1, 10, 9), "h1"),
    _article("track-order", "Tracking your order", ["Where is my order?", "where is my order!!", COURIER],
             datetime(2025, 1, 10, 9), "h2"),
]  # fmt: skip
# the second crawl lands only the article that changed
SECOND_CRAWL = [
    _article("cancel-order", "Cancel an order", ["How do I cancel my order?", "Can I cancel after paying?"],
             datetime(2025, 1, 12, 8), "h3"),
]  # fmt: skip
HELDOUT: list[dict[str, Any]] = [
    {"question_id": q, "article_id": article, "text": text, "nominal_date": "2025-01-11"}
    for q, article, text in (
        ("hq-1", "cancel-order", "I want to call off my order"),
        ("hq-2", "track-order", "where is my order?"),
        ("hq-3", None, "What is the meaning of life?"),  # out of scope
    )
]


@pytest.fixture
def lake_service(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    var = tmp_path / "var"
    server, url = serve(create_lake_app(LakeSettings(var_dir=var, log_json=False)))
    try:
        yield var, url
    finally:
        server.shutdown()


@pytest.fixture
def lake(lake_service: tuple[Path, str]) -> LakeClient:
    var, url = lake_service
    return LakeClient(var / "lake", ServiceClient("data_lake", url, credential=shared_credential("data_processing")))


@pytest.fixture
def runner(lake_service: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STRATA_VAR_DIR", str(lake_service[0]))
    monkeypatch.setenv("STRATA_DATA_LAKE_URL", lake_service[1])
    monkeypatch.setenv("STRATA_LOG_JSON", "false")
    return CliRunner()


def _land(lake: LakeClient, table: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    data = pa.Table.from_pylist(rows, schema=schema)
    lake.write_arrow(table, data, partition_column="nominal_date", job="test land", inputs=[], mode="append")


def _landed(lake: LakeClient) -> LakeClient:
    _land(lake, "raw.help_articles", FIRST_CRAWL, ARTICLE_TYPES)
    _land(lake, "raw.help_articles", SECOND_CRAWL, ARTICLE_TYPES)
    _land(lake, "raw.help_heldout_questions", HELDOUT, HELDOUT_TYPES)
    return lake


@pytest.fixture
def landed(lake: LakeClient) -> LakeClient:
    return _landed(lake)


def _read(lake: LakeClient, table: str, order_by: str) -> list[dict[str, Any]]:
    rows = committed_rows(lake.table(table))
    for row in rows:
        row["nominal_date"] = str(row["nominal_date"])
    return sorted(rows, key=lambda row: row[order_by])


def _commits(lake_url: str, table: str) -> list[dict[str, Any]]:
    commits: list[dict[str, Any]] = ServiceClient("data_lake", lake_url).get(f"/v1/tables/{table}")["commits"]
    return commits


def _run(runner: CliRunner) -> dict[str, Any]:
    result = runner.invoke(app, ["help-text"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    summary: dict[str, Any] = json.loads(lines[0])
    return summary


def test_help_text_writes_latest_articles_examples_and_heldout(runner: CliRunner, landed: LakeClient) -> None:
    summary = _run(runner)

    assert summary["articles"] == 2
    assert summary["examples"] == 14  # per article: title, questions, 1 answer + 3 body sentences; "...!!" repeats
    assert summary["duplicate_examples_dropped"] == 1
    assert (summary["heldout"], summary["heldout_out_of_scope"], summary["heldout_seen_in_training"]) == (3, 1, 1)
    assert summary["vectoriser"] == VECTORISER_ID
    articles = _read(landed, "processed.help_articles", "article_id")
    assert [(a["article_id"], a["title"], a["content_hash"]) for a in articles] == [
        ("cancel-order", "Cancel an order", "h3"),  # the newest crawl wins
        ("track-order", "Tracking your order", "h2"),
    ]
    assert articles[0]["url"] == "http://help.test/articles/cancel-order.html"
    examples = _read(landed, "processed.help_examples", "example_id")
    cancel = [(e["source"], e["text"]) for e in examples if e["article_id"] == "cancel-order"]
    assert sorted(cancel) == [
        ("answer", "Short answer of cancel-order."),
        ("body", "Body of cancel-order."),
        ("body", "Call us."),  # a line break ends a sentence too
        ("body", "More help!"),
        ("question", "Can I cancel after paying?"),
        ("question", "How do I cancel my order?"),
        ("title", "Cancel an order"),
    ]  # nothing of the superseded version ("Cancelling", "Can I cancel?")
    courier = next(e for e in examples if e["text"] == COURIER)
    assert courier["normalised"] == normalise(COURIER) == "where is the courier"
    assert courier["token_ids"] == vectorise(COURIER)  # the runtime's ids, exactly
    assert courier["nominal_date"] == "2025-01-10"
    heldout = _read(landed, "processed.help_heldout", "example_id")
    assert [(h["example_id"], h["article_id"], h["source"]) for h in heldout] == [
        ("hq-1", "cancel-order", "heldout"),
        ("hq-2", "track-order", "heldout"),
        ("hq-3", None, "heldout"),  # out of scope: kept, with a null article
    ]
    assert heldout[2]["token_ids"] == vectorise("What is the meaning of life?")


def test_each_commit_names_the_raw_versions_it_read_and_a_rerun_changes_nothing_but_versions(
    runner: CliRunner, landed: LakeClient, lake_service: tuple[Path, str]
) -> None:
    lake_url = lake_service[1]
    first = _run(runner)
    before = {t: _read(landed, t, "article_id" if t.endswith("articles") else "example_id") for t in first["versions"]}
    second = _run(runner)
    after = {t: _read(landed, t, "article_id" if t.endswith("articles") else "example_id") for t in first["versions"]}

    assert first["inputs"] == ["raw.help_articles@v2", "raw.help_heldout_questions@v1"]
    assert _commits(lake_url, "processed.help_articles")[-1]["inputs"] == ["raw.help_articles@v2"]
    assert _commits(lake_url, "processed.help_examples")[-1]["inputs"] == ["raw.help_articles@v2"]
    heldout_commit = _commits(lake_url, "processed.help_heldout")[-1]
    assert (heldout_commit["inputs"], heldout_commit["mode"]) == (["raw.help_heldout_questions@v1"], "overwrite")
    assert after == before  # same rows, not appended twice
    assert {t: v + 1 for t, v in first["versions"].items()} == second["versions"]
    assert landed.table("processed.help_examples").rows == first["examples"]


def test_a_missing_raw_table_fails_with_one_line(runner: CliRunner, lake: LakeClient) -> None:
    _land(lake, "raw.help_articles", FIRST_CRAWL, ARTICLE_TYPES)  # crawled, held-out questions never landed

    result = runner.invoke(app, ["help-text"])

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: raw.help_heldout_questions does not exist: run `python -m data_collection land-heldout` first"
    )
    with pytest.raises(NotFound):
        lake.table("processed.help_articles")  # nothing written
