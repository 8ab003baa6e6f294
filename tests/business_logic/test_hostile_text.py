"""Text no store can hold is refused with a 400 on SQLite and on a real PostgreSQL alike, and nothing of it reaches
the database (the hostile-input campaign found a NUL byte or an ``X-Request-ID`` over 64 characters answered 500 on
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from business_logic.adapters.sql_tables import help_questions
from business_logic.bootstrap import Dependencies
from business_logic.entrypoints.app import create_app
from strata_kernel.eventlog.local import LocalEventLog
from tests.business_logic.test_help_api import SwitchableEngine, _load_demo, _settings
from tests.support import json_of, postgres_schema_url

HOSTILE = [
    ("NUL in the question", b'{"text": "my food \\u0000 arrived cold"}', {}, "invalid_text", "text"),
    ("lone surrogate in the question", b'{"text": "my food \\ud800 arrived cold"}', {}, "invalid_text", "text"),
    ("NUL in the session id", b'{"text": "my food arrived cold", "session_id": "s\\u0000"}', {}, "invalid_text",
     "session_id"),
    ("request id over 64 characters", b'{"text": "my food arrived cold"}', {"X-Request-ID": "r" * 65},
     "invalid_header", "X-Request-ID"),
    ("non-ASCII request id", b'{"text": "my food arrived cold"}', {"X-Request-ID": "req-\u00fc"}, "invalid_header",
     "X-Request-ID"),
]  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def help_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FlaskClient, Dependencies]]:
    def build(database_url: str) -> Iterator[tuple[FlaskClient, Dependencies]]:
        settings = _settings(tmp_path, database_url=database_url)
        _load_demo(settings)
        app = create_app(settings, help_engine=SwitchableEngine(), event_log=LocalEventLog(tmp_path / "eventlog"))
        deps = app.extensions["business_logic.deps"]
        try:
            yield app.test_client(), deps
        finally:
            deps.close()

    if request.param == "sqlite":
        yield from build("")
        return
    with postgres_schema_url("bl_hostile") as url:
        yield from build(url)


def _stored_questions(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(help_questions)).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize(("case", "body", "headers", "code", "field"), HOSTILE, ids=[case[0] for case in HOSTILE])
def test_unstorable_text_is_a_400_naming_it_and_nothing_is_stored(
    help_app: tuple[FlaskClient, Dependencies], case: str, body: bytes, headers: dict[str, str], code: str, field: str
) -> None:
    client, deps = help_app

    refused = client.post("/v1/help/ask", data=body, headers={"Content-Type": "application/json", **headers})
    # the same question, well formed, is answered and stored with its request id: the backend is really used
    answered = client.post("/v1/help/ask", json={"text": "my food arrived cold"}, headers={"X-Request-ID": "r" * 64})

    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert json_of(refused)["error"]["code"] == code
    assert json_of(refused)["error"]["field"] == field
    assert answered.status_code == 200
    assert answered.headers["X-Request-ID"] == "r" * 64
    assert _stored_questions(deps.settings.database_url) == 1
