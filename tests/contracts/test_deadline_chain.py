"""One deadline from the top: against a hung inference engine, a click sends it one request and the UI answers a
clear 503 (ETD) or the polite fallback (chatbot) within its own budget — no hop retries a timeout below the top,
and no hop waits longer than its caller. The four services are the real apps on real sockets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from business_logic import services as bl_services
from business_logic.adapters.catalog_file import parse_catalog
from business_logic.adapters.sql_database import SqlDatabase
from business_logic.entrypoints.app import create_app as create_business_logic
from business_logic.settings import Settings as BusinessLogicSettings
from data_processing.entrypoints.app import create_app as create_data_processing
from data_processing.settings import Settings as DataProcessingSettings
from strata_kernel.contracts import headers
from tests.business_logic.conftest import catalog_dict
from tests.data_processing.fakes import InMemoryOnlineStore
from tests.support import serve
from ui.entrypoints.app import create_app as create_ui
from ui.settings import Settings as UiSettings

UI_BUDGET = 3.0  # the UI waits this long for business_logic (its business_logic_timeout_seconds)
HOP_TIMEOUT = 2.0  # every lower hop's own timeout (etd/help timeouts, http_timeout_seconds)


@dataclass
class HungEngine:
    """Accepts every request and never answers (until the test ends); counts what reached it."""

    requests: list[dict[str, str]]
    release: threading.Event
    url: str


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[str, HungEngine]]:
    engine_app, release, seen = Flask("hung"), threading.Event(), []

    @engine_app.post("/v1/models/<name>/predict")
    def hang(name: str) -> str:
        from flask import request

        seen.append({"model": name, "deadline_ms": request.headers.get(headers.DEADLINE_MS, "")})
        release.wait(30)
        return "{}"

    servers: list[BaseWSGIServer] = []
    engine_server, engine_url = serve(engine_app)
    servers.append(engine_server)
    dp_settings = DataProcessingSettings(var_dir=tmp_path / "dp", inference_engine_url=engine_url,
                                         http_timeout_seconds=HOP_TIMEOUT, log_json=False)  # fmt: skip
    dp_server, dp_url = serve(create_data_processing(dp_settings, online_store=InMemoryOnlineStore()))
    servers.append(dp_server)
    bl_settings = BusinessLogicSettings(var_dir=tmp_path / "bl", database_url="", data_processing_url=dp_url,
                                        etd_timeout_seconds=HOP_TIMEOUT, help_timeout_seconds=HOP_TIMEOUT,
                                        outbox_relay_interval_seconds=0, log_json=False)  # fmt: skip
    database = SqlDatabase(bl_settings.database_url)
    bl_services.load_catalog(database.unit_of_work, parse_catalog(catalog_dict()))
    database.close()
    bl_server, bl_url = serve(create_business_logic(bl_settings))
    servers.append(bl_server)
    ui_settings = UiSettings(var_dir=tmp_path / "ui", business_logic_url=bl_url,
                             business_logic_timeout_seconds=UI_BUDGET, log_json=False)  # fmt: skip
    ui_server, ui_url = serve(create_ui(ui_settings))
    servers.append(ui_server)
    try:
        yield ui_url, HungEngine(seen, release, engine_url)
    finally:
        release.set()
        for server in servers:
            server.shutdown()


def test_a_click_against_a_hung_engine_sends_it_one_request_and_gets_a_clear_503_in_time(
    chain: tuple[str, HungEngine],
) -> None:
    ui_url, engine = chain
    basket = {"restaurant_id": "r-000001", "basket": [{"item_id": "i-000001-01", "quantity": 2}]}
    started = time.monotonic()
    answer = httpx.post(f"{ui_url}/api/etd", json=basket, timeout=30)
    elapsed = time.monotonic() - started

    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == "ETD temporarily unavailable: inference engine unavailable"
    assert elapsed < UI_BUDGET
    time.sleep(0.5)  # a retry, had there been one, would have reached the engine by now
    assert len(engine.requests) == 1
    # each hop gave the next one less time than it had itself
    assert 0 < int(engine.requests[0]["deadline_ms"]) < HOP_TIMEOUT * 1000


def test_a_chat_question_against_a_hung_engine_gets_the_fallback_in_time(chain: tuple[str, HungEngine]) -> None:
    ui_url, engine = chain
    started = time.monotonic()
    answer = httpx.post(f"{ui_url}/api/help/ask", json={"text": "where is my order?"}, timeout=30)
    elapsed = time.monotonic() - started

    assert answer.status_code == 200 and answer.json()["source"] == "fallback", json.dumps(answer.json())
    assert elapsed < UI_BUDGET
    time.sleep(0.5)
    assert [request["model"] for request in engine.requests] == ["helpbot"]
