"""BusinessLogic port over HTTP with the kernel's ServiceClient.

The UI relays business_logic's answers *unchanged* (status and body, including an error's ``field``) with
``ServiceClient.relay``, keeping the client's timeouts, retries, request ids and 503-on-transport-failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from strata_kernel.errors import StrataError
from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply
from ui.ports import BusinessLogic


class HttpBusinessLogic(BusinessLogic):
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 5.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            "business_logic", base_url, timeout_seconds=timeout_seconds, retries=retries, transport=transport
        )

    def list_restaurants(self, filters: Mapping[str, str]) -> Reply:
        return self._relay("GET", "/v1/restaurants", params=dict(filters))

    def get_restaurant(self, restaurant_id: str) -> Reply:
        return self._relay("GET", f"/v1/restaurants/{quote(restaurant_id, safe='')}")

    def quote_etd(self, body: object) -> Reply:
        return self._relay("POST", "/v1/etd", json=body)

    def problem(self) -> str | None:
        try:
            reply = self._relay("GET", "/healthz")
        except StrataError as exc:
            return exc.message
        return None if reply.status == 200 else f"business_logic /healthz answered HTTP {reply.status}"

    def close(self) -> None:
        self._client.close()

    def _relay(self, method: str, path: str, **kwargs: Any) -> Reply:
        status, body = self._client.relay(method, path, **kwargs)
        return Reply(status=status, body=body)
