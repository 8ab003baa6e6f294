"""Schemathesis over business logic's OpenAPI document (tests/fuzz.py): no 5xx, every answer as documented."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.fuzz import fuzz_openapi


@pytest.mark.fuzz
def test_business_logic_never_answers_5xx_nor_off_its_schema(client: FlaskClient) -> None:
    assert fuzz_openapi(client.application) > 50  # its routes are public: an end user's requests
