"""The inference engine over HTTP (strata_kernel.http.ServiceClient): serving version, validation, routing push."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from comparative_eval.ports import EngineClient, ValidationReport
from strata_kernel.errors import NotFound, UpstreamError
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
        version = body.get("version") if isinstance(body, dict) else None
        return None if version is None else str(version)

    def validate(
        self, model: str, version: str, instances: list[dict[str, Any]], latency_budget_ms: float
    ) -> ValidationReport:
        path = f"/v1/models/{quote(model, safe='')}/versions/{quote(version, safe='')}/validate"
        body = self._validate.post(path, {"instances": instances, "latency_budget_ms": latency_budget_ms})
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise UpstreamError("inference_engine answered the validation without a boolean 'ok'")
        p99 = body.get("p99_ms")
        return ValidationReport(
            ok=body["ok"],
            problems=[str(problem) for problem in body.get("problems") or []],
            p99_ms=float(p99) if isinstance(p99, int | float) else None,
            instances=int(body.get("instances") or len(instances)),
        )

    def push_routing(self, routing: dict[str, Any]) -> None:
        self._push.put(f"/v1/models/{quote(routing['model'], safe='')}/routing", routing)

    def close(self) -> None:
        self._validate.close()
        self._push.close()
