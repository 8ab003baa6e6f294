"""The inference engine over HTTP (strata_kernel.http.ServiceClient): serving version, validation, routing push.

Bodies are the published language's (strata_kernel.contracts.prediction / .routing).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from comparative_eval.ports import EngineClient
from strata_kernel.contracts.prediction import ModelDescription, ValidationReport, ValidationRequest
from strata_kernel.contracts.routing import RoutingRecord
from strata_kernel.errors import BadRequest, NotFound, UpstreamError
from strata_kernel.http import ServiceClient


class HttpEngineClient(EngineClient):
    def __init__(self, validate_client: ServiceClient, push_client: ServiceClient) -> None:
        # two clients: validation loads and warms a model (slow), a push must fail fast so the change answers
        self._validate = validate_client
        self._push = push_client

    def serving_version(self, model: str) -> str | None:
        try:
            body = self._push.get(f"/v1/models/{quote(model, safe='')}")
        except NotFound:
            return None
        try:
            return str(ModelDescription.from_wire(body).version)
        except BadRequest as exc:
            raise UpstreamError(f"inference_engine described {model} with an invalid body: {exc.message}") from exc

    def validate(
        self, model: str, version: str, instances: list[dict[str, Any]], latency_budget_ms: float
    ) -> ValidationReport:
        path = f"/v1/models/{quote(model, safe='')}/versions/{quote(version, safe='')}/validate"
        body = self._validate.post(path, ValidationRequest(instances, latency_budget_ms).to_wire())
        try:
            report = ValidationReport.from_wire(body)
        except BadRequest as exc:
            raise UpstreamError("inference_engine answered the validation without a boolean 'ok'") from exc
        return (
            report if report.instances else ValidationReport(report.ok, report.problems, report.p99_ms, len(instances))
        )

    def push_routing(self, routing: RoutingRecord) -> None:
        self._push.put(f"/v1/models/{quote(routing.model, safe='')}/routing", routing.to_wire())

    def close(self) -> None:
        self._validate.close()
        self._push.close()
