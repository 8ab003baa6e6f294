"""Schemathesis over data processing's OpenAPI document (tests/fuzz.py): no 5xx, every answer as documented."""

from __future__ import annotations

from datetime import datetime

import pytest

from data_processing.domain.online import FeatureValue, OnlineRow
from data_processing.entrypoints.app import create_app
from data_processing.settings import Settings
from strata_kernel.contracts.auth import OPERATOR
from tests.data_processing.fakes import InMemoryOnlineStore, RecordingInferenceEngine
from tests.data_processing.help_fakes import FakeHelpEngine
from tests.fuzz import fuzz_openapi
from tests.support import service_credential_for


@pytest.mark.fuzz
def test_data_processing_never_answers_5xx_nor_off_its_schema(settings: Settings) -> None:
    store = InMemoryOnlineStore()
    values: dict[str, FeatureValue] = {
        "order_count_7d": 5,
        "avg_prep_minutes_7d": 10.0,
        "avg_delivery_minutes_7d": 30.0,
    }
    store.load_version("restaurant_stats", [OnlineRow("r-1", datetime(2025, 1, 10), values)])
    app = create_app(settings, online_store=store, inference_engine=RecordingInferenceEngine(value=27.5),
                     help_engine=FakeHelpEngine())  # fmt: skip
    operator = service_credential_for(settings, OPERATOR).header()

    assert fuzz_openapi(app, headers=operator) > 50
    assert fuzz_openapi(app) > 50
