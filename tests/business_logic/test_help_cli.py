"""`python -m business_logic load-help PATH` and `publish-outbox`: good file, bad file changes nothing, drains."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from business_logic.entrypoints.cli import app
from strata_kernel.eventlog.local import LocalEventLog

DEMO_FILE = Path(__file__).resolve().parents[2] / "business_logic" / "demo" / "help_questions.yaml"
runner = CliRunner()


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "STRATA_VAR_DIR": str(tmp_path / "var"),
        "STRATA_DATABASE_URL": "",
        "STRATA_EVENT_LOG": "local",
        "STRATA_LOG_JSON": "false",
    }


def _run(tmp_path: Path, *args: str) -> Any:
    return runner.invoke(app, list(args), env=_env(tmp_path))


def _predefined(tmp_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "var" / "business_logic" / "app.db") as connection:
        return connection.execute(
            "SELECT id, question, answer, article_url FROM help_predefined ORDER BY position"
        ).fetchall()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_the_demo_file_idempotently(tmp_path: Path) -> None:
    first = _run(tmp_path, "load-help", str(DEMO_FILE))
    assert first.exit_code == 0, first.output
    assert "loaded 11 predefined questions (11 added, 0 updated, 0 removed)" in first.output
    rows = _predefined(tmp_path)
    again = _run(tmp_path, "load-help", str(DEMO_FILE))
    assert "(0 added, 0 updated, 0 removed)" in again.output
    assert _predefined(tmp_path) == rows
    assert any("<script>alert(1)</script>" in answer for _, _, answer, _ in rows)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("- id: a\n  question: Q?\n", "questions.0.answer"),
        ("- id: a\n  question: Q?\n  answer: A.\n- id: a\n  question: R?\n  answer: B.\n", "duplicate id 'a'"),
        ("- id: a\n  question: Q?\n  answer: A.\n  article_url: javascript:alert(1)\n", "http(s)"),
        ("- id: a\n  question: Q?\n  answer: A.\n  colour: red\n", "questions.0.colour"),
        ("- id: a\n  question: [unclosed\n", "not valid YAML"),
        ("just a string\n", "questions"),
        ("[]\n", "questions"),
        ("- id: 7\n  question: Q?\n  answer: A.\n", "questions.0.id"),
    ],
)
def test_a_bad_file_exits_2_with_one_line_and_changes_nothing(tmp_path: Path, text: str, why: str) -> None:
    assert _run(tmp_path, "load-help", str(DEMO_FILE)).exit_code == 0
    before = _predefined(tmp_path)
    result = _run(tmp_path, "load-help", str(_write(tmp_path, text)))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: load-help") and why in lines[0]
    assert _predefined(tmp_path) == before


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = _run(tmp_path, "load-help", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_publish_outbox_drains_once_to_the_configured_event_log(tmp_path: Path) -> None:
    from business_logic.entrypoints.app import create_app
    from business_logic.settings import Settings

    assert _run(tmp_path, "load-help", str(DEMO_FILE)).exit_code == 0
    settings = Settings(var_dir=tmp_path / "var", database_url="", log_json=False, outbox_relay_interval_seconds=0)
    flask_app = create_app(settings)
    try:
        flask_app.test_client().post("/v1/help/ask", json={"question_id": "cancel-order"})
    finally:
        flask_app.extensions["business_logic.deps"].close()

    result = _run(tmp_path, "publish-outbox")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"published": 1, "failed": 0, "pending": 0, "error": None}
    consumer = LocalEventLog(tmp_path / "var" / "eventlog").consumer("help.questions", "test")
    [event] = consumer.poll(timeout_seconds=0.2)
    consumer.close()
    assert (event.value["predefined_id"], event.value["answer_source"]) == ("cancel-order", "predefined")
    assert json.loads(_run(tmp_path, "publish-outbox").output)["published"] == 0
