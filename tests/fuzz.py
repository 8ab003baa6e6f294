"""A bounded, seeded schemathesis run over one service's OpenAPI document, in process.

Every operation gets ``FUZZ_EXAMPLES`` generated requests (valid and invalid ones, from the document's schemas);
the run asserts that none is answered 5xx and that every answer conforms to the documented response schema.
Marked ``fuzz``: `pytest -m "not fuzz"` leaves it out when CI must be quicker (it runs in `make test`).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

FUZZ_EXAMPLES = 12
FUZZ_SEED = 18


def fuzz_openapi(app: Any, headers: dict[str, str] | None = None, *, skip: tuple[str, ...] = ()) -> int:
    """Fuzz every operation of ``app``'s ``/openapi.json``; returns how many requests were sent. Raises on a 5xx or
    a response that does not match its documented schema (schemathesis names the operation and the request)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    sent = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # an operation schemathesis cannot read: its error names it (not an AttributeError)
        operation = result.ok()
        if operation.label in skip:
            continue

        @seed(FUZZ_SEED)
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            nonlocal sent
            response = case.call(headers=headers)
            sent += 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        exercise()
    return sent
