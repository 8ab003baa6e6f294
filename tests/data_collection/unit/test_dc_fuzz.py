"""Schemathesis over data collection's OpenAPI document (tests/fuzz.py): no 5xx, every answer as documented."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from dc_fakes import FakeQuarantine, FakeRawLake

from data_collection.entrypoints.app import create_app, start_collector, stop_collector
from data_collection.settings import Settings
from strata_kernel.eventlog.local import LocalEventLog
from tests.fuzz import fuzz_openapi


@pytest.mark.fuzz
def test_data_collection_never_answers_5xx_nor_off_its_schema(
    settings: Settings, fake_lake: FakeRawLake, tmp_path: Path
) -> None:
    app = create_app(settings, event_log=LocalEventLog(tmp_path / "eventlog"), lake=fake_lake,
                     quarantine=FakeQuarantine())  # fmt: skip
    start_collector(app)  # what the server does after the fork; until its loop runs, /readyz is a 503 by design
    try:
        client = app.test_client()
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)

        # its operations take no parameters: one distinct request each (/healthz, /readyz, /v1/status)
        assert fuzz_openapi(app) >= 3
    finally:
        stop_collector(app)
