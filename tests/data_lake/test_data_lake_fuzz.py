"""Schemathesis over the data lake's OpenAPI document (tests/fuzz.py): no 5xx, every answer as documented."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.lake import LakeClient
from tests.fuzz import fuzz_openapi
from tests.support import service_credential_for


@pytest.mark.fuzz
def test_the_data_lake_api_never_answers_5xx_nor_off_its_schema(app: Any, settings: Any, lake: LakeClient) -> None:
    data = pa.table({"order_id": ["a", "b"], "minutes": [1.0, 2.0], "nominal_date": ["2024-05-01", "2024-05-02"]})
    lake.write_arrow("raw.order_placed", data, partition_column="nominal_date", job="collect", inputs=[])
    operator = service_credential_for(settings, OPERATOR).header()

    assert fuzz_openapi(app, headers=operator) > 50
    assert fuzz_openapi(app) > 50  # and as an anonymous caller
