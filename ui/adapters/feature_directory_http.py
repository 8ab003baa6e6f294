"""FeatureDirectory port over HTTP: data_processing's directory API, relayed unchanged (status and body)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from strata_kernel.http import ServiceClient
from ui.domain.reply import Reply
from ui.ports import FeatureDirectory


class HttpFeatureDirectory(FeatureDirectory):
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 2.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = ServiceClient(
            "data_processing", base_url, timeout_seconds=timeout_seconds, retries=retries, transport=transport
        )

    def list_groups(self, text: str) -> Reply:
        return self._relay("GET", "/v1/feature-groups", params={"q": text} if text else None)

    def get_group(self, name: str) -> Reply:
        return self._relay("GET", f"/v1/feature-groups/{quote(name, safe='')}")

    def get_feature(self, expression: str) -> Reply:
        return self._relay("GET", f"/v1/features/{quote(expression, safe='')}")

    def close(self) -> None:
        self._client.close()

    def _relay(self, method: str, path: str, **kwargs: Any) -> Reply:
        status, body = self._client.relay(method, path, **kwargs)
        return Reply(status=status, body=body)
