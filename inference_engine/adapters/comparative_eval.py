"""RoutingSource over comparative_eval's ``GET /v1/deployments/{model}/routing`` (docs/contracts.md)."""

from __future__ import annotations

from typing import Any

from inference_engine.routing.ports import RoutingSource
from strata_kernel.errors import NotFound, UpstreamError
from strata_kernel.http import ServiceClient


class HttpRoutingSource(RoutingSource):
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def current(self, model: str) -> dict[str, Any] | None:
        try:
            record = self._client.get(f"/v1/deployments/{model}/routing")
        except NotFound:  # comparative_eval has no record of this model: serve the alias
            return None
        if not isinstance(record, dict):
            raise UpstreamError(f"comparative_eval answered a routing record that is not an object: {record!r}")
        return record

    def close(self) -> None:
        self._client.close()
