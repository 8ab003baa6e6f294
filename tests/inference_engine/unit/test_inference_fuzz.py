"""Schemathesis over the inference engine's OpenAPI document (tests/fuzz.py): no 5xx, every answer as documented."""

from __future__ import annotations

import time

import pytest
from inference_fakes import FakeRegistry

from inference_engine.entrypoints.app import create_app
from inference_engine.settings import Settings
from strata_kernel import background
from strata_kernel.contracts.auth import OPERATOR
from tests.fuzz import fuzz_openapi
from tests.support import service_credential_for


@pytest.mark.fuzz
def test_the_engine_never_answers_5xx_nor_off_its_schema(settings: Settings, registry: FakeRegistry) -> None:
    app = create_app(settings.model_copy(update={"routing_poll_seconds": 0}), registry=registry)
    background.start(app)  # what the server does in each worker after the fork: load the models
    client = app.test_client()
    deadline = time.monotonic() + 30
    while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    operator = service_credential_for(settings, OPERATOR).header()

    assert fuzz_openapi(app, headers=operator) > 50
    assert fuzz_openapi(app) > 50
